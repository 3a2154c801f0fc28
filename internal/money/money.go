// Package money holds the exact-decimal rules of the domain: how an amount is
// written, how it is rounded, and the discount of an operación.
//
// Amounts are shopspring decimals end to end, never float64: parsed from
// text, computed exactly, rounded half-up once, stored as numeric(15,2).
package money

import (
	"errors"
	"strings"

	"github.com/shopspring/decimal"
)

// Limits of numeric(15,2): 13 integer digits and 2 decimals.
const (
	MaxIntegerDigits = 13
	Decimals         = 2
)

// Max is the largest amount numeric(15,2) holds: 9,999,999,999,999.99.
var Max = decimal.New(1, MaxIntegerDigits).Sub(decimal.New(1, -Decimals))

// Fits reports whether d can be stored as an amount: |d| ≤ Max. A sum of
// amounts that each fit may not.
func Fits(d decimal.Decimal) bool { return d.Abs().LessThanOrEqual(Max) }

// Parse reads an amount written as an optional minus sign, digits and at most
// two decimals ("1500000", "1500000.5", "-10.25"). It refuses exponents,
// spaces, thousands separators and more digits than numeric(15,2) holds. The
// error messages are Spanish and meant for API users.
func Parse(s string) (decimal.Decimal, error) {
	digits := strings.TrimPrefix(s, "-")
	intPart, fracPart, hasPoint := strings.Cut(digits, ".")
	switch {
	case intPart == "" || !allDigits(intPart) || (hasPoint && (fracPart == "" || !allDigits(fracPart))):
		return decimal.Decimal{}, errors.New("Debe ser un monto con hasta 2 decimales, p. ej. \"1500000.50\".")
	case len(fracPart) > Decimals:
		return decimal.Decimal{}, errors.New("Admite como máximo 2 decimales.")
	case len(strings.TrimLeft(intPart, "0")) > MaxIntegerDigits:
		return decimal.Decimal{}, errors.New("Admite como máximo 13 dígitos enteros.")
	}
	return decimal.NewFromString(s)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String renders an amount the way the API shows it: two decimals, no
// exponent ("298000.00").
func String(d decimal.Decimal) string { return d.StringFixed(Decimals) }

// Descuento is the discount of an operación: total × tasa/100 × dias/360,
// rounded half-up to cents once, on the exact result. tasa is a percentage
// ("2.00" is 2 %). The product is computed exactly and divided by 36000 with
// DivRound, which rounds on the exact quotient and remainder, so no
// intermediate rounding creeps in.
func Descuento(total, tasa decimal.Decimal, dias int) decimal.Decimal {
	numerator := total.Mul(tasa).Mul(decimal.NewFromInt(int64(dias)))
	return numerator.DivRound(decimal.NewFromInt(36000), Decimals)
}

// Anticipo is the part of total the company advances at porcentaje (a
// percentage, "90.00" is 90 %): total × porcentaje / 100, rounded half-up
// to cents once. At 100 % it is total itself.
func Anticipo(total, porcentaje decimal.Decimal) decimal.Decimal {
	return total.Mul(porcentaje).DivRound(decimal.NewFromInt(100), Decimals)
}

// DiasPorMes is the day count of the late interest: a monthly rate accrues
// one thirtieth of itself per day of mora.
const DiasPorMes = 30

// InteresMora is the late interest on saldoDias (the exact sum, over the
// days of mora, of the saldo owed on each day: Σ saldo × días) at tasa, a
// percentage per month: saldoDias × tasa / 100 / 30, rounded half-up to
// cents once, on the exact result (simple interest, no capitalisation).
func InteresMora(saldoDias, tasa decimal.Decimal) decimal.Decimal {
	return saldoDias.Mul(tasa).DivRound(decimal.NewFromInt(100*DiasPorMes), Decimals)
}

// Saldo is what is still owed on a face value total of which pagado was
// paid: total − pagado, never below zero.
func Saldo(total, pagado decimal.Decimal) decimal.Decimal {
	return decimal.Max(decimal.Zero, total.Sub(pagado))
}

// Sobrepago is what was paid above a face value total: pagado − total,
// never below zero.
func Sobrepago(total, pagado decimal.Decimal) decimal.Decimal {
	return decimal.Max(decimal.Zero, pagado.Sub(total))
}
