package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/testkit"
)

// Ensure that `factoring marcar-vencidas` marks VENCIDA exactly the demo's
// DISPONIBLE invoices due before the business date, and nothing the second
// time.
func TestMarcarVencidas(t *testing.T) {
	c := sqliteCLI(t)
	c.mustRun("migrate")
	c.mustRun("seed", "--solo-disponibles") // due 15, 20, 25, 30 (two), 35, 40, 45, 50, 60 (two) and 120 days after ahora

	later := func(args ...string) string {
		t.Helper()
		var out, errOut syncBuffer
		m := c.main(&out, &errOut)
		m.Clock = clock.NewFixed(ahora.Add(30 * 24 * time.Hour))
		require.NoError(t, m.Run(t.Context(), args), errOut.String())
		return out.String()
	}
	assert.Equal(t, "3 factura(s) marcada(s) VENCIDA\n", later("marcar-vencidas"), "due in 15, 20 and 25 days; those due in 30 are due today, not overdue")
	assert.Equal(t, "0 factura(s) marcada(s) VENCIDA\n", later("marcar-vencidas"))
	assert.Contains(t, c.mustRun("verificar"), "sin violaciones")
}

// Ensure that `factoring cierre` closes the business date
// (FACTORING_FECHA_NEGOCIO when set; the first run ever closes only that
// one), then, in order, every date since the last one closed, saying what
// each did; that a run with the date closed has nothing to do; and that a
// date after today is refused.
func TestCierre(t *testing.T) {
	c := sqliteCLI(t)
	c.mustRun("migrate")
	c.mustRun("seed", "--solo-disponibles") // due 15, 20, 25, 30 (two), 35, 40, 45, 50, 60 (two) and 120 days after ahora

	run := func(env map[string]string, args ...string) (string, error) {
		t.Helper()
		var out, errOut syncBuffer
		m := c.main(&out, &errOut)
		m.Clock = clock.NewFixed(ahora.Add(21 * 24 * time.Hour))
		getenv := m.Getenv
		m.Getenv = func(k string) (string, bool) {
			if v, ok := env[k]; ok {
				return v, true
			}
			return getenv(k)
		}
		err := m.Run(t.Context(), args)
		return out.String() + errOut.String(), err
	}
	hoy := ahora.Add(21 * 24 * time.Hour).In(testkit.Santiago).Format(time.DateOnly)
	replay := ahora.Add(19 * 24 * time.Hour).In(testkit.Santiago).Format(time.DateOnly)

	out, err := run(map[string]string{"FACTORING_FECHA_NEGOCIO": replay}, "cierre")
	require.NoError(t, err, out)
	assert.Equal(t, "cierre del "+replay+": 1 factura(s) marcada(s) VENCIDA, 1 en mora, interés devengado 0.00\n", out,
		"day 19: the one due in 15 days; no rate of mora, no interest")

	out, err = run(nil, "cierre")
	require.NoError(t, err, out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2, "days 20 and 21: %s", out)
	assert.True(t, strings.HasPrefix(lines[1], "cierre del "+hoy+": 1 factura(s) marcada(s) VENCIDA, 2 en mora"), lines[1])

	out, err = run(nil, "cierre")
	require.NoError(t, err, out)
	assert.Equal(t, "la fecha de negocio "+hoy+" ya estaba cerrada: nada que hacer\n", out)

	futuro := ahora.Add(30 * 24 * time.Hour).In(testkit.Santiago).Format(time.DateOnly)
	out, err = run(map[string]string{"FACTORING_FECHA_NEGOCIO": futuro}, "cierre")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no puede ser posterior a hoy")
	assert.Contains(t, c.mustRun("verificar"), "sin violaciones")
}
