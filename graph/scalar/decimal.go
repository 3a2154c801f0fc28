package scalar

import (
	"encoding/json"
	"io"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/shopspring/decimal"

	"github.com/banpro/factoring/internal/money"
)

// MarshalDecimal writes an amount as a JSON string with exactly two
// decimals: "298000.00". Never a JSON number, which clients parse as floats.
func MarshalDecimal(d decimal.Decimal) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		var buf [32]byte
		_, _ = w.Write(AppendDecimal(buf[:0], d))
	})
}

// AppendDecimal appends d as a quoted JSON string with two decimals. Amounts
// read from the database have at most two decimals and fit in int64 cents:
// they are formatted with integer arithmetic, which a response full of
// amounts spends much of its time on otherwise; anything else goes through
// shopspring's exact formatting.
func AppendDecimal(b []byte, d decimal.Decimal) []byte {
	exp := int(d.Exponent())
	if exp < -2 || d.NumDigits()+exp+2 > 18 {
		return strconv.AppendQuote(b, d.StringFixed(2))
	}
	cents := d.CoefficientInt64()
	for ; exp > -2; exp-- {
		cents *= 10
	}
	b = append(b, '"')
	if cents < 0 {
		b = append(b, '-')
		cents = -cents
	}
	b = strconv.AppendInt(b, cents/100, 10)
	b = append(b, '.', byte('0'+cents%100/10), byte('0'+cents%10), '"')
	return b
}

// UnmarshalDecimal reads an amount given as a string ("1500000.50") or an
// integer (1500000). Floats are refused: a float cannot carry an exact amount.
func UnmarshalDecimal(v any) (decimal.Decimal, error) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case int:
		s = strconv.Itoa(x)
	case int64:
		s = strconv.FormatInt(x, 10)
	case json.Number:
		if _, err := x.Int64(); err != nil {
			return decimal.Decimal{}, invalid("Los montos con decimales se envían como texto, p. ej. \"1500000.50\".")
		}
		s = x.String()
	case float32, float64:
		return decimal.Decimal{}, invalid("Los montos con decimales se envían como texto, p. ej. \"1500000.50\".")
	default:
		return decimal.Decimal{}, invalid("Debe ser un monto, p. ej. \"1500000.50\"; se recibió %s.", describe(v))
	}
	d, err := money.Parse(s)
	if err != nil {
		return decimal.Decimal{}, invalid("%s", err.Error())
	}
	return d, nil
}
