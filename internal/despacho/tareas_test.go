package despacho_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/despacho"
	"github.com/banpro/factoring/internal/testkit"
)

// TestTareaProgramadaUnaVez: four replicas wake for the same scheduled run
// of the overdue job; exactly one runs it, the run records who, and the
// next day's run is a new one.
func TestTareaProgramadaUnaVez(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		var runs atomic.Int32
		tarea := despacho.Tarea{Nombre: "marcar-vencidas", Cron: "0 6 * * *", Ejecutar: func(context.Context) error {
			runs.Add(1)
			time.Sleep(20 * time.Millisecond)
			return nil
		}}
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // 06:00 in Santiago (UTC-3)
		var wg sync.WaitGroup
		var ran atomic.Int32
		for range 4 {
			d := nuevo(t, db)
			wg.Go(func() {
				ok, err := d.EjecutarProgramada(ctx, tarea, at)
				assert.NoError(t, err)
				if ok {
					ran.Add(1)
				}
			})
		}
		wg.Wait()
		assert.Equal(t, int32(1), runs.Load())
		assert.Equal(t, int32(1), ran.Load())
		row := db.Client.TareaEjecucion.Query().OnlyX(ctx)
		assert.NotEmpty(t, row.Replica)
		require.NotNil(t, row.TerminadaEn)
		assert.Nil(t, row.Error)

		ok, err := nuevo(t, db).EjecutarProgramada(ctx, tarea, at.AddDate(0, 0, 1))
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, int32(2), runs.Load())
	})
}

// TestTareaRecuperaLaPerdida: a replica starting after a scheduled time it
// missed (within Recuperar) runs it at once; a second replica starting
// later does not run it again.
func TestTareaRecuperaLaPerdida(t *testing.T) {
	db := testkit.SQLite(t)
	santiago, err := time.LoadLocation("America/Santiago")
	require.NoError(t, err)
	var runs atomic.Int32
	tarea := despacho.Tarea{Nombre: "marcar-vencidas", Cron: "0 6 * * *", Zona: santiago, Recuperar: 25 * time.Hour, // always one 06:00 within it
		Ejecutar: func(context.Context) error { runs.Add(1); return nil }}
	for range 2 {
		stop := correr(t, nuevo(t, db, func(o *despacho.Opciones) { o.Tareas = []despacho.Tarea{tarea} }))
		esperar(t, 10*time.Second, "la ejecución recuperada", func() bool { return runs.Load() >= 1 })
		stop()
	}
	assert.Equal(t, int32(1), runs.Load())
	row := db.Client.TareaEjecucion.Query().OnlyX(ctx)
	local := row.ProgramadaPara.In(santiago)
	assert.Equal(t, 6, local.Hour(), "scheduled at 06:00 in Santiago")
	assert.Zero(t, local.Minute())
	assert.False(t, row.ProgramadaPara.After(time.Now()))
}
