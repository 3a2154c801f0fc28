package money_test

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/money"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestDescuento(t *testing.T) {
	t.Run("ejemplo_de_docs_dominio", func(t *testing.T) {
		// 300000.00 at 2.00 % for 120 days: 2000.00 off, 298000.00 paid out.
		desc := money.Descuento(d("300000.00"), d("2.00"), 120)
		assert.Equal(t, "2000.00", money.String(desc))
		assert.Equal(t, "298000.00", money.String(d("300000.00").Sub(desc)))
	})
	t.Run("redondea_mitad_hacia_arriba_donde_mitad_par_redondearia_abajo", func(t *testing.T) {
		// 900.00 × 1.00 % × 1/360 = 0.025 exactly: half-up gives 0.03,
		// half-even (banker's) would give 0.02.
		exact := d("900.00").Mul(d("1.00")).Div(d("36000"))
		require.Equal(t, "0.025", exact.String())
		assert.Equal(t, "0.03", money.String(money.Descuento(d("900.00"), d("1.00"), 1)))
		assert.Equal(t, "0.02", exact.RoundBank(2).StringFixed(2), "half-even would differ")
	})
	t.Run("redondea_una_vez_sobre_el_resultado_exacto", func(t *testing.T) {
		// 100.00 × 1.00 % × 1/360 = 0.002777…: rounding steps in between
		// (per day, per rate) could drift; the exact result rounds to 0.00.
		assert.Equal(t, "0.00", money.String(money.Descuento(d("100.00"), d("1.00"), 1)))
		// 1000000.00 × 2.50 % × 45/360 = 3125.00 exactly.
		assert.Equal(t, "3125.00", money.String(money.Descuento(d("1000000.00"), d("2.50"), 45)))
	})
	t.Run("cero_dias_no_descuenta", func(t *testing.T) {
		assert.True(t, money.Descuento(d("123456.78"), d("2.00"), 0).IsZero())
	})
	t.Run("coincide_con_aritmetica_racional_exacta", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for range 20000 {
			cents := rng.Int64N(1_000_000_000_000_00) + 1 // up to 13 integer digits
			bp := rng.Int64N(10000) + 1                   // 0.01 .. 100.00
			dias := rng.IntN(3650)
			total := decimal.New(cents, -2)
			tasa := decimal.New(bp, -2)
			got := money.Descuento(total, tasa, dias)
			assert.Equal(t, halfUpCents(cents, bp, int64(dias)), got.StringFixed(2),
				"total %s tasa %s dias %d", total, tasa, dias)
		}
	})
}

// halfUpCents computes cents × bp × dias / 3,600,000 (the discount in cents)
// with big integers, rounding half up.
func halfUpCents(cents, bp, dias int64) string {
	num := new(big.Int).Mul(big.NewInt(cents), big.NewInt(bp))
	num.Mul(num, big.NewInt(dias))
	den := big.NewInt(3_600_000)
	// (2·num + den) / (2·den) rounds half up for non-negative num.
	q := new(big.Int).Div(new(big.Int).Add(new(big.Int).Mul(num, big.NewInt(2)), den), new(big.Int).Mul(den, big.NewInt(2)))
	r := new(big.Rat).SetFrac(q, big.NewInt(100))
	return r.FloatString(2)
}

func TestParse(t *testing.T) {
	valid := map[string]string{
		"0":                "0.00",
		"1500000":          "1500000.00",
		"1500000.5":        "1500000.50",
		"1500000.55":       "1500000.55",
		"-10.25":           "-10.25",
		"0001.10":          "1.10",
		"9999999999999.99": "9999999999999.99",
	}
	for in, want := range valid {
		t.Run("acepta_"+in, func(t *testing.T) {
			got, err := money.Parse(in)
			require.NoError(t, err)
			assert.Equal(t, want, money.String(got))
		})
	}
	invalid := map[string]string{
		"":                  "Debe ser un monto",
		"abc":               "Debe ser un monto",
		"1e3":               "Debe ser un monto",
		"1.000,50":          "Debe ser un monto",
		" 10":               "Debe ser un monto",
		"10.":               "Debe ser un monto",
		".5":                "Debe ser un monto",
		"--1":               "Debe ser un monto",
		"+1":                "Debe ser un monto",
		"1.234":             "máximo 2 decimales",
		"10000000000000":    "13 dígitos enteros",
		"10000000000000.00": "13 dígitos enteros",
	}
	for in, want := range invalid {
		t.Run("rechaza_"+in, func(t *testing.T) {
			_, err := money.Parse(in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), want)
		})
	}
}

func BenchmarkDescuento(b *testing.B) {
	total, tasa := d("1234567.89"), d("2.00")
	for b.Loop() {
		_ = money.Descuento(total, tasa, 97)
	}
}

// Ensure that Max is the largest amount numeric(15,2) holds, the largest
// Parse accepts, and that Fits tells a sum that outgrew it.
func TestMaximo(t *testing.T) {
	assert.Equal(t, "9999999999999.99", money.String(money.Max))
	parsed, err := money.Parse("9999999999999.99")
	require.NoError(t, err)
	assert.True(t, parsed.Equal(money.Max))
	_, err = money.Parse("10000000000000.00")
	assert.Error(t, err)
	assert.True(t, money.Fits(money.Max))
	assert.True(t, money.Fits(money.Max.Neg()))
	assert.False(t, money.Fits(money.Max.Add(decimal.RequireFromString("0.01"))))
}

func TestAnticipo(t *testing.T) {
	t.Run("al_100_es_el_total", func(t *testing.T) {
		assert.Equal(t, "300000.00", money.String(money.Anticipo(d("300000.00"), d("100.00"))))
	})
	t.Run("ejemplo_90_por_ciento", func(t *testing.T) {
		assert.Equal(t, "900000.00", money.String(money.Anticipo(d("1000000.00"), d("90.00"))))
	})
	t.Run("redondea_mitad_hacia_arriba", func(t *testing.T) {
		// 0.05 × 90 % = 0.045 exactly: half-up gives 0.05.
		assert.Equal(t, "0.05", money.String(money.Anticipo(d("0.05"), d("90.00"))))
		// 1234.57 × 33.33 % = 411.482181: 411.48.
		assert.Equal(t, "411.48", money.String(money.Anticipo(d("1234.57"), d("33.33"))))
	})
	t.Run("coincide_con_aritmetica_entera_exacta", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		for range 20000 {
			cents := rng.Int64N(1_000_000_000_000_00) + 1
			bp := rng.Int64N(10000) + 1 // 0.01 .. 100.00 %
			got := money.Anticipo(decimal.New(cents, -2), decimal.New(bp, -2))
			// cents × bp / 10,000, half up.
			assert.Equal(t, roundHalfUp(new(big.Int).Mul(big.NewInt(cents), big.NewInt(bp)), big.NewInt(10_000)), got.StringFixed(2),
				"total %d centavos al %d pb", cents, bp)
		}
	})
}

func TestInteresMora(t *testing.T) {
	t.Run("ejemplo_1_5_por_ciento_mensual", func(t *testing.T) {
		// 600000.00 for 10 days and 400000.00 for 10 more at 1.50 % a
		// month: 600000 × 10 × 0.015 / 30 + 400000 × 10 × 0.015 / 30.
		saldoDias := d("600000.00").Mul(d("10")).Add(d("400000.00").Mul(d("10")))
		assert.Equal(t, "5000.00", money.String(money.InteresMora(saldoDias, d("1.50"))))
	})
	t.Run("sin_tasa_no_hay_interes", func(t *testing.T) {
		assert.True(t, money.InteresMora(d("123456789.12"), d("0")).IsZero())
	})
	t.Run("redondea_una_vez_no_por_dia", func(t *testing.T) {
		// 10.00 a day at 1.00 % a month is 0.00333… a day: rounded per
		// day it would be 0.00 forever; over 30 days it is 0.10.
		assert.Equal(t, "0.10", money.String(money.InteresMora(d("10.00").Mul(d("30")), d("1.00"))))
		// 1.50 × 1 day at 1.00 %: 0.0005 exactly, half up: 0.00 (0.0005 < 0.005).
		assert.Equal(t, "0.00", money.String(money.InteresMora(d("1.50"), d("1.00"))))
		// 15.00 × 1 day at 1.00 %: 0.005 exactly, half up: 0.01.
		assert.Equal(t, "0.01", money.String(money.InteresMora(d("15.00"), d("1.00"))))
	})
	t.Run("coincide_con_aritmetica_entera_exacta", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		for range 20000 {
			// Up to 40 stretches of up to 13-digit saldos and 400 days.
			num := new(big.Int)
			saldoDias := decimal.Zero
			for range rng.IntN(40) + 1 {
				cents := rng.Int64N(1_000_000_000_000_00) + 1
				dias := rng.Int64N(400) + 1
				num.Add(num, new(big.Int).Mul(big.NewInt(cents), big.NewInt(dias)))
				saldoDias = saldoDias.Add(decimal.New(cents, -2).Mul(decimal.NewFromInt(dias)))
			}
			bp := rng.Int64N(10001) // 0.00 .. 100.00 % a month
			got := money.InteresMora(saldoDias, decimal.New(bp, -2))
			// Σ cents·días × bp / (100 · 100 · 30), half up, in cents.
			assert.Equal(t, roundHalfUp(num.Mul(num, big.NewInt(bp)), big.NewInt(300_000)), got.StringFixed(2),
				"saldo·días %s tasa %d pb", saldoDias, bp)
		}
	})
}

// roundHalfUp renders num / den cents, rounded half up to a cent, as an
// amount with two decimals; num ≥ 0, den > 0.
func roundHalfUp(num, den *big.Int) string {
	q := new(big.Int).Div(new(big.Int).Add(new(big.Int).Mul(num, big.NewInt(2)), den), new(big.Int).Mul(den, big.NewInt(2)))
	return new(big.Rat).SetFrac(q, big.NewInt(100)).FloatString(2)
}
