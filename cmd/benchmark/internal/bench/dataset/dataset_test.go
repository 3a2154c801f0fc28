package dataset_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/cmd/benchmark/internal/bench/dataset"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/testkit"
	"github.com/banpro/factoring/internal/verificar"
)

// now is a fixed reference instant, so the test data is the same every day.
var now = time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)

// TestLoad ensures that a (small) dataset loads into a migrated database and
// keeps every invariant verificar checks, with the documented shape.
func TestLoad(t *testing.T) {
	db := testkit.Postgres(t)
	ctx := context.Background()
	sum, err := dataset.LoadDB(ctx, db, dataset.Config{Clientes: 40, Now: now})
	require.NoError(t, err)

	assert.Equal(t, 40, sum.Clientes)
	assert.Equal(t, 40*dataset.FacturasPorCliente, sum.Facturas)
	assert.Equal(t, 40*dataset.OperacionesPorCliente, sum.Operaciones)
	assert.Equal(t, 40*dataset.LinksPorCliente, sum.Links)
	for _, e := range estado.Operacion("").Values() {
		assert.Equal(t, 40*map[string]int{"PENDIENTE": 1, "APROBADA": 1, "RECHAZADA": 1, "DESEMBOLSADA": 2, "FINALIZADA": 5}[e],
			sum.OperacionesPorEstado[estado.Operacion(e)], e)
	}
	// Every state of the lifecycle; the dataset has no recourse (no
	// EN_RECOMPRA or RECOMPRADA facturas): only the API puts an invoice
	// back to its cliente.
	for _, e := range estado.Factura("").Values() {
		if e == string(estado.FacturaEnRecompra) || e == string(estado.FacturaRecomprada) {
			continue
		}
		assert.Positive(t, sum.FacturasPorEstado[estado.Factura(e)], e)
	}
	assert.Positive(t, sum.Cedibles)

	rep, err := verificar.Run(ctx, db.Client)
	require.NoError(t, err)
	assert.Empty(t, rep.Violations)
	assert.Equal(t, sum.Eventos, rep.Eventos)

	t.Run("SequencesContinueTheRanges", func(t *testing.T) {
		// Ensure that the API's next inserts get ids right after the
		// loaded ones, inside each type's range.
		var next int64
		require.NoError(t, db.SQL.QueryRowContext(ctx, "SELECT nextval(pg_get_serial_sequence('facturas', 'id'))").Scan(&next))
		assert.Equal(t, int64(1<<32+1+sum.Facturas), next)
	})

	t.Run("ErrNotEmpty", func(t *testing.T) {
		// Ensure that a second load refuses to touch a database with data.
		_, err := dataset.LoadDB(ctx, db, dataset.Config{Clientes: 1, Now: now})
		assert.ErrorIs(t, err, dataset.ErrNotEmpty)
	})

	t.Run("AddCedibles", func(t *testing.T) {
		// Ensure that topping up cedible facturas keeps the invariants and
		// the lines cover them.
		conn, err := db.SQL.Conn(ctx)
		require.NoError(t, err)
		defer conn.Close()
		require.NoError(t, conn.Raw(func(dc any) error {
			return dataset.AddCedibles(ctx, dc.(*stdlib.Conn).Conn(), dataset.TopUpConfig{Facturas: 100, Now: now})
		}))
		var cedibles int
		require.NoError(t, db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM facturas f JOIN clientes c ON c.id = f.cliente_id
			WHERE c.estado = 'ACTIVO' AND f.estado = 'DISPONIBLE' AND f.fecha_vencimiento >= $1`, now).Scan(&cedibles))
		assert.Equal(t, sum.Cedibles+100, cedibles)
		rep, err := verificar.Run(ctx, db.Client)
		require.NoError(t, err)
		assert.Empty(t, rep.Violations)
	})

	t.Run("Contention", func(t *testing.T) {
		// Ensure that the contention fixture is consistent too.
		conn, err := db.SQL.Conn(ctx)
		require.NoError(t, err)
		defer conn.Close()
		var c dataset.Contention
		require.NoError(t, conn.Raw(func(dc any) error {
			c, err = dataset.NewContention(ctx, dc.(*stdlib.Conn).Conn(), dataset.ContentionConfig{Operaciones: 20, Cubiertas: 5, Now: now})
			return err
		}))
		assert.Len(t, c.OperacionIDs, 20)
		assert.Equal(t, "5000000", c.LineaCredito.String())
		rep, err := verificar.Run(ctx, db.Client)
		require.NoError(t, err)
		assert.Empty(t, rep.Violations)
	})
}

// TestLoadDeterministic ensures that the same seed and date give the same
// data.
func TestLoadDeterministic(t *testing.T) {
	ctx := context.Background()
	digest := func() string {
		db := testkit.Postgres(t)
		_, err := dataset.LoadDB(ctx, db, dataset.Config{Clientes: 5, Now: now})
		require.NoError(t, err)
		var h string
		require.NoError(t, db.SQL.QueryRowContext(ctx, `SELECT md5(
			(SELECT string_agg(c::text, '|' ORDER BY id) FROM clientes c) ||
			(SELECT string_agg(f::text, '|' ORDER BY id) FROM facturas f) ||
			(SELECT string_agg(o::text, '|' ORDER BY id) FROM operaciones o) ||
			(SELECT string_agg(e::text, '|' ORDER BY id) FROM operacion_eventos e))`).Scan(&h))
		return h
	}
	assert.Equal(t, digest(), digest())
}

// TestLoadDBRefusesSQLite ensures that SQLite gets a clear refusal.
func TestLoadDBRefusesSQLite(t *testing.T) {
	_, err := dataset.LoadDB(context.Background(), testkit.SQLite(t), dataset.Config{Clientes: 1})
	assert.ErrorIs(t, err, dataset.ErrNotPostgres)
}
