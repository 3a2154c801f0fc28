package facturas_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/apptest"
	"github.com/banpro/factoring/internal/database"
	dt "github.com/banpro/factoring/internal/domaintest"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/testdb"
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

// TestMutacionesGraphQL runs the factura mutations through the whole API
// and checks that their errors reach the client with extensions.code and
// extensions.fields.
func TestMutacionesGraphQL(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		env := dt.New(t, db)
		client, _ := apptest.Serve(t, db, apptest.Options{})
		c := env.MustCrearClienteActivo(t, "1000000")
		input := func(edit func(map[string]any)) map[string]any {
			in := dt.FacturaInput(c.ID, "1", dt.Vence(30))
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

		var out struct{ RegistrarFactura facturaGQL }
		vars := input(nil)
		client.MustData(registrar, vars, &out)
		f := out.RegistrarFactura
		assert.Equal(t, "DISPONIBLE", f.Estado)
		assert.Equal(t, "125000.50", f.MontoTotal)
		assert.Equal(t, dt.Vence(30).Format(time.DateOnly), f.FechaVencimiento)

		t.Run("registrarFactura", func(t *testing.T) {
			e := client.MustFail(registrar, input(func(m map[string]any) { m["fechaVencimiento"] = m["fechaEmision"] }))
			dt.RequireGQLError(t, e, apperror.Validation, "fechaVencimiento")

			e = client.MustFail(registrar, input(func(m map[string]any) { m["montoTotal"] = "0" }))
			dt.RequireGQLError(t, e, apperror.Validation, "montoTotal")

			e = client.MustFail(registrar, input(func(m map[string]any) { m["numeroFactura"] = f.NumeroFactura }))
			dt.RequireGQLError(t, e, apperror.Conflict, "numeroFactura")

			e = client.MustFail(registrar, input(func(m map[string]any) { m["clienteId"] = gid.Encode(missingClienteID) }))
			dt.RequireGQLError(t, e, apperror.NotFound)

			e = client.MustFail(registrar, input(func(m map[string]any) { m["rutDeudor"] = c.Rut }))
			dt.RequireGQLError(t, e, apperror.Validation, "rutDeudor")

			e = client.MustFail(registrar, input(func(m map[string]any) { m["fechaEmision"] = "26-11-2026" }))
			dt.RequireGQLError(t, e, apperror.Validation, "fechaEmision")

			// Dates a reviewer sent: accepted before, then crearOperacion on
			// the 9999 one answered INTERNAL_ERROR.
			e = client.MustFail(registrar, input(func(m map[string]any) { m["fechaVencimiento"] = "9999-12-31" }))
			dt.RequireGQLError(t, e, apperror.Validation, "fechaVencimiento")
			e = client.MustFail(registrar, input(func(m map[string]any) { m["fechaEmision"] = "0000-01-01" }))
			dt.RequireGQLError(t, e, apperror.Validation, "fechaEmision", "fechaVencimiento")
			e = client.MustFail(registrar, input(func(m map[string]any) {
				m["fechaEmision"], m["fechaVencimiento"] = "2026-11-27", "2026-12-27"
			}))
			dt.RequireGQLError(t, e, apperror.Validation, "fechaEmision")
		})

		t.Run("anularFactura_y_pagarFactura", func(t *testing.T) {
			var paid struct{ PagarFactura facturaGQL }
			client.MustData(`mutation($id: ID!) { pagarFactura(id: $id) { id estado } }`, map[string]any{"id": f.ID}, &paid)
			assert.Equal(t, "PAGADA", paid.PagarFactura.Estado)

			e := client.MustFail(`mutation($id: ID!) { anularFactura(id: $id, motivo: "x") { id } }`, map[string]any{"id": f.ID})
			dt.RequireGQLError(t, e, apperror.Conflict)
			assert.Contains(t, e.Message, "PAGADA", "the CONFLICT names the current state")

			e = client.MustFail(`mutation($id: ID!) { pagarFactura(id: $id) { id } }`, map[string]any{"id": f.ID})
			dt.RequireGQLError(t, e, apperror.Conflict)
			assert.Contains(t, e.Message, "PAGADA")

			e = client.MustFail(`mutation($id: ID!) { pagarFactura(id: $id) { id } }`, map[string]any{"id": gid.Encode(1<<32 + 999_999)})
			dt.RequireGQLError(t, e, apperror.NotFound)
		})
	})
}
