package facturas_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/cierre"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/facturas"
	"github.com/banpro/factoring/internal/testkit"
)

// alDia moves env's clock to noon of business date d in Santiago.
func alDia(env *testkit.Env, d time.Time) {
	env.Clock.Set(time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, testkit.Santiago))
}

// conMora is a domain whose new operaciones charge 1.50 % a month of late
// interest.
func conMora(t *testing.T, db *database.DB) *testkit.Env {
	t.Helper()
	cfg := testkit.Config(t)
	cfg.TasaMora = testkit.Dec("1.50")
	return testkit.NewEnvWith(t, db, cfg)
}

// fechasCerradas lists the closed business dates, in order.
func fechasCerradas(t *testing.T, env *testkit.Env) []string {
	t.Helper()
	cs, err := env.DB.Client.Cierre.Query().Order(ent.Asc(cierre.FieldFecha)).All(ctx)
	require.NoError(t, err)
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Fecha.Format(time.DateOnly)
	}
	return out
}

// TestCierreIdempotente ensures that closing a business date marks the
// invoices due before it VENCIDA and accrues their mora (here 1000.00 five
// days late at 1.50 % a month: 1000 × 5 × 0.015 / 30 = 2.50), and that
// closing it again changes nothing at all.
func TestCierreIdempotente(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := conMora(t, db)
		c := env.MustCrearClienteActivo(t, "10000000.00")
		f := cedida(t, env, c.ID, "1000.00", testkit.Vence(5))
		propia := env.MustRegistrarFactura(t, c.ID, "500.00", testkit.Vence(5)) // the cliente's, not ceded

		alDia(env, testkit.Vence(10))
		rs, err := env.Svc.Facturas.Cerrar(ctx)
		require.NoError(t, err)
		require.Len(t, rs, 1, "the first run ever closes the business date only")
		assert.Equal(t, testkit.Vence(10), rs[0].Fecha)
		assert.Equal(t, 2, rs[0].FacturasVencidas)
		assert.Equal(t, 2, rs[0].FacturasEnMora)
		assert.Equal(t, "2.50", rs[0].InteresDevengado.StringFixed(2))
		got := env.Factura(t, f.ID)
		assert.Equal(t, estado.FacturaVencida, got.Estado)
		assert.Equal(t, 5, got.DiasMora)
		assert.Equal(t, "2.50", got.InteresMora.StringFixed(2))
		own := env.Factura(t, propia.ID)
		assert.Equal(t, 5, own.DiasMora, "days of mora count for any overdue invoice")
		assert.True(t, own.InteresMora.IsZero(), "interest only on what the company holds ceded")

		before := env.Snapshot(t)
		for range 2 {
			rs, err = env.Svc.Facturas.Cerrar(ctx)
			require.NoError(t, err)
			assert.Empty(t, rs, "the date is closed")
			assert.Equal(t, before, env.Snapshot(t), "a second run changes nothing")
		}
		assert.Equal(t, []string{testkit.Vence(10).Format(time.DateOnly)}, fechasCerradas(t, env))
		testkit.RequireVerificado(t, db)
	})
}

// TestCierreRecuperaFechas ensures that a run closes, in order, every date
// missed since the last one closed, marking each invoice VENCIDA on the
// first date after it fell due, and that catching up gives the same mora
// as closing every day.
func TestCierreRecuperaFechas(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		diario, saltado := conMora(t, db), conMora(t, testkit.SQLite(t))
		var ids [2][]int
		for i, env := range []*testkit.Env{diario, saltado} {
			c := env.MustCrearClienteActivo(t, "10000000.00")
			a := cedida(t, env, c.ID, "600000.00", testkit.Vence(3))
			b := cedida(t, env, c.ID, "400000.00", testkit.Vence(5))
			ids[i] = []int{a.ID, b.ID}
			alDia(env, testkit.Vence(2))
			_, err := env.Svc.Facturas.Cerrar(ctx)
			require.NoError(t, err)
			// The debtor of b pays part of it on day 6, recorded that day.
			alDia(env, testkit.Vence(6))
			if env == diario {
				for d := 3; d <= 6; d++ {
					alDia(env, testkit.Vence(d))
					_, err := env.Svc.Facturas.Cerrar(ctx)
					require.NoError(t, err)
				}
			}
			_, err = env.Svc.Facturas.RegistrarPago(ctx, facturas.RegistrarPagoInput{
				FacturaID: b.ID, Monto: testkit.Dec("100000.00"), Fecha: testkit.Vence(6)})
			require.NoError(t, err)
		}
		// The daily one closes days 7 to 9 one by one; the other skipped
		// every day from 3 to 8, and closes them all on day 9.
		for d := 7; d <= 9; d++ {
			alDia(diario, testkit.Vence(d))
			_, err := diario.Svc.Facturas.Cerrar(ctx)
			require.NoError(t, err)
		}
		alDia(saltado, testkit.Vence(9))
		rs, err := saltado.Svc.Facturas.Cerrar(ctx)
		require.NoError(t, err)
		require.Len(t, rs, 7, "days 3 to 9")
		for i, r := range rs {
			assert.Equal(t, testkit.Vence(3+i), r.Fecha, "in order")
		}
		assert.Equal(t, 0, rs[0].FacturasVencidas, "day 3: a is due today, not overdue")
		assert.Equal(t, 1, rs[1].FacturasVencidas, "day 4: a")
		assert.Equal(t, 1, rs[3].FacturasVencidas, "day 6: b")
		assert.Equal(t, fechasCerradas(t, diario), fechasCerradas(t, saltado))

		// a: 600000 × 6 days (4..9) × 0.0005 = 1800.00. b: days 6..9 (4
		// days): day 6 on 400000 (its payment counts from day 7), days 7..9
		// on 300000: 200 + 3 × 150 = 650.00.
		for i, want := range []struct {
			dias  int
			inter string
		}{{6, "1800.00"}, {4, "650.00"}} {
			for j, env := range []*testkit.Env{diario, saltado} {
				f := env.Factura(t, ids[j][i])
				assert.Equal(t, estado.FacturaVencida, f.Estado)
				assert.Equal(t, want.dias, f.DiasMora, "factura %d, %s", i, []string{"diario", "saltado"}[j])
				assert.Equal(t, want.inter, f.InteresMora.StringFixed(2), "factura %d, %s", i, []string{"diario", "saltado"}[j])
			}
		}
		testkit.RequireVerificado(t, diario.DB)
		testkit.RequireVerificado(t, saltado.DB)
	})
}

// TestCierreFechaNegocio ensures that FACTORING_FECHA_NEGOCIO closes the
// date it names instead of today, and that a date after today is refused.
func TestCierreFechaNegocio(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		cfg := testkit.Config(t)
		cfg.FechaNegocio = testkit.Vence(-3)
		env := testkit.NewEnvWith(t, db, cfg)
		rs, err := env.Svc.Facturas.Cerrar(ctx)
		require.NoError(t, err)
		require.Len(t, rs, 1)
		assert.Equal(t, testkit.Vence(-3), rs[0].Fecha)

		cfg.FechaNegocio = testkit.Vence(1)
		futuro := testkit.NewEnvWith(t, db, cfg)
		_, err = futuro.Svc.Facturas.Cerrar(ctx)
		testkit.RequireCode(t, err, apperror.Validation, "fechaNegocio")
		assert.Equal(t, []string{testkit.Vence(-3).Format(time.DateOnly)}, fechasCerradas(t, env))
	})
}

// TestCierresConcurrentes ensures that replicas closing one date at once
// close it once.
func TestCierresConcurrentes(t *testing.T) {
	db := testkit.Postgres(t)
	env := conMora(t, db)
	c := env.MustCrearClienteActivo(t, "10000000.00")
	for range 5 {
		cedida(t, env, c.ID, "1000.00", testkit.Vence(5))
	}
	alDia(env, testkit.Vence(12))
	cerradas := make([]int, 4)
	errs := testkit.Race(4, func(i int) error {
		rs, err := env.Svc.Facturas.Cerrar(ctx)
		cerradas[i] = len(rs)
		return err
	})
	require.Equal(t, map[string]int{"OK": 4}, testkit.Tally(errs))
	assert.Equal(t, 1, cerradas[0]+cerradas[1]+cerradas[2]+cerradas[3], "one of them closed the date")
	assert.Equal(t, []string{testkit.Vence(12).Format(time.DateOnly)}, fechasCerradas(t, env))
	testkit.RequireVerificado(t, db)
}
