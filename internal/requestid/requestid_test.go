package requestid_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/requestid"
)

func TestSane(t *testing.T) {
	cases := []struct {
		name string
		id   string
		want bool
	}{
		{"acepta_letras_y_digitos", "abc123XYZ", true},
		{"acepta_punto_guion_y_guion_bajo", "a.b-c_d", true},
		{"acepta_un_caracter", "x", true},
		{"acepta_128_caracteres", strings.Repeat("a", 128), true},
		{"acepta_un_uuid", "5b1c2f4e-8f0a-4c1e-9d1b-2a3b4c5d6e7f", true},
		{"rechaza_vacio", "", false},
		{"rechaza_129_caracteres", strings.Repeat("a", 129), false},
		{"rechaza_espacio", "a b", false},
		{"rechaza_espacio_al_final", "abc ", false},
		{"rechaza_tabulador", "a\tb", false},
		{"rechaza_salto_de_linea", "a\nb", false},
		{"rechaza_retorno_de_carro", "a\rb", false},
		{"rechaza_nul", "a\x00b", false},
		{"rechaza_unicode", "año", false},
		{"rechaza_digito_no_ascii", "１２３", false},
		{"rechaza_barra", "a/b", false},
		{"rechaza_dos_puntos", "a:b", false},
		{"rechaza_comillas", `a"b`, false},
		{"rechaza_llaves", "{a}", false},
		{"rechaza_signo_mas", "a+b", false},
		{"rechaza_porcentaje", "a%20b", false},
		{"rechaza_128_caracteres_con_uno_invalido", strings.Repeat("a", 127) + "!", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, requestid.Sane(tc.id))
		})
	}
}

func TestNew(t *testing.T) {
	got := requestid.New()
	parsed, err := uuid.Parse(got)
	require.NoError(t, err)
	assert.Equal(t, got, parsed.String(), "the canonical form")
	assert.True(t, requestid.Sane(got), "a generated id is itself sane")
	assert.NotEqual(t, requestid.New(), requestid.New(), "every id is new")
}

func TestCorrelationFrom(t *testing.T) {
	assert.Equal(t, "mi-id.1", requestid.CorrelationFrom("mi-id.1"))
	assert.Equal(t, "corr-1", requestid.CorrelationFrom("corr-1", "req-1"), "the first sane value wins")
	assert.Equal(t, "req-1", requestid.CorrelationFrom("", "req-1"), "an absent header is skipped")
	assert.Equal(t, "req-1", requestid.CorrelationFrom("no vale", "req-1"), "an insane header is skipped")
	for name, v := range map[string]string{"vacio": "", "insensato": "no vale", "largo": strings.Repeat("a", 129)} {
		t.Run("nada_si_es_"+name, func(t *testing.T) {
			assert.Empty(t, requestid.CorrelationFrom(v))
		})
	}
}

func TestContexto(t *testing.T) {
	assert.Empty(t, requestid.FromContext(context.Background()), "outside a request there is no id")
	ctx := requestid.NewContext(context.Background(), "abc")
	assert.Equal(t, "abc", requestid.FromContext(ctx))
	assert.Equal(t, "def", requestid.FromContext(requestid.NewContext(ctx, "def")), "the innermost id wins")

	assert.Empty(t, requestid.Correlation(ctx), "no correlation id unless the caller sent one")
	assert.Equal(t, "corr", requestid.Correlation(requestid.WithCorrelation(ctx, "corr")))
	assert.Equal(t, "abc", requestid.FromContext(requestid.WithCorrelation(ctx, "corr")), "the request id stays")
}

func TestEnsure(t *testing.T) {
	ctx := requestid.NewContext(context.Background(), "abc")
	assert.Equal(t, "abc", requestid.FromContext(requestid.Ensure(ctx)), "an id it has is kept")
	got := requestid.FromContext(requestid.Ensure(context.Background()))
	_, err := uuid.Parse(got)
	assert.NoError(t, err, "outside a request a new UUID: %q", got)
}
