package operaciones_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/app"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/testkit"
)

// TestCalculo checks the discount (docs/dominio.md, "Operación") through
// crearOperacion: the configured rate, the days to the furthest due date
// counted from the Santiago date, and one half-up rounding of the exact
// result.
func TestCalculo(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		c := env.MustCrearClienteActivo(t, "100000000.00")

		t.Run("ejemplo_documentado", func(t *testing.T) {
			// 300000.00 at 2.00 % due 120 days from today: 2000.00 off,
			// 298000.00 paid out.
			f := env.MustRegistrarFactura(t, c.ID, "300000.00", testkit.Vence(120))
			require.Equal(t, clock.Date(2027, time.March, 26), f.FechaVencimiento)
			op := env.MustCrearOperacion(t, c.ID, f.ID)
			assert.Equal(t, "300000.00", op.MontoTotalFacturas.StringFixed(2))
			assert.Equal(t, "2.00", op.TasaDescuento.StringFixed(2))
			assert.Equal(t, 120, op.DiasDescuento)
			assert.Equal(t, "2000.00", op.MontoDescuento.StringFixed(2))
			assert.Equal(t, "298000.00", op.MontoADesembolsar.StringFixed(2))
			stored := env.Operacion(t, op.ID)
			assert.Equal(t, "2000.00", stored.MontoDescuento.StringFixed(2), "stored as computed")
			assert.Equal(t, "298000.00", stored.MontoADesembolsar.StringFixed(2))
		})

		t.Run("dias_hasta_el_vencimiento_mas_lejano", func(t *testing.T) {
			// Ensure that diasDescuento counts to the latest due date of the
			// set, whatever the order of the ids.
			a := env.MustRegistrarFactura(t, c.ID, "100000.00", testkit.Vence(30))
			b := env.MustRegistrarFactura(t, c.ID, "100000.00", testkit.Vence(150))
			d := env.MustRegistrarFactura(t, c.ID, "160000.00", testkit.Vence(60))
			op := env.MustCrearOperacion(t, c.ID, a.ID, b.ID, d.ID)
			assert.Equal(t, 150, op.DiasDescuento)
			// 360000.00 × 2 % × 150/360 = 3000.00
			assert.Equal(t, "360000.00", op.MontoTotalFacturas.StringFixed(2))
			assert.Equal(t, "3000.00", op.MontoDescuento.StringFixed(2))
			assert.Equal(t, "357000.00", op.MontoADesembolsar.StringFixed(2))
		})

		t.Run("redondea_mitad_hacia_arriba", func(t *testing.T) {
			// 2005.00 × 2.00 % × 90/360 = 10.025 exactly: half-up gives
			// 10.03; half-even (banker's) would give 10.02, and a float64
			// (10.0249999…) too.
			exact := testkit.Dec("2005.00").Mul(testkit.Dec("2.00")).Mul(testkit.Dec("90")).Div(testkit.Dec("36000"))
			require.Equal(t, "10.025", exact.String())
			require.Equal(t, "10.02", exact.RoundBank(2).StringFixed(2), "half-even would round down")

			f := env.MustRegistrarFactura(t, c.ID, "2005.00", testkit.Vence(90))
			op := env.MustCrearOperacion(t, c.ID, f.ID)
			assert.Equal(t, "10.03", op.MontoDescuento.StringFixed(2))
			assert.Equal(t, "1994.97", op.MontoADesembolsar.StringFixed(2))
		})

		t.Run("redondea_una_vez_sobre_el_resultado_exacto", func(t *testing.T) {
			// 1234.56 × 2.00 % × 7/360 = 0.48010666…: 0.48, and the payout is
			// the total minus the rounded discount.
			f := env.MustRegistrarFactura(t, c.ID, "1234.56", testkit.Vence(7))
			op := env.MustCrearOperacion(t, c.ID, f.ID)
			assert.Equal(t, "0.48", op.MontoDescuento.StringFixed(2))
			assert.Equal(t, "1234.08", op.MontoADesembolsar.StringFixed(2))
		})
	})
}

// TestCalculoHoyEsLaFechaDeSantiago ensures that "today" is the business
// date in America/Santiago, not the UTC date: at 02:00 UTC on the 27th it
// is still the 26th in Santiago (UTC-3 in November), so the days count
// from the 26th and an invoice due on the 26th is not overdue yet.
func TestCalculoHoyEsLaFechaDeSantiago(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		env.Clock.Set(time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC))
		require.Equal(t, 27, env.Clock.Now().Day(), "the UTC date is already the 27th")
		c := env.MustCrearClienteActivo(t, "10000000")

		f := env.MustRegistrarFactura(t, c.ID, "300000.00", clock.Date(2027, time.March, 26))
		op := env.MustCrearOperacion(t, c.ID, f.ID)
		assert.Equal(t, 120, op.DiasDescuento, "counted from 2026-11-26, not from the UTC date")
		assert.Equal(t, "2000.00", op.MontoDescuento.StringFixed(2))

		venceHoy := env.MustRegistrarFactura(t, c.ID, "100.00", clock.Date(2026, time.November, 26))
		op = env.MustCrearOperacion(t, c.ID, venceHoy.ID)
		assert.Equal(t, 0, op.DiasDescuento, "due today in Santiago: not overdue")

		// Three hours later it is the 27th in Santiago too.
		env.Clock.Advance(3 * time.Hour)
		f = env.MustRegistrarFactura(t, c.ID, "300000.00", clock.Date(2027, time.March, 26))
		op = env.MustCrearOperacion(t, c.ID, f.ID)
		assert.Equal(t, 119, op.DiasDescuento)
	})
}

// TestCalculoTasaConfigurada ensures that the rate is the configured one
// (here 1.50 %), not a constant.
func TestCalculoTasaConfigurada(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		cfg := testkit.Config(t)
		cfg.TasaDescuento = testkit.Dec("1.50")
		fixed := clock.NewFixed(testkit.Hoy)
		env := &testkit.Env{DB: db, Svc: app.Services(db, cfg, fixed), Clock: fixed, Ctx: t.Context()}
		c := env.MustCrearClienteActivo(t, "10000000")
		f := env.MustRegistrarFactura(t, c.ID, "300000.00", testkit.Vence(120))
		op := env.MustCrearOperacion(t, c.ID, f.ID)
		// 300000.00 × 1.50 % × 120/360 = 1500.00
		assert.Equal(t, "1.50", op.TasaDescuento.StringFixed(2))
		assert.Equal(t, "1500.00", op.MontoDescuento.StringFixed(2))
		assert.Equal(t, "298500.00", op.MontoADesembolsar.StringFixed(2))
		assert.Equal(t, "1.50", env.Eventos(t, op.ID)[0].Detalle["tasaDescuento"])
	})
}
