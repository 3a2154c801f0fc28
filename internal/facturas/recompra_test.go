package facturas_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/facturas"
	"github.com/banpro/factoring/internal/testkit"
)

// TestRecompra ensures the recourse's two steps on a ceded invoice of
// 400000.00 due on day 0 at 1.50 % a month, its debtor paying 100000.00 on
// day 5: on day 31 (31 days of mora, more than 30) its recompra is
// demanded, and on day 35 the cliente pays saldo 300000.00 plus interest
// 5 × 200 + 30 × 150 = 5500.00. Neither moves the credit line.
func TestRecompra(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := conMora(t, db)
		svc := env.Svc.Facturas
		c := env.MustCrearClienteActivo(t, "10000000.00")
		v := testkit.Vence(10)
		f := cedida(t, env, c.ID, "400000.00", v)
		env.RequireLinea(t, c.ID, "10000000.00", "9600000.00")
		dia := func(n int) time.Time { return v.AddDate(0, 0, n) }

		alDia(env, dia(5))
		_, err := svc.RegistrarPago(ctx, facturas.RegistrarPagoInput{FacturaID: f.ID, Monto: testkit.Dec("100000.00"), Fecha: dia(5)})
		require.NoError(t, err)
		alDia(env, dia(30))
		_, err = svc.Cerrar(ctx)
		require.NoError(t, err)
		_, err = svc.ExigirRecompra(ctx, f.ID)
		e := testkit.RequireCode(t, err, apperror.Validation, "facturaId")
		assert.Contains(t, e.Fields["facturaId"], "30 días de mora", "30 days are not more than 30")

		alDia(env, dia(31))
		_, err = svc.Cerrar(ctx)
		require.NoError(t, err)
		exigida, err := svc.ExigirRecompra(ctx, f.ID)
		require.NoError(t, err)
		assert.Equal(t, estado.FacturaEnRecompra, exigida.Estado)
		assert.True(t, exigida.RecompraExigidaEn.Equal(env.Clock.Now()))
		// 5 days on 400000 (1000.00) and 26 on 300000 (3900.00).
		assert.Equal(t, 31, exigida.DiasMora)
		assert.Equal(t, "4900.00", exigida.InteresMora.StringFixed(2))
		env.RequireLinea(t, c.ID, "10000000.00", "9600000.00")

		alDia(env, dia(35))
		_, err = svc.RegistrarRecompra(ctx, f.ID, testkit.Dec("305499.99"), dia(35))
		e = testkit.RequireCode(t, err, apperror.Validation, "monto")
		assert.Contains(t, e.Fields["monto"], "305500.00", "the message states what is owed")
		recomprada, err := svc.RegistrarRecompra(ctx, f.ID, testkit.Dec("305500.00"), dia(35))
		require.NoError(t, err)
		assert.Equal(t, estado.FacturaRecomprada, recomprada.Estado)
		assert.Equal(t, "305500.00", recomprada.MontoRecompra.StringFixed(2))
		assert.True(t, recomprada.FechaRecompra.Equal(dia(35)))
		assert.Equal(t, 35, recomprada.DiasMora, "the mora stops at the recompra")
		assert.Equal(t, "5500.00", recomprada.InteresMora.StringFixed(2))
		env.RequireLinea(t, c.ID, "10000000.00", "9600000.00")

		// Bought back: no more payments, no more mora.
		_, err = svc.RegistrarPago(ctx, facturas.RegistrarPagoInput{FacturaID: f.ID, Monto: testkit.Dec("1.00"), Fecha: dia(35)})
		testkit.RequireCode(t, err, apperror.Conflict)
		alDia(env, dia(40))
		_, err = svc.Cerrar(ctx)
		require.NoError(t, err)
		assert.Equal(t, 35, env.Factura(t, f.ID).DiasMora)
		testkit.RequireVerificado(t, db)
	})
}

// TestRecompraErrores ensures that every refused recourse step names its
// code and field and changes nothing.
func TestRecompraErrores(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		svc := env.Svc.Facturas
		c := env.MustCrearClienteActivo(t, "10000000.00")
		v := testkit.Vence(5)
		vencida := cedida(t, env, c.ID, "1000.00", v)
		propia := env.MustRegistrarFactura(t, c.ID, "1000.00", v) // never ceded
		alDia(env, v.AddDate(0, 0, 40))
		_, err := svc.Cerrar(ctx)
		require.NoError(t, err)
		enRecompra := vencida.ID
		_, err = svc.ExigirRecompra(ctx, enRecompra)
		require.NoError(t, err)
		vigente := cedida(t, env, c.ID, "1000.00", v.AddDate(0, 0, 90))
		hoy := v.AddDate(0, 0, 40)

		cases := []struct {
			name   string
			run    func() error
			code   apperror.Code
			fields []string
		}{
			{"exigir_factura_no_cedida", func() error { _, err := svc.ExigirRecompra(ctx, propia.ID); return err },
				apperror.Validation, []string{"facturaId"}},
			{"exigir_factura_no_vencida", func() error { _, err := svc.ExigirRecompra(ctx, vigente.ID); return err },
				apperror.Conflict, nil},
			{"exigir_dos_veces", func() error { _, err := svc.ExigirRecompra(ctx, enRecompra); return err },
				apperror.Conflict, nil},
			{"exigir_inexistente", func() error { _, err := svc.ExigirRecompra(ctx, vigente.ID+100_000); return err },
				apperror.NotFound, nil},
			{"monto_distinto", func() error {
				_, err := svc.RegistrarRecompra(ctx, enRecompra, testkit.Dec("999.99"), hoy)
				return err
			}, apperror.Validation, []string{"monto"}},
			{"monto_no_positivo", func() error {
				_, err := svc.RegistrarRecompra(ctx, enRecompra, testkit.Dec("0"), hoy)
				return err
			}, apperror.Validation, []string{"monto"}},
			{"fecha_futura", func() error {
				_, err := svc.RegistrarRecompra(ctx, enRecompra, testkit.Dec("1000.00"), hoy.AddDate(0, 0, 1))
				return err
			}, apperror.Validation, []string{"fecha"}},
			{"fecha_anterior_a_la_exigencia", func() error {
				_, err := svc.RegistrarRecompra(ctx, enRecompra, testkit.Dec("1000.00"), hoy.AddDate(0, 0, -1))
				return err
			}, apperror.Validation, []string{"fecha"}},
			{"recomprar_sin_exigir", func() error {
				_, err := svc.RegistrarRecompra(ctx, vigente.ID, testkit.Dec("1000.00"), hoy)
				return err
			}, apperror.Conflict, nil},
			{"recomprar_inexistente", func() error {
				_, err := svc.RegistrarRecompra(ctx, vigente.ID+100_000, testkit.Dec("1000.00"), hoy)
				return err
			}, apperror.NotFound, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := env.Snapshot(t)
				testkit.RequireCode(t, tc.run(), tc.code, tc.fields...)
				assert.Equal(t, before, env.Snapshot(t))
			})
		}
		testkit.RequireVerificado(t, db)
	})
}

// TestCartera ensures that a cliente's portfolio buckets the saldo of its
// ceded, still owed invoices by their days of mora at the last close, and
// leaves out what it does not hold (its own invoices, one a pending
// operación holds, one paid).
func TestCartera(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		c := env.MustCrearClienteActivo(t, "10000000.00")
		otro := env.MustCrearClienteActivo(t, "10000000.00")
		d := testkit.Vence(110) // the business date of the close
		for _, x := range []struct {
			monto string
			dias  int
		}{{"100.00", -5}, {"200.00", 0}, {"300.00", 1}, {"400.00", 30}, {"500.00", 31}, {"600.00", 60},
			{"700.00", 61}, {"800.00", 90}, {"900.00", 91}, {"1000.00", 100}} {
			cedida(t, env, c.ID, x.monto, d.AddDate(0, 0, -x.dias))
		}
		abonada := cedida(t, env, c.ID, "2000.00", d.AddDate(0, 0, -10))
		_, err := env.Svc.Facturas.RegistrarPago(ctx, facturas.RegistrarPagoInput{FacturaID: abonada.ID, Monto: testkit.Dec("1500.00"), Fecha: testkit.HoyFecha})
		require.NoError(t, err)
		pagada := cedida(t, env, c.ID, "5000.00", d.AddDate(0, 0, -10))
		env.MustPagarTodas(t, pagada.ID)
		env.MustRegistrarFactura(t, c.ID, "7000.00", d.AddDate(0, 0, -10)) // the cliente's own
		env.MustOperacionPendiente(t, c.ID, "8000.00")
		cedida(t, env, otro.ID, "9000.00", d.AddDate(0, 0, -10))

		alDia(env, d)
		_, err = env.Svc.Facturas.Cerrar(ctx)
		require.NoError(t, err)
		cs, err := facturas.CarteraDeClientes(ctx, env.DB.Client, []int{c.ID, otro.ID, c.ID})
		require.NoError(t, err)
		require.Len(t, cs, 3, "one per id asked, in order")
		tramo := func(tr facturas.Tramo) [2]string {
			return [2]string{tr.Monto.StringFixed(2), string(rune('0' + tr.Cantidad))}
		}
		got := cs[0]
		assert.Equal(t, [2]string{"300.00", "2"}, tramo(got.Vigente), "due in 5 days and due today")
		assert.Equal(t, [2]string{"1200.00", "3"}, tramo(got.Mora1a30), "1 and 30 days, and 500.00 left of 2000.00 at 10 days")
		assert.Equal(t, [2]string{"1100.00", "2"}, tramo(got.Mora31a60))
		assert.Equal(t, [2]string{"1500.00", "2"}, tramo(got.Mora61a90))
		assert.Equal(t, [2]string{"1900.00", "2"}, tramo(got.MoraMas90))
		assert.Equal(t, [2]string{"9000.00", "1"}, tramo(cs[1].Mora1a30))
		assert.Equal(t, *cs[0], *cs[2])
		testkit.RequireVerificado(t, db)
	})
}
