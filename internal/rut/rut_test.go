package rut_test

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/rut"
)

// validCases lists accepted spellings with the canonical form each maps to.
var validCases = []struct {
	name, in, want string
}{
	// Every spelling of one RUT maps to the same canonical string.
	{"acepta_sin_puntos_con_guion", "12345678-5", "12.345.678-5"},
	{"acepta_forma_canonica", "12.345.678-5", "12.345.678-5"},
	{"acepta_espacios_alrededor", " 12.345.678-5 ", "12.345.678-5"},
	{"acepta_tabulador_y_salto_de_linea_alrededor", "\t12.345.678-5\n", "12.345.678-5"},
	{"acepta_cero_inicial_con_puntos", "012.345.678-5", "12.345.678-5"},
	{"acepta_ceros_iniciales_sin_puntos", "0012345678-5", "12.345.678-5"},
	{"acepta_sin_guion_ultimo_caracter_es_digito_verificador", "123456785", "12.345.678-5"},
	{"acepta_ceros_iniciales_sin_guion", "0123456785", "12.345.678-5"},
	{"acepta_ceros_iniciales_agrupados_con_puntos", "0.012.345.678-5", "12.345.678-5"},

	// A RUT whose check digit is K, in every spelling.
	{"acepta_k_mayuscula", "10.000.013-K", "10.000.013-K"},
	{"acepta_k_minuscula", "10.000.013-k", "10.000.013-K"},
	{"acepta_k_minuscula_sin_puntos", "10000013-k", "10.000.013-K"},
	{"acepta_k_mayuscula_sin_guion", "10000013K", "10.000.013-K"},
	{"acepta_k_minuscula_sin_guion", "10000013k", "10.000.013-K"},
	{"acepta_k_con_cero_inicial_y_espacios", " 010.000.013-k ", "10.000.013-K"},
	{"acepta_k_con_cuerpo_de_7_digitos", "5000001-k", "5.000.001-K"},

	// Seven-digit bodies.
	{"acepta_7_digitos_sin_puntos", "9876543-3", "9.876.543-3"},
	{"acepta_7_digitos_con_espacios", " 9876543-3 ", "9.876.543-3"},
	{"acepta_7_digitos_con_cero_inicial_y_puntos", "09.876.543-3", "9.876.543-3"},
	{"acepta_7_digitos_con_cero_inicial_sin_puntos", "09876543-3", "9.876.543-3"},
	{"acepta_7_digitos_canonico", "9.876.543-3", "9.876.543-3"},

	// Other known RUTs and the range limits.
	{"acepta_76_543_210_3", "76.543.210-3", "76.543.210-3"},
	{"acepta_11_111_111_1", "11.111.111-1", "11.111.111-1"},
	{"acepta_26_271_832_8", "26.271.832-8", "26.271.832-8"},
	{"acepta_digito_verificador_cero", "10000004-0", "10.000.004-0"},
	{"acepta_minimo_1_000_000", "1000000-9", "1.000.000-9"},
	{"acepta_maximo_99_999_999", "99.999.999-9", "99.999.999-9"},
}

// invalidCases lists rejected inputs with the sentinel error expected.
var invalidCases = []struct {
	name, in string
	want     error
}{
	{"rechaza_vacio", "", rut.ErrFormat},
	{"rechaza_solo_espacios", "   ", rut.ErrFormat},
	{"rechaza_solo_digito_verificador", "5", rut.ErrFormat},
	{"rechaza_solo_guion_y_digito", "-5", rut.ErrFormat},
	{"rechaza_guion_sin_digito_verificador", "12345678-", rut.ErrFormat},
	{"rechaza_digito_verificador_no_valido", "12.345.678-X", rut.ErrFormat},
	{"rechaza_letras_en_el_cuerpo", "12a45678-5", rut.ErrFormat},
	{"rechaza_dos_guiones_seguidos", "12345678--5", rut.ErrFormat},
	{"rechaza_dos_guiones", "1234-5678-5", rut.ErrFormat},
	{"rechaza_dos_digitos_tras_guion", "1234567-85", rut.ErrFormat},
	{"rechaza_signo_mas", "+12345678-5", rut.ErrFormat},
	{"rechaza_espacios_internos", "12 345 678-5", rut.ErrFormat},
	{"rechaza_espacio_antes_del_guion", "12345678 -5", rut.ErrFormat},
	{"rechaza_espacio_despues_del_guion", "12345678- 5", rut.ErrFormat},
	{"rechaza_guion_no_ascii", "12345678\u20135", rut.ErrFormat},
	{"rechaza_digitos_no_ascii", "１２３４５６７８-5", rut.ErrFormat},
	{"rechaza_puntos_mal_ubicados", "1.2345.678-5", rut.ErrFormat},
	{"rechaza_puntos_incompletos", "12.345678-5", rut.ErrFormat},
	{"rechaza_puntos_solo_a_la_derecha", "12345.678-5", rut.ErrFormat},
	{"rechaza_grupo_izquierdo_de_cuatro_con_ceros", "0009.876.543-3", rut.ErrFormat},
	{"rechaza_punto_inicial", ".12.345.678-5", rut.ErrFormat},
	{"rechaza_punto_antes_del_guion", "12.345.678.-5", rut.ErrFormat},
	{"rechaza_puntos_dobles", "12..345.678-5", rut.ErrFormat},
	{"rechaza_coma_como_separador", "12,345,678-5", rut.ErrFormat},
	{"rechaza_puntos_sin_guion", "12.345.6785", rut.ErrFormat},
	{"rechaza_cuerpo_cero", "0-0", rut.ErrFormat},
	{"rechaza_solo_ceros", "00.000.000-0", rut.ErrFormat},
	{"rechaza_6_digitos", "999.999-K", rut.ErrFormat},
	{"rechaza_6_digitos_con_ceros_iniciales", "00999999-K", rut.ErrFormat},
	{"rechaza_9_digitos_significativos", "123.456.789-2", rut.ErrFormat},
	{"rechaza_9_digitos_con_cero_inicial", "0123456789-2", rut.ErrFormat},
	{"rechaza_formato_antes_que_digito_verificador", "1.2345.678-0", rut.ErrFormat},
	{"rechaza_digito_verificador_incorrecto", "12.345.678-6", rut.ErrCheckDigit},
	{"rechaza_digito_verificador_incorrecto_sin_guion", "123456786", rut.ErrCheckDigit},
	{"rechaza_digito_verificador_incorrecto_con_ceros_iniciales", "09.876.543-4", rut.ErrCheckDigit},
	{"rechaza_k_cuando_corresponde_digito", "12.345.678-K", rut.ErrCheckDigit},
	{"rechaza_digito_cuando_corresponde_k", "10.000.013-0", rut.ErrCheckDigit},
}

func TestNormalize(t *testing.T) {
	for _, tc := range validCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := rut.Normalize(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.True(t, rut.Valid(tc.in), "Valid(%q)", tc.in)
		})
	}
	for _, tc := range invalidCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := rut.Normalize(tc.in)
			require.ErrorIs(t, err, tc.want)
			assert.Empty(t, got)
			assert.False(t, rut.Valid(tc.in), "Valid(%q)", tc.in)
		})
	}
}

func TestNormalize_forma_canonica_es_punto_fijo(t *testing.T) {
	for _, tc := range validCases {
		got, err := rut.Normalize(tc.want)
		require.NoError(t, err)
		assert.Equal(t, tc.want, got)
	}
}

func TestErrores(t *testing.T) {
	t.Run("mensaje_de_formato_en_espanol", func(t *testing.T) {
		assert.EqualError(t, rut.ErrFormat, "formato de RUT inválido; use 12.345.678-5")
	})
	t.Run("mensaje_de_digito_verificador_en_espanol", func(t *testing.T) {
		assert.EqualError(t, rut.ErrCheckDigit, "dígito verificador incorrecto")
	})
	t.Run("no_repite_la_entrada_en_el_error", func(t *testing.T) {
		_, err := rut.Normalize("<script>12.345.678-5")
		require.ErrorIs(t, err, rut.ErrFormat)
		assert.NotContains(t, err.Error(), "script")
	})
}

func TestCheckDigit(t *testing.T) {
	cases := []struct {
		body int
		want byte
	}{
		{12345678, '5'},
		{9876543, '3'},
		{76543210, '3'},
		{11111111, '1'},
		{26271832, '8'},
		{10000013, 'K'},
		{5000001, 'K'},
		{10000004, '0'},
		{1000000, '9'},
		{99999999, '9'},
		{0, '0'},
	}
	for _, tc := range cases {
		t.Run("calcula_"+strconv.Itoa(tc.body), func(t *testing.T) {
			assert.Equal(t, string(tc.want), string(rut.CheckDigit(tc.body)))
		})
	}
	t.Run("ignora_el_signo", func(t *testing.T) {
		assert.Equal(t, rut.CheckDigit(12345678), rut.CheckDigit(-12345678))
	})
	t.Run("no_entra_en_panico_en_los_extremos", func(t *testing.T) {
		for _, n := range []int{math.MinInt, math.MaxInt} {
			d := rut.CheckDigit(n)
			assert.True(t, d == 'K' || (d >= '0' && d <= '9'), "CheckDigit(%d) = %q", n, d)
		}
	})
}

func TestFormat(t *testing.T) {
	cases := []struct {
		name string
		body int
		dv   byte
		want string
	}{
		{"formatea_7_digitos", 9876543, '3', "9.876.543-3"},
		{"formatea_8_digitos", 12345678, '5', "12.345.678-5"},
		{"formatea_k_minuscula_en_mayuscula", 10000013, 'k', "10.000.013-K"},
		{"formatea_k_mayuscula", 10000013, 'K', "10.000.013-K"},
		{"formatea_minimo", 1000000, '9', "1.000.000-9"},
		{"formatea_sin_validar_cuerpo_corto", 999, '1', "999-1"},
		{"formatea_cero", 0, '0', "0-0"},
		{"formatea_negativo_con_signo", -1234, '3', "-1.234-3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, rut.Format(tc.body, tc.dv))
		})
	}
	t.Run("formatea_minimo_entero_sin_panico", func(t *testing.T) {
		got := rut.Format(math.MinInt, '0')
		assert.True(t, strings.HasPrefix(got, "-") && strings.HasSuffix(got, "-0"), "got %q", got)
	})
}

func TestNormalize_no_asigna_memoria_si_ya_es_canonico(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = rut.Normalize("12.345.678-5")
		_ = rut.Valid(" 012345678-5 ")
	})
	assert.Zero(t, allocs)
}

func FuzzNormalize(f *testing.F) {
	for _, tc := range validCases {
		f.Add(tc.in)
	}
	for _, tc := range invalidCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := rut.Normalize(s)
		if assert.Equal(t, err == nil, rut.Valid(s), "Valid disagrees with Normalize for %q", s) && err != nil {
			if !assert.True(t, errors.Is(err, rut.ErrFormat) || errors.Is(err, rut.ErrCheckDigit), "unexpected error %v", err) {
				return
			}
			assert.Empty(t, got)
			return
		}
		assertCanonical(t, got)
		again, err := rut.Normalize(got)
		require.NoError(t, err)
		assert.Equal(t, got, again, "Normalize is not idempotent for %q", s)
		assert.True(t, rut.Valid(got))
	})
}

// assertCanonical checks s against the canonical shape independently of
// Normalize: no leading zero, body of 7 or 8 digits with dots exactly where
// Format puts them, a hyphen, and the correct uppercase check digit.
func assertCanonical(t *testing.T, s string) {
	t.Helper()
	body, dv, ok := strings.Cut(s, "-")
	require.True(t, ok, "no hyphen in %q", s)
	require.Len(t, dv, 1, "check digit of %q", s)
	n, err := strconv.Atoi(strings.ReplaceAll(body, ".", ""))
	require.NoError(t, err, "body of %q", s)
	assert.True(t, n >= 1_000_000 && n <= 99_999_999, "body out of range in %q", s)
	assert.NotEqual(t, byte('0'), body[0], "leading zero in %q", s)
	assert.Equal(t, rut.CheckDigit(n), dv[0], "check digit of %q", s)
	assert.Equal(t, rut.Format(n, dv[0]), s)
}

func BenchmarkNormalize(b *testing.B) {
	inputs := []struct{ name, in string }{
		{"canonico", "12.345.678-5"},
		{"sin_puntos", "12345678-5"},
		{"con_espacios_y_k_minuscula", " 010.000.013-k "},
		{"invalido", "1.2345.678-5"},
	}
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = rut.Normalize(in.in)
			}
		})
	}
}
