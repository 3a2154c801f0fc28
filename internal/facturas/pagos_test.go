package facturas_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/eventoauditoria"
	"github.com/banpro/factoring/ent/pago"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/facturas"
	"github.com/banpro/factoring/internal/testkit"
)

// pagoDe is a payment of monto on hoy to factura id.
func pagoDe(id int, monto string) facturas.RegistrarPagoInput {
	return facturas.RegistrarPagoInput{FacturaID: id, Monto: testkit.Dec(monto), Fecha: testkit.HoyFecha}
}

// tiposDe lists the audit tipos of factura id, in order.
func tiposDe(t *testing.T, env *testkit.Env, id int) []estado.TipoAuditoria {
	t.Helper()
	evs, err := env.DB.Client.EventoAuditoria.Query().Where(eventoauditoria.FacturaID(id)).
		Order(ent.Asc(eventoauditoria.FieldID)).All(ctx)
	require.NoError(t, err)
	out := make([]estado.TipoAuditoria, len(evs))
	for i, e := range evs {
		out[i] = e.Tipo
	}
	return out
}

// cedida is a factura of cliente for monto due on vence, ceded in an
// approved operación of its own.
func cedida(t *testing.T, env *testkit.Env, cliente int, monto string, vence time.Time) *ent.Factura {
	t.Helper()
	f := env.MustRegistrarFactura(t, cliente, monto, vence)
	op := env.MustCrearOperacion(t, cliente, f.ID)
	_, err := env.Svc.Operaciones.Aprobar(ctx, op.ID)
	require.NoError(t, err)
	return env.Factura(t, f.ID)
}

// TestRegistrarPago ensures that a payment adds to montoPagado and lowers
// the saldo, that the factura is PAGADA exactly when its saldo reaches
// zero (and what was paid above it is the overpayment), that pagarFactura
// pays whatever saldo is left, today, and that each payment is audited
// once, as a partial payment or as the one that settled the factura.
func TestRegistrarPago(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		svc := env.Svc.Facturas
		c := env.MustCrearClienteActivo(t, "10000000.00")

		t.Run("parcial_luego_exacto", func(t *testing.T) {
			ids := []int{cedida(t, env, c.ID, "1000.00", testkit.Vence(30)).ID} // issued 30 days ago
			in := pagoDe(ids[0], "300.00")
			in.Fecha = testkit.Vence(-1)
			in.Referencia = testkit.Ptr("  TRF-0001 ")
			p, err := svc.RegistrarPago(ctx, in)
			require.NoError(t, err)
			assert.Equal(t, "300.00", p.Monto.StringFixed(2))
			assert.True(t, p.Fecha.Equal(testkit.Vence(-1)), "the date the debtor paid, not today")
			assert.Equal(t, "TRF-0001", *p.Referencia)
			assert.Equal(t, "anonimo", p.Actor)
			require.NotNil(t, p.Edges.Factura)
			assert.Equal(t, estado.FacturaCedida, p.Edges.Factura.Estado, "a partial payment leaves the state alone")
			f := env.Factura(t, ids[0])
			assert.Equal(t, "300.00", f.MontoPagado.StringFixed(2))
			assert.Equal(t, "700.00", facturas.Saldo(f).StringFixed(2))

			_, err = svc.RegistrarPago(ctx, pagoDe(ids[0], "700.00"))
			require.NoError(t, err)
			f = env.Factura(t, ids[0])
			assert.Equal(t, estado.FacturaPagada, f.Estado)
			assert.True(t, facturas.Saldo(f).IsZero())
			assert.True(t, facturas.Sobrepago(f).IsZero())
			assert.Equal(t, []estado.TipoAuditoria{estado.AudFacturaRegistrada, estado.AudFacturaPagoRegistrado, estado.AudFacturaPagada},
				tiposDe(t, env, ids[0]), "the partial payment, then the one that settled it (holding and ceding are the operación's entries)")
		})

		t.Run("de_mas_es_sobrepago", func(t *testing.T) {
			_, ids := env.MustOperacionAprobada(t, c.ID, "1000.00")
			_, err := svc.RegistrarPago(ctx, pagoDe(ids[0], "1000.50"))
			require.NoError(t, err)
			f := env.Factura(t, ids[0])
			assert.Equal(t, estado.FacturaPagada, f.Estado)
			assert.Equal(t, "0.50", facturas.Sobrepago(f).StringFixed(2))
			assert.True(t, facturas.Saldo(f).IsZero())
		})

		t.Run("pagar_factura_paga_el_saldo_hoy", func(t *testing.T) {
			f := env.MustRegistrarFactura(t, c.ID, "1000.00", testkit.Vence(30))
			_, err := svc.RegistrarPago(ctx, pagoDe(f.ID, "250.00"))
			require.NoError(t, err)
			got, err := svc.Pagar(ctx, f.ID)
			require.NoError(t, err)
			assert.Equal(t, estado.FacturaPagada, got.Estado)
			assert.Equal(t, "1000.00", got.MontoPagado.StringFixed(2))
			pagos, err := env.DB.Client.Pago.Query().Where(pago.FacturaID(f.ID)).Order(ent.Asc(pago.FieldID)).All(ctx)
			require.NoError(t, err)
			require.Len(t, pagos, 2)
			assert.Equal(t, "750.00", pagos[1].Monto.StringFixed(2), "what was left")
			assert.True(t, pagos[1].Fecha.Equal(testkit.HoyFecha), "today")
			assert.Nil(t, pagos[1].Referencia)
		})
		testkit.RequireVerificado(t, db)
	})
}

// TestRegistrarPagoErrores ensures that every refused payment says why with
// its code and the field to blame, and changes nothing.
func TestRegistrarPagoErrores(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		svc := env.Svc.Facturas
		c := env.MustCrearClienteActivo(t, "10000000.00")
		libre := env.MustRegistrarFactura(t, c.ID, "1000.00", testkit.Vence(30))
		pagada := env.MustRegistrarFactura(t, c.ID, "1000.00", testkit.Vence(30))
		env.MustPagarTodas(t, pagada.ID)
		anulada := env.MustRegistrarFactura(t, c.ID, "1000.00", testkit.Vence(30))
		_, err := svc.Anular(ctx, anulada.ID, nil)
		require.NoError(t, err)
		_, retenidas := env.MustOperacionPendiente(t, c.ID, "1000.00")

		cases := []struct {
			name   string
			in     facturas.RegistrarPagoInput
			code   apperror.Code
			fields []string
		}{
			{"monto_no_positivo", pagoDe(libre.ID, "0"), apperror.Validation, []string{"monto"}},
			{"monto_negativo", pagoDe(libre.ID, "-10.00"), apperror.Validation, []string{"monto"}},
			{"fecha_futura", func() facturas.RegistrarPagoInput {
				in := pagoDe(libre.ID, "10.00")
				in.Fecha = testkit.Vence(1)
				return in
			}(), apperror.Validation, []string{"fecha"}},
			{"fecha_anterior_a_la_emision", func() facturas.RegistrarPagoInput {
				in := pagoDe(libre.ID, "10.00")
				in.Fecha = libre.FechaEmision.AddDate(0, 0, -1)
				return in
			}(), apperror.Validation, []string{"fecha"}},
			{"referencia_larga", func() facturas.RegistrarPagoInput {
				in := pagoDe(libre.ID, "10.00")
				in.Referencia = testkit.Ptr(strings.Repeat("ñ", 256))
				return in
			}(), apperror.Validation, []string{"referencia"}},
			{"varios_campos_a_la_vez", func() facturas.RegistrarPagoInput {
				in := pagoDe(libre.ID, "-1")
				in.Fecha = testkit.Vence(1)
				return in
			}(), apperror.Validation, []string{"monto", "fecha"}},
			{"lo_pagado_no_cabe_en_un_monto", func() facturas.RegistrarPagoInput {
				return pagoDe(libre.ID, "9999999999999.99")
			}(), apperror.Validation, []string{"monto"}},
			{"factura_inexistente", pagoDe(libre.ID+100_000, "10.00"), apperror.NotFound, nil},
			{"ya_pagada", pagoDe(pagada.ID, "10.00"), apperror.Conflict, nil},
			{"anulada", pagoDe(anulada.ID, "10.00"), apperror.Conflict, nil},
			{"retenida_por_una_operacion_pendiente", pagoDe(retenidas[0], "10.00"), apperror.Conflict, nil},
		}
		_, err = svc.RegistrarPago(ctx, pagoDe(libre.ID, "0.01")) // so that the overflow case adds to something
		require.NoError(t, err)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := env.Snapshot(t)
				_, err := svc.RegistrarPago(ctx, tc.in)
				testkit.RequireCode(t, err, tc.code, tc.fields...)
				assert.Equal(t, before, env.Snapshot(t), "a refused payment changes nothing")
			})
		}
		t.Run("pagar_factura_pagada_o_anulada", func(t *testing.T) {
			for _, id := range []int{pagada.ID, anulada.ID, retenidas[0]} {
				_, err := svc.Pagar(ctx, id)
				e := testkit.RequireCode(t, err, apperror.Conflict)
				assert.Contains(t, e.Message, "estado")
			}
		})
		testkit.RequireVerificado(t, db)
	})
}

// TestPagosConcurrentes ensures that payments to one factura at the same
// instant add up exactly: each one reads the saldo the one before left (the
// factura's row lock serializes them), none is lost, and once the saldo is
// paid the rest are CONFLICT (the factura is PAGADA).
func TestPagosConcurrentes(t *testing.T) {
	db := testkit.Postgres(t)
	env := testkit.NewEnv(t, db)
	c := env.MustCrearClienteActivo(t, "10000000.00")
	const n = 16

	t.Run("dieciseis_que_suman_el_total", func(t *testing.T) {
		_, ids := env.MustOperacionAprobada(t, c.ID, "1000.00")
		errs := testkit.Race(n, func(int) error {
			_, err := env.Svc.Facturas.RegistrarPago(ctx, pagoDe(ids[0], "62.50"))
			return err
		})
		require.Equal(t, map[string]int{"OK": n}, testkit.Tally(errs), "errors: %v", errs)
		f := env.Factura(t, ids[0])
		assert.Equal(t, "1000.00", f.MontoPagado.StringFixed(2))
		assert.Equal(t, estado.FacturaPagada, f.Estado, "the last one settled it")
		suma, err := env.DB.Client.Pago.Query().Where(pago.FacturaID(ids[0])).Aggregate(ent.Sum(pago.FieldMonto)).Float64(ctx)
		require.NoError(t, err)
		assert.Equal(t, 1000.0, suma)
	})

	t.Run("dieciseis_de_los_que_caben_diez", func(t *testing.T) {
		_, ids := env.MustOperacionAprobada(t, c.ID, "1000.00")
		errs := testkit.Race(n, func(int) error {
			_, err := env.Svc.Facturas.RegistrarPago(ctx, pagoDe(ids[0], "100.00"))
			return err
		})
		require.Equal(t, map[string]int{"OK": 10, string(apperror.Conflict): 6}, testkit.Tally(errs), "errors: %v", errs)
		f := env.Factura(t, ids[0])
		assert.Equal(t, "1000.00", f.MontoPagado.StringFixed(2), "exactly the ten that were taken")
		assert.Equal(t, estado.FacturaPagada, f.Estado)
		n, err := env.DB.Client.Pago.Query().Where(pago.FacturaID(ids[0])).Count(ctx)
		require.NoError(t, err)
		assert.Equal(t, 10, n)
	})
	testkit.RequireVerificado(t, db)
}

// TestLosPagosSonSoloInsercion ensures that the database refuses to change
// or remove a payment, through ent or SQL, on both dialects.
func TestLosPagosSonSoloInsercion(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		c := env.MustCrearClienteActivo(t, "10000000.00")
		f := env.MustRegistrarFactura(t, c.ID, "1000.00", testkit.Vence(30))
		p, err := env.Svc.Facturas.RegistrarPago(ctx, pagoDe(f.ID, "10.00"))
		require.NoError(t, err)
		assert.Error(t, env.DB.Client.Pago.DeleteOneID(p.ID).Exec(ctx))
		_, err = env.DB.SQL.ExecContext(ctx, "UPDATE pagos SET monto = 1")
		assert.ErrorContains(t, err, "solo inserción")
		_, err = env.DB.SQL.ExecContext(ctx, "DELETE FROM pagos")
		assert.ErrorContains(t, err, "solo inserción")
		_, err = env.Svc.Facturas.Cerrar(ctx)
		require.NoError(t, err)
		_, err = env.DB.SQL.ExecContext(ctx, "DELETE FROM cierres")
		assert.ErrorContains(t, err, "solo inserción")
		if db.Dialect == "postgres" {
			_, err = env.DB.SQL.ExecContext(ctx, "TRUNCATE pagos")
			assert.ErrorContains(t, err, "solo inserción")
		}
		n, err := env.DB.Client.Pago.Query().Count(ctx)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
	})
}
