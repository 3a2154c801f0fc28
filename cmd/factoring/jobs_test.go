package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/clock"
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
