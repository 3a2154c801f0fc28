package clientes_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/apptest"
	"github.com/banpro/factoring/internal/database"
	dt "github.com/banpro/factoring/internal/domaintest"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/rut"
	"github.com/banpro/factoring/internal/testdb"
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

// TestMutacionesGraphQL runs the cliente mutations through the whole API
// and checks that their errors reach the client with extensions.code and
// extensions.fields.
func TestMutacionesGraphQL(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		client, _ := apptest.Serve(t, db, apptest.Options{})
		b := dt.Body()

		var created struct{ CrearCliente clienteGQL }
		client.MustData(crearCliente, map[string]any{"input": map[string]any{
			"rut": dt.Spellings(b)[3], "razonSocial": " Exportadora Sur SpA ", "email": "pagos@sur.cl",
			"giro": "Exportación", "lineaCredito": 5000000,
		}}, &created)
		c := created.CrearCliente
		assert.Equal(t, rut.Format(b, rut.CheckDigit(b)), c.Rut)
		assert.Equal(t, "Exportadora Sur SpA", c.RazonSocial)
		assert.Equal(t, "PENDIENTE", c.Estado)
		assert.Equal(t, "5000000.00", c.LineaCredito)
		assert.Equal(t, "5000000.00", c.LineaDisponible)
		assert.Equal(t, "0.00", c.LineaUtilizada)

		t.Run("crearCliente_rut_duplicado", func(t *testing.T) {
			e := client.MustFail(crearCliente, map[string]any{"input": map[string]any{
				"rut": dt.Spellings(b)[1], "razonSocial": "Otra", "email": "a@b.cl", "lineaCredito": "0",
			}})
			dt.RequireGQLError(t, e, apperror.Conflict, "rut")
		})
		t.Run("crearCliente_datos_invalidos", func(t *testing.T) {
			e := client.MustFail(crearCliente, map[string]any{"input": map[string]any{
				"rut": "12.345.678-9", "razonSocial": "", "email": "x", "lineaCredito": "-1",
			}})
			dt.RequireGQLError(t, e, apperror.Validation, "rut", "razonSocial", "email", "lineaCredito")
		})
		t.Run("crearCliente_decimal_mal_escrito", func(t *testing.T) {
			for _, bad := range []any{"abc", "1.001", 1.5, "12345678901234"} {
				e := client.MustFail(crearCliente, map[string]any{"input": map[string]any{
					"rut": dt.NewRUT(), "razonSocial": "X", "email": "a@b.cl", "lineaCredito": bad,
				}})
				dt.RequireGQLError(t, e, apperror.Validation, "lineaCredito")
			}
		})
		t.Run("actualizarCliente", func(t *testing.T) {
			e := client.MustFail(`mutation($id: ID!) { actualizarCliente(id: $id, input: {email: "malo"}) { id } }`,
				map[string]any{"id": c.ID})
			dt.RequireGQLError(t, e, apperror.Validation, "email")
			e = client.MustFail(`mutation($id: ID!) { actualizarCliente(id: $id, input: {giro: "x"}) { id } }`,
				map[string]any{"id": gid.Encode(missingID)})
			dt.RequireGQLError(t, e, apperror.NotFound)

			var out struct{ ActualizarCliente clienteGQL }
			client.MustData(`mutation($id: ID!) { actualizarCliente(id: $id, input: {giro: "", telefono: "+56 2 2222 2222"}) { `+clienteFields+` } }`,
				map[string]any{"id": c.ID}, &out)
			assert.Nil(t, out.ActualizarCliente.Giro, "blank giro clears it")
			assert.Equal(t, "+56 2 2222 2222", *out.ActualizarCliente.Telefono)
			assert.Equal(t, c.Rut, out.ActualizarCliente.Rut)
		})
		t.Run("ajustarLineaCredito", func(t *testing.T) {
			e := client.MustFail(`mutation($id: ID!) { ajustarLineaCredito(id: $id, lineaCredito: "-5") { id } }`,
				map[string]any{"id": c.ID})
			dt.RequireGQLError(t, e, apperror.Validation, "lineaCredito")

			var out struct{ AjustarLineaCredito clienteGQL }
			client.MustData(`mutation($id: ID!) { ajustarLineaCredito(id: $id, lineaCredito: "7000000.10") { `+clienteFields+` } }`,
				map[string]any{"id": c.ID}, &out)
			assert.Equal(t, "7000000.10", out.AjustarLineaCredito.LineaCredito)
			assert.Equal(t, "7000000.10", out.AjustarLineaCredito.LineaDisponible)
		})
		t.Run("suspenderCliente_desde_pendiente", func(t *testing.T) {
			e := client.MustFail(`mutation($id: ID!) { suspenderCliente(id: $id, motivo: "x") { id } }`, map[string]any{"id": c.ID})
			dt.RequireGQLError(t, e, apperror.Conflict)
			assert.Contains(t, e.Message, "PENDIENTE", "the CONFLICT names the current state")
		})
		t.Run("bloquearCliente_sin_motivo", func(t *testing.T) {
			e := client.MustFail(`mutation($id: ID!) { bloquearCliente(id: $id, motivo: "  ") { id } }`, map[string]any{"id": c.ID})
			dt.RequireGQLError(t, e, apperror.Validation, "motivo")
		})
		t.Run("activarCliente_bloqueado", func(t *testing.T) {
			var out struct{ BloquearCliente clienteGQL }
			client.MustData(`mutation($id: ID!) { bloquearCliente(id: $id, motivo: "Fraude") { `+clienteFields+` } }`,
				map[string]any{"id": c.ID}, &out)
			require.Equal(t, "BLOQUEADO", out.BloquearCliente.Estado)
			assert.Equal(t, "Fraude", *out.BloquearCliente.MotivoEstado)

			e := client.MustFail(`mutation($id: ID!) { activarCliente(id: $id) { id } }`, map[string]any{"id": c.ID})
			dt.RequireGQLError(t, e, apperror.Conflict)
			assert.Contains(t, e.Message, "BLOQUEADO", "the CONFLICT names the current state")
		})
		t.Run("id_mal_formado", func(t *testing.T) {
			e := client.MustFail(`mutation { activarCliente(id: "no-es-un-id") { id } }`, nil)
			dt.RequireGQLError(t, e, apperror.Validation, "id")
		})
	})
}
