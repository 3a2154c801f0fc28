package facturas_test

import (
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"

	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/facturas"
	"github.com/banpro/factoring/internal/testkit"
)

// TestMora checks the day count and the interest of mora on worked
// examples computed by hand, then against a day-by-day count in exact
// rational arithmetic on random histories.
func TestMora(t *testing.T) {
	v := clock.Date(2027, time.January, 10) // due date
	dia := func(n int) time.Time { return v.AddDate(0, 0, n) }
	d := testkit.Dec
	cases := []struct {
		name   string
		total  string
		abonos []facturas.Abono
		hasta  time.Time
		tasa   string
		dias   int
		inter  string
	}{
		// Not due yet, or due today: no mora.
		{"antes_del_vencimiento", "600000.00", nil, dia(-5), "1.50", 0, "0.00"},
		{"el_dia_del_vencimiento", "600000.00", nil, dia(0), "1.50", 0, "0.00"},
		// One day late: one day at 600000 × 1.5 % / 30 = 300.00.
		{"un_dia", "600000.00", nil, dia(1), "1.50", 1, "300.00"},
		// Paid 200000 on day 10 and 400050 on day 20 (50 overpaid): days
		// 1..10 on 600000 (3000.00), days 11..20 on 400000 (2000.00).
		{"pagada_tarde_y_en_partes", "600000.00", []facturas.Abono{
			{dia(20), d("400050.00")}, {dia(10), d("200000.00")}}, dia(45), "1.50", 20, "5000.00"},
		// The same history seen on day 15: days 1..10 on 600000 and 11..15
		// on 400000.
		{"vista_a_mitad_de_camino", "600000.00", []facturas.Abono{
			{dia(10), d("200000.00")}, {dia(20), d("400050.00")}}, dia(15), "1.50", 15, "4000.00"},
		// Paid in part before the due date: the mora starts from the rest.
		{"abono_antes_de_vencer", "400000.00", []facturas.Abono{
			{dia(-3), d("100000.00")}}, dia(31), "1.50", 31, "4650.00"},
		// A payment on the due date itself is before the mora.
		{"pagada_el_dia_que_vence", "400000.00", []facturas.Abono{{dia(0), d("400000.00")}}, dia(31), "1.50", 0, "0.00"},
		// Paid on day 1: that day counts, then nothing.
		{"pagada_al_dia_siguiente", "400000.00", []facturas.Abono{{dia(1), d("400000.00")}}, dia(31), "1.50", 1, "200.00"},
		// Two payments on one day.
		{"dos_pagos_el_mismo_dia", "1000.00", []facturas.Abono{
			{dia(3), d("400.00")}, {dia(3), d("600.00")}}, dia(10), "3.00", 3, "3.00"},
		// No rate: days count, no interest.
		{"sin_tasa", "1000.00", nil, dia(40), "0", 40, "0.00"},
		// Rounded once: 10.00 × 1 % / 30 a day is 0.0033…; over 30 days 0.10.
		{"redondeo_una_vez", "10.00", nil, dia(30), "1.00", 30, "0.10"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := facturas.CalcularMora(d(tc.total), v, tc.abonos, tc.hasta, d(tc.tasa))
			assert.Equal(t, tc.dias, m.Dias, "días")
			assert.Equal(t, tc.inter, m.Interes.StringFixed(2), "interés")
		})
	}

	t.Run("coincide_con_la_cuenta_dia_a_dia", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		for range 3000 {
			totalCents := rng.Int64N(1_000_000_000_00) + 1
			var abonos []facturas.Abono
			for range rng.IntN(6) {
				abonos = append(abonos, facturas.Abono{
					Fecha: dia(rng.IntN(200) - 30),
					Monto: decimal.New(rng.Int64N(totalCents/2+1)+1, -2),
				})
			}
			hasta := dia(rng.IntN(240) - 20)
			bp := rng.Int64N(501) // 0 .. 5.00 % a month
			got := facturas.CalcularMora(decimal.New(totalCents, -2), v, abonos, hasta, decimal.New(bp, -2))

			// Day by day: the saldo at the start of each day after the due
			// date up to hasta, in cents, with every payment dated before it.
			dias, num := 0, new(big.Int)
			for day := dia(1); !day.After(hasta); day = day.AddDate(0, 0, 1) {
				saldo := totalCents
				for _, a := range abonos {
					if a.Fecha.Before(day) {
						saldo -= a.Monto.Shift(2).IntPart()
					}
				}
				if saldo > 0 {
					dias++
					num.Add(num, big.NewInt(saldo*bp))
				}
			}
			// num / (100 · 30 · 100) pesos = num / 300,000 cents, half up.
			den := big.NewInt(300_000)
			q := new(big.Int).Div(new(big.Int).Add(new(big.Int).Mul(num, big.NewInt(2)), den), new(big.Int).Mul(den, big.NewInt(2)))
			want := new(big.Rat).SetFrac(q, big.NewInt(100)).FloatString(2)
			assert.Equal(t, dias, got.Dias, "días: total %d abonos %v hasta %s", totalCents, abonos, hasta)
			assert.Equal(t, want, got.Interes.StringFixed(2), "interés: total %d abonos %v hasta %s tasa %d", totalCents, abonos, hasta, bp)
		}
	})
}
