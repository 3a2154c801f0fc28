package config_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/config"
)

// env is an environment for config.Load.
func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func TestPorOmision(t *testing.T) {
	cfg, err := config.Load(env(nil))
	require.NoError(t, err)
	assert.Equal(t, "sqlite://./data/factoring.db", cfg.DatabaseURL)
	assert.Equal(t, ":8080", cfg.HTTPAddr)
	assert.Equal(t, "2.00", cfg.TasaDescuento.StringFixed(2))
	assert.True(t, cfg.TasaDescuento.Equal(cfg.TasaDescuento.Round(2)))
	require.NotNil(t, cfg.TimeZone)
	assert.Equal(t, "America/Santiago", cfg.TimeZone.String())
	assert.Equal(t, slog.LevelInfo, cfg.LogLevel)
	assert.Equal(t, "json", cfg.LogFormat)
	assert.True(t, cfg.Playground)
	assert.True(t, cfg.Introspection)
	assert.Equal(t, 16, cfg.DBMaxConns)
	assert.Equal(t, 30*time.Second, cfg.RequestTimeout)
	assert.Empty(t, cfg.TrustedDocuments, "any operation runs unless a list is given")
	// The original's figures: the whole face value advanced, no
	// commission, no late interest; today's business date.
	assert.Equal(t, "100.00", cfg.Anticipo.StringFixed(2))
	assert.Equal(t, "0.00", cfg.Comision.StringFixed(2))
	assert.Equal(t, "0.00", cfg.TasaMora.StringFixed(2))
	assert.Equal(t, 30, cfg.DiasRecompra)
	assert.True(t, cfg.FechaNegocio.IsZero())
	assert.Equal(t, 20, cfg.SubscriptionsPerConnection)
	assert.Equal(t, 10, cfg.SubscriptionConnectionsPerSubject)
	assert.Equal(t, 256, cfg.SubscriptionBuffer)
	assert.Equal(t, "100.00", cfg.ConcentracionMaxima.StringFixed(2), "no cap on one deudor")
	assert.False(t, cfg.ExigirAcuse, "the original flow: an acuse is not required")

	t.Run("vacias_valen_como_ausentes", func(t *testing.T) {
		empty, err := config.Load(env(map[string]string{
			"FACTORING_DATABASE_URL": "", "FACTORING_HTTP_ADDR": " ", "FACTORING_TASA_DESCUENTO": "",
			"FACTORING_TIMEZONE": "", "FACTORING_LOG_LEVEL": "", "FACTORING_PLAYGROUND": "",
		}))
		require.NoError(t, err)
		assert.Equal(t, cfg.DatabaseURL, empty.DatabaseURL)
		assert.Equal(t, cfg.HTTPAddr, empty.HTTPAddr)
		assert.True(t, cfg.TasaDescuento.Equal(empty.TasaDescuento))
		assert.Equal(t, cfg.TimeZone.String(), empty.TimeZone.String())
		assert.True(t, empty.Playground)
	})
}

func TestValoresValidos(t *testing.T) {
	cfg, err := config.Load(env(map[string]string{
		"FACTORING_DATABASE_URL":                         "postgres://app:clave@db:5432/factoring?sslmode=disable",
		"FACTORING_HTTP_ADDR":                            "127.0.0.1:0",
		"FACTORING_TASA_DESCUENTO":                       " 2.5 ",
		"FACTORING_TIMEZONE":                             "UTC",
		"FACTORING_LOG_LEVEL":                            "DEBUG",
		"FACTORING_LOG_FORMAT":                           "text",
		"FACTORING_PLAYGROUND":                           "false",
		"FACTORING_INTROSPECTION":                        "0",
		"FACTORING_TRUSTED_DOCUMENTS":                    "/etc/factoring/documentos.json",
		"FACTORING_CONCENTRACION_MAXIMA":                 "35.5",
		"FACTORING_EXIGIR_ACUSE":                         "true",
		"FACTORING_ANTICIPO":                             "90",
		"FACTORING_COMISION":                             "15000.5",
		"FACTORING_TASA_MORA":                            "1.5",
		"FACTORING_DIAS_RECOMPRA":                        "45",
		"FACTORING_FECHA_NEGOCIO":                        "2026-12-31",
		"FACTORING_SUBSCRIPTIONS_PER_CONNECTION":         "5",
		"FACTORING_SUBSCRIPTION_CONNECTIONS_PER_SUBJECT": "1000",
		"FACTORING_SUBSCRIPTION_BUFFER":                  "16",
	}))
	require.NoError(t, err)
	assert.Equal(t, "postgres://app:clave@db:5432/factoring?sslmode=disable", cfg.DatabaseURL)
	assert.Equal(t, "127.0.0.1:0", cfg.HTTPAddr)
	assert.Equal(t, "2.50", cfg.TasaDescuento.StringFixed(2))
	assert.Equal(t, "UTC", cfg.TimeZone.String())
	assert.Equal(t, slog.LevelDebug, cfg.LogLevel)
	assert.Equal(t, "text", cfg.LogFormat)
	assert.False(t, cfg.Playground)
	assert.False(t, cfg.Introspection)
	assert.Equal(t, "/etc/factoring/documentos.json", cfg.TrustedDocuments)
	assert.Equal(t, "90.00", cfg.Anticipo.StringFixed(2))
	assert.Equal(t, "15000.50", cfg.Comision.StringFixed(2))
	assert.Equal(t, "1.50", cfg.TasaMora.StringFixed(2))
	assert.Equal(t, 45, cfg.DiasRecompra)
	assert.Equal(t, time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), cfg.FechaNegocio)
	assert.Equal(t, 5, cfg.SubscriptionsPerConnection)
	assert.Equal(t, 1000, cfg.SubscriptionConnectionsPerSubject)
	assert.Equal(t, 16, cfg.SubscriptionBuffer)
	assert.Equal(t, "35.50", cfg.ConcentracionMaxima.StringFixed(2))
	assert.True(t, cfg.ExigirAcuse)

	for _, tasa := range []string{"100", "100.00", "0.01", "2", "2.1", "2.120"} {
		t.Run("tasa_aceptada_"+tasa, func(t *testing.T) {
			cfg, err := config.Load(env(map[string]string{"FACTORING_TASA_DESCUENTO": tasa}))
			require.NoError(t, err)
			assert.True(t, cfg.TasaDescuento.IsPositive())
		})
	}
	for _, addr := range []string{":0", "0.0.0.0:8080", "[::1]:9000", "localhost:8080"} {
		t.Run("direccion_aceptada_"+addr, func(t *testing.T) {
			_, err := config.Load(env(map[string]string{"FACTORING_HTTP_ADDR": addr}))
			require.NoError(t, err)
		})
	}
	t.Run("sqlite_con_ruta", func(t *testing.T) {
		cfg, err := config.Load(env(map[string]string{"FACTORING_DATABASE_URL": "sqlite:///var/lib/factoring/db.sqlite"}))
		require.NoError(t, err)
		assert.Equal(t, "sqlite:///var/lib/factoring/db.sqlite", cfg.DatabaseURL)
	})
}

// Ensure that each invalid value stops the start with a message that names
// its variable.
func TestValoresInvalidos(t *testing.T) {
	cases := []struct{ name, variable, value string }{
		{"tasa_cero", "FACTORING_TASA_DESCUENTO", "0"},
		{"tasa_negativa", "FACTORING_TASA_DESCUENTO", "-1"},
		{"tasa_sobre_100", "FACTORING_TASA_DESCUENTO", "100.01"},
		{"tasa_no_numerica", "FACTORING_TASA_DESCUENTO", "abc"},
		{"tasa_con_tres_decimales", "FACTORING_TASA_DESCUENTO", "2.125"},
		{"tasa_con_exponente", "FACTORING_TASA_DESCUENTO", "2e0"},
		{"tasa_con_porcentaje", "FACTORING_TASA_DESCUENTO", "2%"},
		{"concentracion_cero", "FACTORING_CONCENTRACION_MAXIMA", "0"},
		{"concentracion_sobre_100", "FACTORING_CONCENTRACION_MAXIMA", "100.01"},
		{"concentracion_con_tres_decimales", "FACTORING_CONCENTRACION_MAXIMA", "30.125"},
		{"exigir_acuse_no_booleano", "FACTORING_EXIGIR_ACUSE", "a veces"},
		{"zona_horaria_desconocida", "FACTORING_TIMEZONE", "Mars/Base"},
		{"direccion_sin_dos_puntos", "FACTORING_HTTP_ADDR", "8080"},
		{"direccion_sin_puerto", "FACTORING_HTTP_ADDR", "localhost:"},
		{"nivel_de_log_desconocido", "FACTORING_LOG_LEVEL", "loud"},
		{"formato_de_log_desconocido", "FACTORING_LOG_FORMAT", "xml"},
		{"base_mysql", "FACTORING_DATABASE_URL", "mysql://"},
		{"base_sin_esquema", "FACTORING_DATABASE_URL", "./data/factoring.db"},
		{"playground_no_booleano", "FACTORING_PLAYGROUND", "quizas"},
		{"introspeccion_no_booleana", "FACTORING_INTROSPECTION", "si"},
		{"conexiones_cero", "FACTORING_DB_MAX_CONNS", "0"},
		{"conexiones_no_numericas", "FACTORING_DB_MAX_CONNS", "muchas"},
		{"timeout_sin_unidad", "FACTORING_REQUEST_TIMEOUT", "30"},
		{"timeout_demasiado_corto", "FACTORING_REQUEST_TIMEOUT", "1ms"},
		{"anticipo_cero", "FACTORING_ANTICIPO", "0"},
		{"anticipo_sobre_100", "FACTORING_ANTICIPO", "100.01"},
		{"anticipo_tres_decimales", "FACTORING_ANTICIPO", "90.125"},
		{"comision_negativa", "FACTORING_COMISION", "-1"},
		{"comision_tres_decimales", "FACTORING_COMISION", "10.001"},
		{"comision_no_numerica", "FACTORING_COMISION", "diez"},
		{"comision_demasiado_grande", "FACTORING_COMISION", "10000000000000"},
		{"tasa_mora_negativa", "FACTORING_TASA_MORA", "-0.5"},
		{"tasa_mora_sobre_100", "FACTORING_TASA_MORA", "100.5"},
		{"tasa_mora_tres_decimales", "FACTORING_TASA_MORA", "1.505"},
		{"dias_recompra_negativos", "FACTORING_DIAS_RECOMPRA", "-1"},
		{"dias_recompra_no_numericos", "FACTORING_DIAS_RECOMPRA", "treinta"},
		{"fecha_negocio_mal_escrita", "FACTORING_FECHA_NEGOCIO", "26-11-2026"},
		{"fecha_negocio_inexistente", "FACTORING_FECHA_NEGOCIO", "2026-02-30"},
		{"suscripciones_por_conexion_cero", "FACTORING_SUBSCRIPTIONS_PER_CONNECTION", "0"},
		{"conexiones_por_sujeto_no_numericas", "FACTORING_SUBSCRIPTION_CONNECTIONS_PER_SUBJECT", "muchas"},
		{"buffer_negativo", "FACTORING_SUBSCRIPTION_BUFFER", "-1"},
		{"rol_con_mayusculas", "FACTORING_DB_SERVING_ROLE", "Factoring"},
		{"rol_con_inyeccion", "FACTORING_DB_SERVING_ROLE", "x; DROP TABLE clientes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(env(map[string]string{tc.variable: tc.value}))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.variable, "the message names the variable")
			for _, c := range cases {
				if c.variable != tc.variable {
					assert.NotContains(t, err.Error(), c.variable+":", "only the wrong variable is blamed")
				}
			}
		})
	}
}

func TestVariosErroresALaVez(t *testing.T) {
	_, err := config.Load(env(map[string]string{
		"FACTORING_TASA_DESCUENTO": "0",
		"FACTORING_TIMEZONE":       "Mars/Base",
		"FACTORING_HTTP_ADDR":      "8080",
		"FACTORING_LOG_LEVEL":      "loud",
		"FACTORING_DATABASE_URL":   "mysql://",
	}))
	require.Error(t, err)
	msg := err.Error()
	for _, v := range []string{"FACTORING_TASA_DESCUENTO", "FACTORING_TIMEZONE", "FACTORING_HTTP_ADDR", "FACTORING_LOG_LEVEL", "FACTORING_DATABASE_URL"} {
		assert.Contains(t, msg, v, "every problem is reported at once")
	}
	assert.Equal(t, 5, strings.Count(msg, "\n")+1, "one line per problem:\n%s", msg)
}

// Ensure that the admin listener is on by default on loopback only, "off"
// turns it off, FACTORING_PPROF_ADDR still names it (with a deprecation to
// log) unless FACTORING_ADMIN_ADDR is set, and it never shares the API's
// port.
func TestEscuchaDeAdministracion(t *testing.T) {
	load := func(t *testing.T, vars map[string]string) (config.Config, error) {
		t.Helper()
		return config.Load(env(vars))
	}
	cfg, err := load(t, nil)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:9090", cfg.AdminAddr, "loopback by default, never the public interface")
	assert.Empty(t, cfg.Deprecated)

	for _, off := range []string{"off", "OFF"} {
		cfg, err = load(t, map[string]string{"FACTORING_ADMIN_ADDR": off})
		require.NoError(t, err)
		assert.Empty(t, cfg.AdminAddr)
	}

	cfg, err = load(t, map[string]string{"FACTORING_ADMIN_ADDR": ":9100"})
	require.NoError(t, err)
	assert.Equal(t, ":9100", cfg.AdminAddr)

	cfg, err = load(t, map[string]string{"FACTORING_PPROF_ADDR": "127.0.0.1:6060"})
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:6060", cfg.AdminAddr, "the old variable still names the listener")
	require.Len(t, cfg.Deprecated, 1)
	assert.Contains(t, cfg.Deprecated[0], "FACTORING_ADMIN_ADDR")

	cfg, err = load(t, map[string]string{"FACTORING_PPROF_ADDR": "127.0.0.1:6060", "FACTORING_ADMIN_ADDR": "127.0.0.1:9100"})
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:9100", cfg.AdminAddr, "the new variable wins")
	assert.Len(t, cfg.Deprecated, 1)

	cases := []struct {
		name  string
		vars  map[string]string
		blame string
	}{
		{"no_es_direccion", map[string]string{"FACTORING_ADMIN_ADDR": "9090"}, "FACTORING_ADMIN_ADDR"},
		{"mismo_puerto_que_la_api", map[string]string{"FACTORING_ADMIN_ADDR": ":8080"}, "FACTORING_ADMIN_ADDR"},
		{"mismo_puerto_en_todas_las_interfaces", map[string]string{"FACTORING_HTTP_ADDR": ":9090"}, "FACTORING_ADMIN_ADDR"},
		{"alias_en_el_puerto_de_la_api", map[string]string{"FACTORING_PPROF_ADDR": "0.0.0.0:8080"}, "FACTORING_PPROF_ADDR"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.vars)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.blame)
		})
	}
	t.Run("puertos_libres_no_chocan", func(t *testing.T) {
		_, err := load(t, map[string]string{"FACTORING_HTTP_ADDR": "127.0.0.1:0", "FACTORING_ADMIN_ADDR": "127.0.0.1:0"})
		require.NoError(t, err)
	})
}
