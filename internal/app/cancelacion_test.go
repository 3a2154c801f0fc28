package app_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/requestid"
	"github.com/banpro/factoring/internal/testkit"
)

// These tests specify what happens when a client goes away before its
// answer (a load generator closing its connections, a browser tab closed):
// net/http cancels the request's context, and wherever the request was,
// the server neither panics nor logs an error; the mutation's transaction
// rolls back; the access log records status 499 and outcome "cancelled",
// as nginx does.

// crearOperacion is the mutation the tests cancel: it writes an operación
// and its CREADA event, and locks the cliente first.
const crearOperacion = `mutation($c: ID!, $f: [ID!]!) { crearOperacion(input: {clienteId: $c, facturaIds: $f}) { id } }`

// escenario is an ACTIVO cliente with one DISPONIBLE factura, and the body
// of a crearOperacion over them.
type escenario struct {
	env       *testkit.Env
	clienteID int
	facturaID int
	body      []byte
}

func nuevoEscenario(t *testing.T, db *database.DB) escenario {
	t.Helper()
	env := testkit.NewEnv(t, db)
	c := env.MustCrearClienteActivo(t, "1000000")
	_, ids := env.MustRegistrarFacturas(t, c.ID, "100000")
	body, err := json.Marshal(map[string]any{"query": crearOperacion, "variables": map[string]any{
		"c": gid.Encode(c.ID), "f": []string{gid.Encode(ids[0])},
	}})
	require.NoError(t, err)
	return escenario{env: env, clienteID: c.ID, facturaID: ids[0], body: body}
}

// requireNadaEscrito asserts that the mutation left nothing behind.
func (e escenario) requireNadaEscrito(t *testing.T) {
	t.Helper()
	n := e.env.Count(t)
	assert.Zero(t, n.Operaciones, "no operación")
	assert.Zero(t, n.Eventos, "no event")
	assert.Zero(t, n.Links, "no factura linked")
	assert.Equal(t, estado.FacturaDisponible, e.env.Factura(t, e.facturaID).Estado)
}

// registro is a server's JSON log.
type registro struct{ buf testkit.SyncBuffer }

func (r *registro) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(&r.buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (r *registro) lineas(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for l := range strings.Lines(r.buf.String()) {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		out = append(out, m)
	}
	return out
}

// acceso waits for the access-log line of the request that sent id (its
// correlation id) and returns it.
func (r *registro) acceso(t *testing.T, id string) map[string]any {
	t.Helper()
	var line map[string]any
	require.Eventually(t, func() bool {
		for _, m := range r.lineas(t) {
			if m["msg"] == "solicitud" && m["correlation_id"] == id {
				line = m
				return true
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "no access-log line for %s:\n%s", id, r.buf.String())
	return line
}

// requireCancelada asserts what a cancelled request leaves in the log: its
// access line with 499 and "cancelled", and no line at ERROR.
func (r *registro) requireCancelada(t *testing.T, id string) {
	t.Helper()
	line := r.acceso(t, id)
	assert.Equal(t, float64(499), line["status"], "nginx's Client Closed Request")
	assert.Equal(t, "cancelled", line["outcome"])
	for _, m := range r.lineas(t) {
		assert.NotEqual(t, "ERROR", m["level"], "a client that went away is not a server error: %v", m)
	}
}

// servidor is the API over db, built as the command builds it, logging to
// reg.
func servidor(t *testing.T, db *database.DB, reg *registro) http.Handler {
	t.Helper()
	h, _ := testkit.Handler(t, db, testkit.ServeOptions{Logger: reg.logger()})
	return h
}

// cancelAtEOF is a request body that cancels the request once it has been
// read to the end: the client goes away after sending its request, before
// the operation runs.
type cancelAtEOF struct {
	r      io.Reader
	cancel context.CancelFunc
}

func (b cancelAtEOF) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if errors.Is(err, io.EOF) {
		b.cancel()
	}
	return n, err
}

// brokenWriter is a connection whose client left while the response was
// being written: the first write cancels the request and fails, as
// writing to a closed connection does.
type brokenWriter struct {
	*httptest.ResponseRecorder
	cancel context.CancelFunc
}

func (w brokenWriter) Write([]byte) (int, error) {
	w.cancel()
	return 0, syscall.EPIPE
}

func TestClienteQueSeVaAntesDeLaEjecucion(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		e := nuevoEscenario(t, db)
		var reg registro
		h := servidor(t, db, &reg)

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/graphql",
			cancelAtEOF{r: bytes.NewReader(e.body), cancel: cancel})
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(requestid.Header, "se-fue-antes")
		rec := httptest.NewRecorder()
		require.NotPanics(t, func() { h.ServeHTTP(rec, req) })

		reg.requireCancelada(t, "se-fue-antes")
		e.requireNadaEscrito(t)
	})
}

func TestClienteQueSeVaMientrasSeEscribeLaRespuesta(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		e := nuevoEscenario(t, db)
		var reg registro
		h := servidor(t, db, &reg)

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/graphql", bytes.NewReader(e.body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(requestid.Header, "se-fue-al-escribir")
		require.NotPanics(t, func() { h.ServeHTTP(brokenWriter{httptest.NewRecorder(), cancel}, req) })

		reg.requireCancelada(t, "se-fue-al-escribir")
		// The mutation had committed before its answer was written: it
		// stays, whole (the client can read it back), and only once.
		n := e.env.Count(t)
		assert.Equal(t, 1, n.Operaciones)
		assert.Equal(t, 1, n.Eventos)
		assert.Equal(t, estado.FacturaEnProceso, e.env.Factura(t, e.facturaID).Estado)
	})
}

// txSignal is an ent driver that reports, once armed, that a transaction
// is about to begin.
type txSignal struct {
	dialect.Driver
	armed atomic.Bool
	began chan struct{}
}

func (d *txSignal) Tx(ctx context.Context) (dialect.Tx, error) {
	if d.armed.CompareAndSwap(true, false) {
		close(d.began)
	}
	return d.Driver.Tx(ctx)
}

// BeginTx keeps ent's transaction options working through the wrapper.
func (d *txSignal) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	return d.Driver.(interface {
		BeginTx(context.Context, *sql.TxOptions) (dialect.Tx, error)
	}).BeginTx(ctx, opts)
}

func TestClienteQueSeVaMientrasEsperaUnBloqueo(t *testing.T) {
	signal := &txSignal{}
	opts := database.Options{WrapDriver: func(d dialect.Driver) dialect.Driver {
		signal.Driver = d
		return signal
	}}
	testkit.EachDBWith(t, opts, func(t *testing.T, db *database.DB) {
		e := nuevoEscenario(t, db)
		var reg registro
		api, _ := testkit.Serve(t, db, testkit.ServeOptions{Logger: reg.logger()})

		// Another transaction holds what crearOperacion must lock first:
		// the cliente's row in PostgreSQL, the database's one write lock
		// in SQLite.
		holder, err := db.SQL.BeginTx(context.Background(), nil)
		require.NoError(t, err)
		defer func() { _ = holder.Rollback() }()
		if db.Dialect == dialect.Postgres {
			_, err = holder.Exec(`SELECT id FROM clientes WHERE id = $1 FOR UPDATE`, e.clienteID)
			require.NoError(t, err)
		}

		signal.began = make(chan struct{})
		signal.armed.Store(true)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, api.URL()+"/graphql", bytes.NewReader(e.body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(requestid.Header, "se-fue-esperando")
		done := make(chan error, 1)
		go func() {
			res, err := http.DefaultClient.Do(req)
			if err == nil {
				res.Body.Close()
				err = fmt.Errorf("the request was answered %s, not cancelled", res.Status)
			}
			done <- err
		}()

		// Cancel once the mutation waits on the lock.
		<-signal.began
		if db.Dialect == dialect.Postgres {
			require.Eventually(t, func() bool {
				var waiting int
				require.NoError(t, db.SQL.QueryRow(`SELECT count(*) FROM pg_stat_activity
					WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting))
				return waiting > 0
			}, 10*time.Second, 10*time.Millisecond, "the mutation waits on the cliente's row")
		} else {
			// SQLite shows no waiters; BEGIN IMMEDIATE is under way and
			// either waits in the busy handler by now or meets the
			// cancelled context when it starts: the outcome is the same.
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)

		reg.requireCancelada(t, "se-fue-esperando")
		var logged bool
		for _, m := range reg.lineas(t) {
			if m["correlation_id"] == "se-fue-esperando" && m["msg"] == "solicitud cancelada por el cliente" {
				logged = true
				assert.Equal(t, "INFO", m["level"])
			}
		}
		assert.True(t, logged, "the cancellation is logged at INFO:\n%s", reg.buf.String())

		// Once the lock is released nothing of the cancelled mutation
		// happens: its statement was cancelled, its transaction rolled back.
		require.NoError(t, holder.Rollback())
		e.requireNadaEscrito(t)
	})
}
