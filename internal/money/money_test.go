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
