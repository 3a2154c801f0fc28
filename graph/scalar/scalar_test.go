package scalar_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/graph/scalar"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/gid"
)

func render(m graphql.Marshaler) string {
	var b bytes.Buffer
	m.MarshalGQL(&b)
	return b.String()
}

func requireValidationError(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	assert.Equal(t, apperror.Validation, apperror.CodeOf(err))
}

func TestDecimal(t *testing.T) {
	t.Run("se_serializa_como_texto_con_dos_decimales", func(t *testing.T) {
		d, err := scalar.UnmarshalDecimal("298000")
		require.NoError(t, err)
		assert.Equal(t, `"298000.00"`, render(scalar.MarshalDecimal(d)))
	})
	accepted := map[string]any{
		"texto":              "1500000.50",
		"entero":             int64(1500000),
		"entero_go":          1500000,
		"numero_json_entero": json.Number("1500000"),
	}
	for name, v := range accepted {
		t.Run("acepta_"+name, func(t *testing.T) {
			_, err := scalar.UnmarshalDecimal(v)
			require.NoError(t, err)
		})
	}
	rejected := map[string]any{
		"float":               1500000.5,
		"numero_json_decimal": json.Number("1500000.5"),
		"texto_no_numerico":   "abc",
		"tres_decimales":      "1.234",
		"catorce_digitos":     "12345678901234",
		"booleano":            true,
		"nulo_como_objeto":    map[string]any{},
	}
	for name, v := range rejected {
		t.Run("rechaza_"+name, func(t *testing.T) {
			_, err := scalar.UnmarshalDecimal(v)
			requireValidationError(t, err)
		})
	}
}

func TestDate(t *testing.T) {
	t.Run("ida_y_vuelta", func(t *testing.T) {
		d, err := scalar.UnmarshalDate("2026-03-31")
		require.NoError(t, err)
		assert.Equal(t, time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC), d)
		assert.Equal(t, `"2026-03-31"`, render(scalar.MarshalDate(d)))
	})
	for _, bad := range []any{"01-02-2026", "2026-1-02", "2026-02-30", "2026-02-03T00:00:00Z", "", 20260203} {
		t.Run("rechaza", func(t *testing.T) {
			_, err := scalar.UnmarshalDate(bad)
			requireValidationError(t, err)
		})
	}
}

func TestTime(t *testing.T) {
	t.Run("normaliza_a_utc_y_microsegundos", func(t *testing.T) {
		got, err := scalar.UnmarshalTime("2026-03-31T09:00:00.123456789-03:00")
		require.NoError(t, err)
		assert.Equal(t, time.Date(2026, 3, 31, 12, 0, 0, 123456000, time.UTC), got)
		assert.Equal(t, `"2026-03-31T12:00:00.123456Z"`, render(scalar.MarshalTime(got)))
	})
	for _, bad := range []any{"2026-03-31", "ayer", 12} {
		_, err := scalar.UnmarshalTime(bad)
		requireValidationError(t, err)
	}
}

func TestID(t *testing.T) {
	t.Run("es_opaco_y_ida_y_vuelta_por_tipo", func(t *testing.T) {
		for _, tc := range []struct {
			id   int
			tipo string
		}{{1, "Cliente"}, {1<<32 + 7, "Factura"}, {2<<32 + 1, "Operacion"}, {3<<32 + 99, "OperacionEvento"}} {
			enc := gid.Encode(tc.id)
			assert.NotContains(t, enc, tc.tipo, "the wire id does not spell the type in clear")
			got, tipo, ok := gid.Decode(enc)
			require.True(t, ok)
			assert.Equal(t, tc.id, got)
			assert.Equal(t, tc.tipo, tipo)
		}
	})
	t.Run("el_primer_cliente_es_Q2xpZW50ZTox", func(t *testing.T) {
		assert.Equal(t, "Q2xpZW50ZTox", gid.Encode(1)) // base64url("Cliente:1")
	})
	for name, bad := range map[string]any{
		"no_base64":        "%%%",
		"sin_tipo":         "MTIz",                     // "123"
		"tipo_desconocido": "VXN1YXJpbzox",             // "Usuario:1"
		"cero":             "Q2xpZW50ZTow",             // "Cliente:0"
		"ceros_a_la_izq":   "Q2xpZW50ZTowMQ",           // "Cliente:01"
		"fuera_de_rango":   "Q2xpZW50ZTo0Mjk0OTY3Mjk2", // "Cliente:4294967296"
		"numero":           12,
	} {
		t.Run("rechaza_"+name, func(t *testing.T) {
			_, err := scalar.UnmarshalID(bad)
			requireValidationError(t, err)
		})
	}
}

func TestJSON(t *testing.T) {
	assert.Equal(t, `{"monto":"10.00"}`, render(scalar.MarshalJSON(map[string]any{"monto": "10.00"})))
	_, err := scalar.UnmarshalJSON("x")
	requireValidationError(t, err)
}

// Ensure that the integer fast path of AppendDecimal writes exactly what
// shopspring's exact formatting writes, for every scale and sign.
func TestAppendDecimalCoincideConStringFixed(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	cases := []string{"0", "-0.5", "0.01", "-0.01", "298000", "298000.1", "9999999999999.99", "-9999999999999.99",
		"1.005", "1.234567", "12345678901234567890.12", "1e3", "1.5e-7"}
	for range 20000 {
		coef := rng.Int64N(1_000_000_000_000_000) - 500_000_000_000_000
		exp := int32(rng.IntN(12) - 6)
		cases = append(cases, decimal.New(coef, exp).String())
	}
	for _, s := range cases {
		d := decimal.RequireFromString(s)
		assert.Equal(t, strconv.Quote(d.StringFixed(2)), string(scalar.AppendDecimal(nil, d)), s)
	}
}

func BenchmarkMarshalDecimal(b *testing.B) {
	d := decimal.RequireFromString("1234567.89")
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		scalar.MarshalDecimal(d).MarshalGQL(&buf)
	}
}
