package idempotencia_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/claveidempotencia"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/idempotencia"
	"github.com/banpro/factoring/internal/testkit"
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
// waits for another request's response (the tests look at each outcome).
func store(t *testing.T, db *database.DB) (*idempotencia.Store, *clock.Fixed) {
	t.Helper()
	c := clock.NewFixed(testkit.Hoy)
	return idempotencia.New(db, idempotencia.Config{Clock: c, TTL: 24 * time.Hour, Lease: time.Minute, Wait: -1}), c
}

// fingerprint stands for a request's fingerprint: 32 bytes from a name.
func fingerprint(name string) []byte {
	h, _ := idempotencia.Fingerprint(name, "", nil)
	return h
}

// mutate runs a mutation under run's context: a transaction that writes
// one cliente, as a domain service would.
func mutate(s *idempotencia.Store, db *database.DB, run *idempotencia.Run) error {
	return db.WithTx(s.Context(ctx, run), func(tx *ent.Tx) error {
		_, err := tx.Cliente.Create().SetRut(testkit.NewRUT()).SetRazonSocial("Idem SpA").SetEmail("idem@ejemplo.cl").
			SetFechaRegistro(testkit.Hoy).SetLineaCredito(testkit.Dec("1")).SetLineaDisponible(testkit.Dec("1")).
			SetCreadoEn(testkit.Hoy).SetActualizadoEn(testkit.Hoy).Save(ctx)
		return err
	})
}

// finish settles run with result and body, and waits for its response to
// be saved.
func finish(t *testing.T, s *idempotencia.Store, run *idempotencia.Run, result idempotencia.Result, body string) *idempotencia.Answer {
	t.Helper()
	a, err := s.Finish(ctx, run, result, 200, []byte(body))
	require.NoError(t, err)
	s.Wait()
	return a
}

const (
	applied = idempotencia.Applied
	refused = idempotencia.Refused
	failed  = idempotencia.Failed
)

func lookup(t *testing.T, s *idempotencia.Store, subject, key, huella string) *idempotencia.Answer {
	t.Helper()
	a, err := s.Lookup(ctx, subject, key, fingerprint(huella))
	require.NoError(t, err)
	return a
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

// TestStore walks keys through every path, on both dialects: the first
// request commits its mutation with its key and keeps its response; any
// later run with the key rolls back and answers from the key; a business
// refusal is kept, an outage is not; and a crash at each step leaves what
// the retry gets.
func TestStore(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		s, clk := store(t, db)

		t.Run("la_primera_corre_y_las_demas_repiten_su_respuesta", func(t *testing.T) {
			before := clientes(t, db)
			first := s.Start("ana", "k-1", fingerprint("A"))
			require.NoError(t, mutate(s, db, first))
			assert.Equal(t, idempotencia.InProgress, lookup(t, s, "ana", "k-1", "A").Outcome,
				"committed, its response not saved yet")
			assert.Equal(t, idempotencia.Reused, lookup(t, s, "ana", "k-1", "B").Outcome)

			body := "{\"data\":{\"x\":\"ñ\"}}\n"
			assert.Equal(t, idempotencia.Own, finish(t, s, first, applied, body).Outcome)
			r := lookup(t, s, "ana", "k-1", "A")
			require.Equal(t, idempotencia.Replay, r.Outcome)
			assert.Equal(t, 200, r.Status)
			assert.Equal(t, body, string(r.Body))

			// A retry runs its mutation, which finds the key taken in its
			// transaction and rolls back; it answers the first response.
			again := s.Start("ana", "k-1", fingerprint("A"))
			err := mutate(s, db, again)
			assert.Equal(t, apperror.IdempotencyInProgress, apperror.CodeOf(err))
			a := finish(t, s, again, failed, "{}")
			require.Equal(t, idempotencia.Replay, a.Outcome)
			assert.Equal(t, body, string(a.Body))
			other := s.Start("ana", "k-1", fingerprint("B"))
			require.Error(t, mutate(s, db, other))
			assert.Equal(t, idempotencia.Reused, finish(t, s, other, failed, "{}").Outcome)
			assert.Equal(t, before+1, clientes(t, db), "one mutation committed")

			berta := s.Start("berta", "k-1", fingerprint("A"))
			require.NoError(t, mutate(s, db, berta), "another subject's key is another key")
			assert.Equal(t, idempotencia.Own, finish(t, s, berta, applied, "{}").Outcome)
			assert.Equal(t, before+2, clientes(t, db))
		})

		t.Run("un_rechazo_de_negocio_se_guarda", func(t *testing.T) {
			run := s.Start("ana", "k-2", fingerprint("A"))
			require.Error(t, db.WithTx(s.Context(ctx, run), func(*ent.Tx) error { return apperror.Conflictf("no") }))
			assert.Equal(t, idempotencia.Own, finish(t, s, run, refused, `{"errors":["no"]}`).Outcome)
			assert.Equal(t, `{"errors":["no"]}`, string(lookup(t, s, "ana", "k-2", "A").Body))

			// Its retry, even one whose mutation would pass now, rolls back
			// and replays the refusal.
			before := clientes(t, db)
			again := s.Start("ana", "k-2", fingerprint("A"))
			require.Error(t, mutate(s, db, again))
			assert.Equal(t, idempotencia.Replay, finish(t, s, again, failed, "{}").Outcome)
			assert.Equal(t, before, clientes(t, db))
		})

		t.Run("una_caida_no_se_guarda", func(t *testing.T) {
			before := clientes(t, db)
			run := s.Start("ana", "k-3", fingerprint("A"))
			require.Error(t, db.WithTx(s.Context(ctx, run), func(*ent.Tx) error { return errors.New("conexión perdida") }))
			assert.Equal(t, idempotencia.Own, finish(t, s, run, failed, `{"errors":["interno"]}`).Outcome)
			assert.Equal(t, idempotencia.InProgress, lookup(t, s, "ana", "k-3", "A").Outcome, "no row: the retry runs")

			retry := s.Start("ana", "k-3", fingerprint("A"))
			require.NoError(t, mutate(s, db, retry))
			assert.Equal(t, idempotencia.Own, finish(t, s, retry, applied, "{}").Outcome)
			assert.Equal(t, before+1, clientes(t, db))
		})

		t.Run("confirmada_sin_respuesta_que_guardar_no_se_repite", func(t *testing.T) {
			// The mutation committed, then its response was not one to keep
			// (say its deadline passed while rendering it): the retry must
			// not run it again, and learns at once that it was applied.
			before := clientes(t, db)
			run := s.Start("ana", "k-4", fingerprint("A"))
			require.NoError(t, mutate(s, db, run))
			assert.Equal(t, idempotencia.Own, finish(t, s, run, failed, `{"errors":["timeout"]}`).Outcome)
			assert.Equal(t, idempotencia.Lost, lookup(t, s, "ana", "k-4", "A").Outcome)
			retry := s.Start("ana", "k-4", fingerprint("A"))
			require.Error(t, mutate(s, db, retry))
			assert.Equal(t, idempotencia.Lost, finish(t, s, retry, failed, "{}").Outcome)
			assert.Equal(t, before+1, clientes(t, db))
		})

		t.Run("caida_entre_confirmar_y_guardar_no_repite", func(t *testing.T) {
			// The mutation committed with its key, then the server stopped
			// before saving the response: while the lease lasts a retry
			// waits for it; then it is told the mutation was applied. It
			// never runs again.
			before := clientes(t, db)
			run := s.Start("ana", "k-5", fingerprint("A"))
			require.NoError(t, mutate(s, db, run))
			assert.Equal(t, idempotencia.InProgress, lookup(t, s, "ana", "k-5", "A").Outcome)
			clk.Advance(time.Minute + time.Second)
			assert.Equal(t, idempotencia.Lost, lookup(t, s, "ana", "k-5", "A").Outcome)
			retry := s.Start("ana", "k-5", fingerprint("A"))
			require.Error(t, mutate(s, db, retry))
			assert.Equal(t, idempotencia.Lost, finish(t, s, retry, failed, "{}").Outcome)
			assert.Equal(t, before+1, clientes(t, db))
		})

		t.Run("caida_antes_de_confirmar_no_deja_nada", func(t *testing.T) {
			// The server stopped while the mutation ran: its transaction
			// never committed, and neither did its key.
			run := s.Start("ana", "k-6", fingerprint("A"))
			_ = run // never finished
			retry := s.Start("ana", "k-6", fingerprint("A"))
			require.NoError(t, mutate(s, db, retry))
			assert.Equal(t, idempotencia.Own, finish(t, s, retry, applied, "{}").Outcome)
		})

		t.Run("dos_transacciones_de_una_ejecucion", func(t *testing.T) {
			run := s.Start("ana", "k-7", fingerprint("A"))
			require.NoError(t, mutate(s, db, run))
			require.NoError(t, mutate(s, db, run), "a run's second transaction finds its own key")
			assert.Equal(t, idempotencia.Own, finish(t, s, run, applied, "{}").Outcome)
		})

		t.Run("vence_y_se_purga", func(t *testing.T) {
			run := s.Start("carla", "k-8", fingerprint("A"))
			require.NoError(t, mutate(s, db, run))
			finish(t, s, run, applied, "primera")
			clk.Advance(24*time.Hour - time.Second)
			assert.Equal(t, idempotencia.Replay, lookup(t, s, "carla", "k-8", "A").Outcome, "not yet expired")

			clk.Advance(time.Second)
			awaited := s.Start("carla", "k-9", fingerprint("A")) // commits now; expires in 24 h
			require.NoError(t, mutate(s, db, awaited))
			again := s.Start("carla", "k-8", fingerprint("B"))
			require.NoError(t, mutate(s, db, again), "an expired key is as if never sent: another request may use it")
			finish(t, s, again, applied, "segunda")
			assert.Equal(t, "segunda", string(lookup(t, s, "carla", "k-8", "B").Body))

			n, err := s.Purge(ctx, clk.Now())
			require.NoError(t, err)
			assert.Positive(t, n)
			for _, row := range claves(t, db) {
				assert.True(t, row.ExpiraEn.After(clk.Now()), "only unexpired keys are left: %s/%s", row.Sujeto, row.Clave)
			}
			clk.Advance(25 * time.Hour)
			_, err = s.Purge(ctx, clk.Now())
			require.NoError(t, err)
			assert.Empty(t, claves(t, db))
		})

		t.Run("la_purga_respeta_una_respuesta_esperada", func(t *testing.T) {
			short := idempotencia.New(db, idempotencia.Config{Clock: clk, TTL: time.Minute, Lease: time.Hour, Wait: -1})
			run := short.Start("dora", "k-10", fingerprint("A"))
			require.NoError(t, mutate(short, db, run))
			clk.Advance(2 * time.Minute) // expired, but its response is still awaited
			n, err := short.Purge(ctx, clk.Now())
			require.NoError(t, err)
			assert.Zero(t, n)
			assert.Equal(t, idempotencia.Own, finish(t, short, run, applied, "{}").Outcome)
		})
	})
}

// Ensure that a request that finds another request's response not saved
// yet waits for it and replays it.
func TestLookupEspera(t *testing.T) {
	db := testkit.SQLite(t)
	s := idempotencia.New(db, idempotencia.Config{Clock: clock.NewFixed(testkit.Hoy), Wait: time.Minute})
	first := s.Start("ana", "k", fingerprint("A"))
	require.NoError(t, mutate(s, db, first))
	done := make(chan *idempotencia.Answer)
	go func() {
		a, err := s.Lookup(ctx, "ana", "k", fingerprint("A"))
		assert.NoError(t, err)
		done <- a
	}()
	_, err := s.Finish(ctx, first, applied, 200, []byte("listo"))
	require.NoError(t, err)
	a := <-done
	assert.Equal(t, idempotencia.Replay, a.Outcome)
	assert.Equal(t, "listo", string(a.Body))
}
