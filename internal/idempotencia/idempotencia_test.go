package idempotencia_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/claveidempotencia"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/apptest"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
	dt "github.com/banpro/factoring/internal/domaintest"
	"github.com/banpro/factoring/internal/idempotencia"
	"github.com/banpro/factoring/internal/testdb"
)

var ctx = context.Background()

// Ensure that a key is 1 to 255 visible ASCII characters and nothing else.
func TestCheckKey(t *testing.T) {
	for _, ok := range []string{"a", strings.Repeat("k", 255), "0b9a3c1e-7f1d-4c55-9a61-3b1a2f8e9d10", "!~#$%&'()*+,-./:;<=>?@[\\]^_`{|}"} {
		assert.Nil(t, idempotencia.CheckKey(ok), "%q", ok)
	}
	for _, bad := range []string{"", strings.Repeat("k", 256), "con espacio", "tab\tulador", "nul\x00", "del\x7f", "línea\n", "ñandú", "\u00a0"} {
		err := idempotencia.CheckKey(bad)
		require.NotNil(t, err, "%q", bad)
		assert.Equal(t, apperror.Validation, err.Code)
		assert.Contains(t, err.Fields, idempotencia.HeaderKey)
	}
}

// Ensure that the fingerprint tells requests apart by operation text,
// operation name and variables, and only by them: the variables' key order
// and spacing do not count.
func TestFingerprint(t *testing.T) {
	fp := func(q, name string, vars map[string]any) string {
		t.Helper()
		h, err := idempotencia.Fingerprint(q, name, vars)
		require.NoError(t, err)
		require.Len(t, h, 32)
		return string(h)
	}
	base := fp("mutation M($a: ID!) { x(id: $a) }", "M", map[string]any{"a": "1", "b": map[string]any{"y": 1, "x": []any{"p", "q"}}})
	assert.Equal(t, base, fp("mutation M($a: ID!) { x(id: $a) }", "M", map[string]any{"b": map[string]any{"x": []any{"p", "q"}, "y": 1}, "a": "1"}))
	assert.NotEqual(t, base, fp("mutation M($a: ID!) { x(id: $a) } ", "M", map[string]any{"a": "1", "b": map[string]any{"y": 1, "x": []any{"p", "q"}}}), "operation text")
	assert.NotEqual(t, base, fp("mutation M($a: ID!) { x(id: $a) }", "N", map[string]any{"a": "1", "b": map[string]any{"y": 1, "x": []any{"p", "q"}}}), "operation name")
	assert.NotEqual(t, base, fp("mutation M($a: ID!) { x(id: $a) }", "M", map[string]any{"a": "2", "b": map[string]any{"y": 1, "x": []any{"p", "q"}}}), "a variable")
	assert.NotEqual(t, base, fp("mutation M($a: ID!) { x(id: $a) }", "M", map[string]any{"a": "1", "b": map[string]any{"y": 1, "x": []any{"q", "p"}}}), "a list's order")
	assert.Equal(t, fp("q", "", nil), fp("q", "", map[string]any{}), "no variables and an empty object are one request")
	assert.NotEqual(t, fp("ab", "c", nil), fp("a", "bc", nil), "parts do not run into each other")
}

// store is a Store over a test database with a fixed clock, which never
// waits for a run under way (the tests look at each outcome).
func store(t *testing.T, db *database.DB) (*idempotencia.Store, *clock.Fixed) {
	t.Helper()
	c := clock.NewFixed(apptest.Hoy)
	return idempotencia.New(db, idempotencia.Config{Clock: c, TTL: 24 * time.Hour, Lease: time.Minute, Wait: -1}), c
}

func begin(t *testing.T, s *idempotencia.Store, subject, key, huella string) *idempotencia.Claim {
	t.Helper()
	c, err := s.Begin(ctx, subject, key, fingerprint(huella))
	require.NoError(t, err)
	return c
}

// fingerprint stands for a request's fingerprint: 32 bytes from a name.
func fingerprint(name string) []byte {
	h, _ := idempotencia.Fingerprint(name, "", nil)
	return h
}

// mutate runs a mutation under claim's context: a transaction that writes
// one cliente, as a domain service would.
func mutate(s *idempotencia.Store, db *database.DB, claim *idempotencia.Claim) error {
	return db.WithTx(s.Context(ctx, claim), func(tx *ent.Tx) error {
		_, err := tx.Cliente.Create().SetRut(dt.NewRUT()).SetRazonSocial("Idem SpA").SetEmail("idem@ejemplo.cl").
			SetFechaRegistro(apptest.Hoy).SetLineaCredito(apptest.Dec("1")).SetLineaDisponible(apptest.Dec("1")).
			SetCreadoEn(apptest.Hoy).SetActualizadoEn(apptest.Hoy).Save(ctx)
		return err
	})
}

func clientes(t *testing.T, db *database.DB) int {
	t.Helper()
	n, err := db.Client.Cliente.Query().Count(ctx)
	require.NoError(t, err)
	return n
}

func claves(t *testing.T, db *database.DB) []*ent.ClaveIdempotencia {
	t.Helper()
	rows, err := db.Client.ClaveIdempotencia.Query().Order(ent.Asc(claveidempotencia.FieldID)).All(ctx)
	require.NoError(t, err)
	return rows
}

// TestStore walks a key through every path, on both dialects: the first
// request runs, the same request again replays, another request is
// refused, a failure that is not kept frees the key, and a crash at each
// step leaves a row that says what the retry gets.
func TestStore(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, clk := store(t, db)

		t.Run("primera_vez_corre_y_luego_se_repite_byte_a_byte", func(t *testing.T) {
			c := begin(t, s, "ana", "k-1", "A")
			require.Equal(t, idempotencia.Run, c.Outcome)
			assert.Equal(t, idempotencia.InProgress, begin(t, s, "ana", "k-1", "A").Outcome, "while it runs")
			assert.Equal(t, idempotencia.Reused, begin(t, s, "ana", "k-1", "B").Outcome, "another request, even while it runs")
			require.NoError(t, mutate(s, db, c))
			assert.Equal(t, idempotencia.InProgress, begin(t, s, "ana", "k-1", "A").Outcome,
				"committed, its response not yet saved: still in progress")

			body := []byte("{\"data\":{\"x\":\"ñ\"}}\n")
			require.NoError(t, s.Complete(ctx, c, 200, body))
			r := begin(t, s, "ana", "k-1", "A")
			require.Equal(t, idempotencia.Replay, r.Outcome)
			assert.Equal(t, 200, r.Status)
			assert.Equal(t, body, r.Body)
			assert.Equal(t, idempotencia.Reused, begin(t, s, "ana", "k-1", "B").Outcome)
			assert.Equal(t, idempotencia.Run, begin(t, s, "berta", "k-1", "A").Outcome, "another subject's key is another key")
		})

		t.Run("un_error_de_negocio_se_guarda_sin_mutacion", func(t *testing.T) {
			c := begin(t, s, "ana", "k-2", "A")
			require.Equal(t, idempotencia.Run, c.Outcome)
			// The mutation refused: its transaction rolled back, the key
			// is still EN_CURSO, and its answer is kept.
			require.Error(t, db.WithTx(s.Context(ctx, c), func(*ent.Tx) error { return apperror.Conflictf("no") }))
			require.NoError(t, s.Complete(ctx, c, 200, []byte(`{"errors":[]}`)))
			assert.Equal(t, idempotencia.Replay, begin(t, s, "ana", "k-2", "A").Outcome)
		})

		t.Run("liberar_sin_mutacion_deja_correr_al_reintento", func(t *testing.T) {
			before := clientes(t, db)
			c := begin(t, s, "ana", "k-3", "A")
			require.NoError(t, s.Release(ctx, c))
			r := begin(t, s, "ana", "k-3", "A")
			require.Equal(t, idempotencia.Run, r.Outcome, "the key was freed")
			require.NoError(t, mutate(s, db, r))
			assert.Equal(t, before+1, clientes(t, db))
			assert.ErrorIs(t, s.Complete(ctx, c, 200, []byte("{}")), idempotencia.ErrNotHeld, "the first run's claim is gone")
		})

		t.Run("liberar_tras_confirmar_no_deja_repetir", func(t *testing.T) {
			// The mutation committed, then its response could not be kept
			// (say its deadline passed while rendering it): the retry must
			// not run it again, and learns at once that it was applied.
			before := clientes(t, db)
			c := begin(t, s, "ana", "k-4", "A")
			require.NoError(t, mutate(s, db, c))
			require.NoError(t, s.Release(ctx, c))
			assert.Equal(t, idempotencia.Lost, begin(t, s, "ana", "k-4", "A").Outcome)
			assert.Equal(t, idempotencia.Reused, begin(t, s, "ana", "k-4", "B").Outcome)
			assert.Equal(t, before+1, clientes(t, db))
		})

		t.Run("caida_antes_de_confirmar_el_reintento_toma_la_clave", func(t *testing.T) {
			// The server stopped while the mutation ran: the key stays
			// EN_CURSO until its lease ends, then a retry takes it over
			// and runs. Should the first run still be alive, its commit
			// fails and rolls back: only one run's mutation commits.
			before := clientes(t, db)
			first := begin(t, s, "ana", "k-5", "A")
			assert.Equal(t, idempotencia.InProgress, begin(t, s, "ana", "k-5", "A").Outcome)
			clk.Advance(time.Minute + time.Second)
			second := begin(t, s, "ana", "k-5", "A")
			require.Equal(t, idempotencia.Run, second.Outcome)

			err := mutate(s, db, first)
			assert.Equal(t, apperror.IdempotencyInProgress, apperror.CodeOf(err), "the first run lost its key")
			assert.Equal(t, before, clientes(t, db), "and its mutation rolled back")
			assert.ErrorIs(t, s.Release(ctx, first), idempotencia.ErrNotHeld)

			require.NoError(t, mutate(s, db, second))
			require.NoError(t, s.Complete(ctx, second, 200, []byte("{}")))
			assert.Equal(t, before+1, clientes(t, db))
			assert.Equal(t, idempotencia.Replay, begin(t, s, "ana", "k-5", "A").Outcome)
		})

		t.Run("caida_entre_confirmar_y_guardar_no_repite", func(t *testing.T) {
			// The mutation committed (the key COMPLETADA with it), then the
			// server stopped before saving the response: once the lease
			// ends the retry is told it was applied; it never runs again.
			before := clientes(t, db)
			c := begin(t, s, "ana", "k-6", "A")
			require.NoError(t, mutate(s, db, c))
			assert.Equal(t, idempotencia.InProgress, begin(t, s, "ana", "k-6", "A").Outcome)
			clk.Advance(time.Minute + time.Second)
			assert.Equal(t, idempotencia.Lost, begin(t, s, "ana", "k-6", "A").Outcome)
			assert.Equal(t, before+1, clientes(t, db))
		})

		t.Run("vence_y_se_purga", func(t *testing.T) {
			c := begin(t, s, "carla", "k-7", "A")
			require.NoError(t, s.Complete(ctx, c, 200, []byte("{}")))
			clk.Advance(24*time.Hour - time.Second)
			assert.Equal(t, idempotencia.Replay, begin(t, s, "carla", "k-7", "A").Outcome, "not yet expired")
			assert.Equal(t, idempotencia.Reused, begin(t, s, "carla", "k-7", "B").Outcome)

			clk.Advance(time.Second)
			live := begin(t, s, "carla", "k-8", "A") // runs now; expires in 24 h
			r := begin(t, s, "carla", "k-7", "B")
			require.Equal(t, idempotencia.Run, r.Outcome, "an expired key is as if never sent: another request may use it")
			require.NoError(t, s.Release(ctx, r))

			n, err := s.Purge(ctx, clk.Now())
			require.NoError(t, err)
			assert.Positive(t, n)
			for _, row := range claves(t, db) {
				assert.True(t, row.ExpiraEn.After(clk.Now()), "only unexpired keys are left: %s/%s", row.Sujeto, row.Clave)
			}
			assert.Equal(t, idempotencia.InProgress, begin(t, s, "carla", "k-8", "A").Outcome)
			require.NoError(t, s.Release(ctx, live))

			clk.Advance(25 * time.Hour)
			_, err = s.Purge(ctx, clk.Now())
			require.NoError(t, err)
			assert.Empty(t, claves(t, db))
		})

		t.Run("la_purga_respeta_una_ejecucion_en_curso", func(t *testing.T) {
			short := idempotencia.New(db, idempotencia.Config{Clock: clk, TTL: time.Minute, Lease: time.Hour, Wait: -1})
			c, err := short.Begin(ctx, "dora", "k-9", fingerprint("A"))
			require.NoError(t, err)
			clk.Advance(2 * time.Minute) // expired, but its run still holds the lease
			n, err := short.Purge(ctx, clk.Now())
			require.NoError(t, err)
			assert.Zero(t, n)
			require.NoError(t, short.Release(ctx, c))
		})
	})
}

// Ensure that a request arriving while the first with its key runs waits
// for it and gets its response.
func TestBeginEspera(t *testing.T) {
	db := testdb.SQLite(t)
	s := idempotencia.New(db, idempotencia.Config{Clock: clock.NewFixed(apptest.Hoy), Wait: time.Minute})
	first, err := s.Begin(ctx, "ana", "k", fingerprint("A"))
	require.NoError(t, err)
	require.Equal(t, idempotencia.Run, first.Outcome)
	done := make(chan *idempotencia.Claim)
	go func() {
		c, err := s.Begin(ctx, "ana", "k", fingerprint("A"))
		assert.NoError(t, err)
		done <- c
	}()
	require.NoError(t, s.Complete(ctx, first, 200, []byte("listo")))
	c := <-done
	assert.Equal(t, idempotencia.Replay, c.Outcome)
	assert.Equal(t, []byte("listo"), c.Body)
}
