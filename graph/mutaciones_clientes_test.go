package graph_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/rut"
	"github.com/banpro/factoring/internal/testkit"
)

const clienteFields = `id rut razonSocial giro telefono email estado motivoEstado lineaCredito lineaDisponible lineaUtilizada`

type clienteGQL struct {
	ID              string  `json:"id"`
	Rut             string  `json:"rut"`
	RazonSocial     string  `json:"razonSocial"`
	Giro            *string `json:"giro"`
	Telefono        *string `json:"telefono"`
	Email           string  `json:"email"`
	Estado          string  `json:"estado"`
	MotivoEstado    *string `json:"motivoEstado"`
	LineaCredito    string  `json:"lineaCredito"`
	LineaDisponible string  `json:"lineaDisponible"`
	LineaUtilizada  string  `json:"lineaUtilizada"`
}

const crearCliente = `mutation($input: CrearClienteInput!) { crearCliente(input: $input) { ` + clienteFields + ` } }`

// TestMutacionesClientesGraphQL runs the cliente mutations through the
// whole API and checks that their errors reach the client with
// extensions.code and extensions.fields.
func TestMutacionesClientesGraphQL(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		client, _ := testkit.Serve(t, db, testkit.ServeOptions{})
		b := testkit.Body()

		created := testkit.Data[struct{ CrearCliente clienteGQL }](t, client, crearCliente, map[string]any{"input": map[string]any{
			"rut": testkit.Spellings(b)[3], "razonSocial": " Exportadora Sur SpA ", "email": "pagos@sur.cl",
			"giro": "Exportación", "lineaCredito": 5000000,
		}})
		c := created.CrearCliente
		assert.Equal(t, rut.Format(b, rut.CheckDigit(b)), c.Rut)
		assert.Equal(t, "Exportadora Sur SpA", c.RazonSocial)
		assert.Equal(t, "PENDIENTE", c.Estado)
		assert.Equal(t, "5000000.00", c.LineaCredito)
		assert.Equal(t, "5000000.00", c.LineaDisponible)
		assert.Equal(t, "0.00", c.LineaUtilizada)

		t.Run("crearCliente_rut_duplicado", func(t *testing.T) {
			testkit.RequireGQLError(t, client.Do(crearCliente, map[string]any{"input": map[string]any{
				"rut": testkit.Spellings(b)[1], "razonSocial": "Otra", "email": "a@b.cl", "lineaCredito": "0",
			}}), apperror.Conflict, "rut")
		})
		t.Run("crearCliente_datos_invalidos", func(t *testing.T) {
			testkit.RequireGQLError(t, client.Do(crearCliente, map[string]any{"input": map[string]any{
				"rut": "12.345.678-9", "razonSocial": "", "email": "x", "lineaCredito": "-1",
			}}), apperror.Validation, "rut", "razonSocial", "email", "lineaCredito")
		})
		t.Run("crearCliente_decimal_mal_escrito", func(t *testing.T) {
			for _, bad := range []any{"abc", "1.001", 1.5, "12345678901234"} {
				testkit.RequireGQLError(t, client.Do(crearCliente, map[string]any{"input": map[string]any{
					"rut": testkit.NewRUT(), "razonSocial": "X", "email": "a@b.cl", "lineaCredito": bad,
				}}), apperror.Validation, "lineaCredito")
			}
		})
		t.Run("actualizarCliente", func(t *testing.T) {
			testkit.RequireGQLError(t, client.Do(`mutation($id: ID!) { actualizarCliente(id: $id, input: {email: "malo"}) { id } }`,
				map[string]any{"id": c.ID}), apperror.Validation, "email")
			testkit.RequireGQLError(t, client.Do(`mutation($id: ID!) { actualizarCliente(id: $id, input: {giro: "x"}) { id } }`,
				map[string]any{"id": gid.Encode(missingCliente)}), apperror.NotFound)

			out := testkit.Data[struct{ ActualizarCliente clienteGQL }](t, client, `mutation($id: ID!) { actualizarCliente(id: $id, input: {giro: "", telefono: "+56 2 2222 2222"}) { `+clienteFields+` } }`,
				map[string]any{"id": c.ID})
			assert.Nil(t, out.ActualizarCliente.Giro, "blank giro clears it")
			assert.Equal(t, "+56 2 2222 2222", *out.ActualizarCliente.Telefono)
			assert.Equal(t, c.Rut, out.ActualizarCliente.Rut)
		})
		t.Run("ajustarLineaCredito", func(t *testing.T) {
			testkit.RequireGQLError(t, client.Do(`mutation($id: ID!) { ajustarLineaCredito(id: $id, lineaCredito: "-5") { id } }`,
				map[string]any{"id": c.ID}), apperror.Validation, "lineaCredito")

			out := testkit.Data[struct{ AjustarLineaCredito clienteGQL }](t, client, `mutation($id: ID!) { ajustarLineaCredito(id: $id, lineaCredito: "7000000.10") { `+clienteFields+` } }`,
				map[string]any{"id": c.ID})
			assert.Equal(t, "7000000.10", out.AjustarLineaCredito.LineaCredito)
			assert.Equal(t, "7000000.10", out.AjustarLineaCredito.LineaDisponible)
		})
		t.Run("suspenderCliente_desde_pendiente", func(t *testing.T) {
			e := testkit.RequireGQLError(t, client.Do(`mutation($id: ID!) { suspenderCliente(id: $id, motivo: "x") { id } }`, map[string]any{"id": c.ID}),
				apperror.Conflict)
			assert.Contains(t, e.Message, "PENDIENTE", "the CONFLICT names the current state")
		})
		t.Run("bloquearCliente_sin_motivo", func(t *testing.T) {
			testkit.RequireGQLError(t, client.Do(`mutation($id: ID!) { bloquearCliente(id: $id, motivo: "  ") { id } }`, map[string]any{"id": c.ID}),
				apperror.Validation, "motivo")
		})
		t.Run("activarCliente_bloqueado", func(t *testing.T) {
			out := testkit.Data[struct{ BloquearCliente clienteGQL }](t, client, `mutation($id: ID!) { bloquearCliente(id: $id, motivo: "Fraude") { `+clienteFields+` } }`,
				map[string]any{"id": c.ID})
			require.Equal(t, "BLOQUEADO", out.BloquearCliente.Estado)
			assert.Equal(t, "Fraude", *out.BloquearCliente.MotivoEstado)

			e := testkit.RequireGQLError(t, client.Do(`mutation($id: ID!) { activarCliente(id: $id) { id } }`, map[string]any{"id": c.ID}),
				apperror.Conflict)
			assert.Contains(t, e.Message, "BLOQUEADO", "the CONFLICT names the current state")
		})
		t.Run("id_mal_formado", func(t *testing.T) {
			testkit.RequireGQLError(t, client.Do(`mutation { activarCliente(id: "no-es-un-id") { id } }`, nil),
				apperror.Validation, "id")
		})
	})
}
