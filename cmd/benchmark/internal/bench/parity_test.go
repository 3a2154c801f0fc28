package bench

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/cmd/benchmark/internal/bench/baseline"
	"github.com/banpro/factoring/cmd/benchmark/internal/bench/dataset"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/testkit"
	"github.com/banpro/factoring/internal/verificar"
)

// TestBaselineParity ensures that the baseline does the API's work: for
// every read scenario it answers exactly the API's data (cursors aside,
// whose encoding is the API's own), and its mutations write what the
// services write, keeping every invariant.
func TestBaselineParity(t *testing.T) {
	ctx := context.Background()
	db := testkit.Postgres(t)
	_, err := dataset.LoadDB(ctx, db, dataset.Config{Clientes: 30, Now: testkit.Hoy})
	require.NoError(t, err)
	api, _ := testkit.Serve(t, db, testkit.ServeOptions{})
	pool := poolFor(t, db)
	base := baseline.New(pool, testkit.Dec("2.00"), testkit.Santiago)
	base.SetClock(clock.NewFixed(testkit.Hoy))

	t.Run("Q1", func(t *testing.T) {
		got, err := base.Q1(ctx, 50)
		require.NoError(t, err)
		assertSameData(t, api.Do(queryQ1, nil), got)
	})
	t.Run("Q2", func(t *testing.T) {
		got, err := base.Q2(ctx, 20, 10, false)
		require.NoError(t, err)
		assertSameData(t, api.Do(queryQ2, nil), got)
	})
	t.Run("Q2TotalCount", func(t *testing.T) {
		got, err := base.Q2(ctx, 20, 10, true)
		require.NoError(t, err)
		assertSameData(t, api.Do(queryQ2TotalCount, nil), got)
	})
	t.Run("FTotalCount", func(t *testing.T) {
		got, err := base.FacturasTotalCount(ctx, 20, "DISPONIBLE")
		require.NoError(t, err)
		assertSameData(t, api.Do(queryFacturasTotalCount, nil), got)
		var page struct {
			Data struct{ Facturas struct{ TotalCount int } }
		}
		require.NoError(t, json.Unmarshal(got, &page))
		var want int
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM facturas WHERE estado = 'DISPONIBLE'").Scan(&want))
		assert.Greater(t, want, 20, "the page is full and the count goes past it")
		assert.Equal(t, want, page.Data.Facturas.TotalCount)
	})
	t.Run("Q3", func(t *testing.T) {
		// One operación in each state.
		rows, err := pool.Query(ctx, "SELECT DISTINCT ON (estado) id FROM operaciones ORDER BY estado, id")
		require.NoError(t, err)
		var ids []int
		for rows.Next() {
			var id int
			require.NoError(t, rows.Scan(&id))
			ids = append(ids, id)
		}
		require.NoError(t, rows.Err())
		require.Len(t, ids, 5)
		for _, id := range ids {
			got, err := base.Q3(ctx, id)
			require.NoError(t, err)
			assertSameData(t, api.Do(queryQ3, map[string]any{"id": gid.Encode(id)}), got)
		}
	})

	t.Run("M1", func(t *testing.T) {
		// Ensure that the baseline prices and records an operación as the
		// API does: create one through the API, reject it (the invoices
		// are DISPONIBLE again), create the same one through the
		// baseline, and compare the CREADA events' detalle.
		p, _, err := loadM1Pool(ctx, pool, testkit.Santiago, 1, 1)
		require.NoError(t, err)
		clienteID, facturas, ok := p.next(0)
		require.True(t, ok)
		var created struct{ CrearOperacion struct{ ID string } }
		res := api.Do(mutationCrear, map[string]any{"input": map[string]any{
			"clienteId": gid.Encode(clienteID), "facturaIds": gid.EncodeAll(facturas)}})
		skipIfAuth(t, res)
		require.Empty(t, res.Errors, res.Raw)
		require.NoError(t, json.Unmarshal(res.Data, &created))
		res = api.Do(`mutation($id: ID!) { rechazarOperacion(id: $id, motivo: "Para comparar") { id } }`,
			map[string]any{"id": created.CrearOperacion.ID})
		require.Empty(t, res.Errors, res.Raw)

		op, err := base.Crear(ctx, clienteID, facturas, "bench-analista", "bench-base-1")
		require.NoError(t, err)
		_, err = base.Aprobar(ctx, op.DBID(), "bench-riesgo", "bench-base-2")
		require.NoError(t, err)

		apiID, _, _ := gid.Decode(created.CrearOperacion.ID)
		detalle := func(opID int) map[string]any {
			var raw []byte
			require.NoError(t, pool.QueryRow(ctx, "SELECT detalle FROM operacion_eventos WHERE operacion_id = $1 AND tipo = 'CREADA'", opID).Scan(&raw))
			var m map[string]any
			require.NoError(t, json.Unmarshal(raw, &m))
			return m
		}
		assert.Equal(t, detalle(apiID), detalle(op.DBID()))

		// The integration events in the outbox: one per change, of the
		// same type and subject, with the same data but for the ids.
		outbox := func(opID int) (tipos []string, creada map[string]any) {
			rows, err := pool.Query(ctx, "SELECT tipo, cuerpo FROM outbox_eventos WHERE sujeto = $1 ORDER BY id", gid.Encode(opID))
			require.NoError(t, err)
			defer rows.Close()
			for rows.Next() {
				var tipo, cuerpo string
				require.NoError(t, rows.Scan(&tipo, &cuerpo))
				tipos = append(tipos, tipo)
				if tipo == "operacion.creada" {
					var sobre struct{ Data map[string]any }
					require.NoError(t, json.Unmarshal([]byte(cuerpo), &sobre))
					creada = sobre.Data
					for _, k := range []string{"event_id", "request_id", "operacion_id"} {
						assert.NotEmpty(t, creada[k], k)
						delete(creada, k)
					}
				}
			}
			require.NoError(t, rows.Err())
			return tipos, creada
		}
		apiTipos, apiCreada := outbox(apiID)
		baseTipos, baseCreada := outbox(op.DBID())
		assert.Equal(t, []string{"operacion.creada", "operacion.rechazada"}, apiTipos)
		assert.Equal(t, []string{"operacion.creada", "operacion.aprobada"}, baseTipos)
		assert.Equal(t, apiCreada, baseCreada)

		_, err = base.Aprobar(ctx, op.DBID(), "bench-riesgo", "bench-base-3")
		assert.ErrorIs(t, err, baseline.ErrEstado)

		rep, err := verificar.Run(ctx, db.Client)
		require.NoError(t, err)
		assert.Empty(t, rep.Violations)
	})

	t.Run("M2", func(t *testing.T) {
		// Ensure that the baseline's approvals under contention end as
		// the domain's concurrency rule: exactly the covered ones succeed.
		fix, err := dataset.NewContention(ctx, pool, dataset.ContentionConfig{Operaciones: 30, Cubiertas: 7, Now: testkit.Hoy})
		require.NoError(t, err)
		e := &env{base: base}
		var out m2Outcome
		res := e.m2Base(ctx, 8, fix.OperacionIDs, &out)
		assert.Zero(t, res.Errors, res.ErrorSamples)
		assert.EqualValues(t, 7, out.approved.Load())
		assert.EqualValues(t, 23, out.refused.Load())
		rep, err := verificar.Run(ctx, db.Client)
		require.NoError(t, err)
		assert.Empty(t, rep.Violations)
	})
}

func skipIfAuth(t *testing.T, res testkit.Response) {
	t.Helper()
	for _, e := range res.Errors {
		if e.Extensions.Code == "UNAUTHENTICATED" || e.Extensions.Code == "FORBIDDEN" {
			t.Skipf("the test server asks for credentials: %s", e.Message)
		}
	}
}

// poolFor opens a pgx pool on the test database db.
func poolFor(t *testing.T, db *database.DB) *pgxpool.Pool {
	t.Helper()
	var name string
	require.NoError(t, db.SQL.QueryRow("SELECT current_database()").Scan(&name))
	u, err := url.Parse(testkit.PostgresServerURL())
	require.NoError(t, err)
	u.Path = "/" + name
	pool, err := pgxpool.New(context.Background(), u.String())
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

// assertSameData compares the API's data with the baseline's body, after
// dropping cursors and writing every instant in one form.
func assertSameData(t *testing.T, res testkit.Response, body []byte) {
	t.Helper()
	require.Empty(t, res.Errors, res.Raw)
	var got struct{ Data any }
	require.NoError(t, json.Unmarshal(body, &got))
	var want any
	require.NoError(t, json.Unmarshal(res.Data, &want))
	assert.Equal(t, normalize(want), normalize(got.Data))
}

func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if k != "endCursor" {
				out[k] = normalize(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case string:
		if ts, err := time.Parse(time.RFC3339Nano, x); err == nil {
			return ts.UTC().Format(time.RFC3339Nano)
		}
		return x
	}
	return v
}
