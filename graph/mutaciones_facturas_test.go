package graph_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/testkit"
)

const registrar = `mutation($input: RegistrarFacturaInput!) {
  registrarFactura(input: $input) { id numeroFactura rutDeudor montoTotal fechaEmision fechaVencimiento estado }
}`

type facturaGQL struct {
	ID               string `json:"id"`
	NumeroFactura    string `json:"numeroFactura"`
	RutDeudor        string `json:"rutDeudor"`
	MontoTotal       string `json:"montoTotal"`
	FechaEmision     string `json:"fechaEmision"`
	FechaVencimiento string `json:"fechaVencimiento"`
	Estado           string `json:"estado"`
	MotivoAnulacion  string `json:"motivoAnulacion"`
}

// TestMutacionesFacturasGraphQL runs the factura mutations through the
// whole API and checks that their errors reach the client with
// extensions.code and extensions.fields.
func TestMutacionesFacturasGraphQL(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		client, _ := testkit.Serve(t, db, testkit.ServeOptions{})
		c := env.MustCrearClienteActivo(t, "1000000")
		input := func(edit func(map[string]any)) map[string]any {
			in := testkit.FacturaInput(c.ID, "1", testkit.Vence(30))
			m := map[string]any{
				"clienteId": gid.Encode(c.ID), "numeroFactura": in.NumeroFactura, "rutDeudor": in.RutDeudor,
				"razonSocialDeudor": in.RazonSocialDeudor, "montoTotal": "125000.50",
				"fechaEmision": in.FechaEmision.Format(time.DateOnly), "fechaVencimiento": in.FechaVencimiento.Format(time.DateOnly),
			}
			if edit != nil {
				edit(m)
			}
			return map[string]any{"input": m}
		}

		f := testkit.Data[struct{ RegistrarFactura facturaGQL }](t, client, registrar, input(nil)).RegistrarFactura
		assert.Equal(t, "DISPONIBLE", f.Estado)
		assert.Equal(t, "125000.50", f.MontoTotal)
		assert.Equal(t, testkit.Vence(30).Format(time.DateOnly), f.FechaVencimiento)

		t.Run("registrarFactura", func(t *testing.T) {
			testkit.RequireGQLError(t, client.Do(registrar, input(func(m map[string]any) { m["fechaVencimiento"] = m["fechaEmision"] })),
				apperror.Validation, "fechaVencimiento")
			testkit.RequireGQLError(t, client.Do(registrar, input(func(m map[string]any) { m["montoTotal"] = "0" })),
				apperror.Validation, "montoTotal")
			testkit.RequireGQLError(t, client.Do(registrar, input(func(m map[string]any) { m["numeroFactura"] = f.NumeroFactura })),
				apperror.Conflict, "numeroFactura")
			testkit.RequireGQLError(t, client.Do(registrar, input(func(m map[string]any) { m["clienteId"] = gid.Encode(missingCliente) })),
				apperror.NotFound)
			testkit.RequireGQLError(t, client.Do(registrar, input(func(m map[string]any) { m["rutDeudor"] = c.Rut })),
				apperror.Validation, "rutDeudor")
			testkit.RequireGQLError(t, client.Do(registrar, input(func(m map[string]any) { m["fechaEmision"] = "26-11-2026" })),
				apperror.Validation, "fechaEmision")

			// Dates a reviewer sent: accepted before, then crearOperacion on
			// the 9999 one answered INTERNAL_ERROR.
			testkit.RequireGQLError(t, client.Do(registrar, input(func(m map[string]any) { m["fechaVencimiento"] = "9999-12-31" })),
				apperror.Validation, "fechaVencimiento")
			testkit.RequireGQLError(t, client.Do(registrar, input(func(m map[string]any) { m["fechaEmision"] = "0000-01-01" })),
				apperror.Validation, "fechaEmision", "fechaVencimiento")
			testkit.RequireGQLError(t, client.Do(registrar, input(func(m map[string]any) {
				m["fechaEmision"], m["fechaVencimiento"] = "2026-11-27", "2026-12-27"
			})), apperror.Validation, "fechaEmision")
		})

		t.Run("anularFactura_y_pagarFactura", func(t *testing.T) {
			paid := testkit.Data[struct{ PagarFactura facturaGQL }](t, client, `mutation($id: ID!) { pagarFactura(id: $id) { id estado } }`, map[string]any{"id": f.ID})
			assert.Equal(t, "PAGADA", paid.PagarFactura.Estado)

			e := testkit.RequireGQLError(t, client.Do(`mutation($id: ID!) { anularFactura(id: $id, motivo: "x") { id } }`, map[string]any{"id": f.ID}),
				apperror.Conflict)
			assert.Contains(t, e.Message, "PAGADA", "the CONFLICT names the current state")

			e = testkit.RequireGQLError(t, client.Do(`mutation($id: ID!) { pagarFactura(id: $id) { id } }`, map[string]any{"id": f.ID}),
				apperror.Conflict)
			assert.Contains(t, e.Message, "PAGADA")

			testkit.RequireGQLError(t, client.Do(`mutation($id: ID!) { pagarFactura(id: $id) { id } }`, map[string]any{"id": gid.Encode(missingFactura)}),
				apperror.NotFound)
		})
	})
}
