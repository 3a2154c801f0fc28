package main

import (
	"flag"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Ensure that `factoring <comando> -h` describes the command in Spanish,
// lists its flags and shows an example, on stdout and with success, even
// when the configuration is invalid; and that a bad flag still prints the
// usage to stderr as a usage error.
func TestAyudaDeCadaComando(t *testing.T) {
	banderas := map[string][]string{
		"serve":           {"-migrate", "-seed", "-addr"},
		"worker":          nil,
		"migrate":         nil,
		"seed":            {"-solo-disponibles"},
		"verificar":       nil,
		"marcar-vencidas": nil,
		"token":           {"-sub", "-roles", "-ttl"},
		"healthcheck":     {"-addr", "-timeout"},
		"schema":          nil,
		"version":         nil,
	}
	require.Len(t, ayudas, len(banderas), "every command has its help")
	c := sqliteCLI(t)
	c.env["FACTORING_TASA_DESCUENTO"] = "0" // -h does not need a valid configuration
	for cmd, flags := range banderas {
		for _, h := range []string{"-h", "--help"} {
			t.Run(cmd+h, func(t *testing.T) {
				out, errOut, err := c.run(cmd, h)
				require.ErrorIs(t, err, flag.ErrHelp)
				assert.Empty(t, errOut)
				a := ayudas[cmd]
				assert.True(t, strings.HasPrefix(out, "Uso: factoring "+cmd), out)
				assert.Contains(t, out, a.descripcion)
				assert.Greater(t, len(a.descripcion), 60, "one paragraph, not a label")
				assert.Contains(t, out, "\nEjemplo:\n  ")
				assert.Contains(t, out, strings.TrimSpace(a.ejemplo))
				assert.NotContains(t, out, "Usage of", "Spanish, not flag's default")
				if len(flags) == 0 {
					assert.NotContains(t, out, "Opciones:")
				} else {
					assert.Contains(t, out, "\nOpciones:\n")
				}
				for _, f := range flags {
					assert.Contains(t, out, "  "+f, cmd)
				}
			})
		}
	}
	t.Run("bandera_desconocida_va_a_stderr", func(t *testing.T) {
		out, errOut, err := sqliteCLI(t).run("verificar", "--rapido")
		require.ErrorIs(t, err, errUsage)
		assert.Empty(t, out)
		assert.Contains(t, errOut, "rapido")
		assert.Contains(t, errOut, "Uso: factoring verificar")
	})
	t.Run("la_ayuda_general_los_nombra", func(t *testing.T) {
		out := sqliteCLI(t).mustRun("help")
		for cmd := range banderas {
			assert.Contains(t, out, "\n  "+cmd, cmd)
		}
		assert.Contains(t, out, "-h")
	})
}
