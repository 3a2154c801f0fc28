package app_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/testkit"
)

// These tests specify what a client sees while the database cannot be
// reached: SERVICE_UNAVAILABLE with HTTP 503, Retry-After and
// extensions.retryable, never an INTERNAL_ERROR; once the outage is known,
// requests are refused before they run (no data key); the log says so
// once per period with a count, not once per request; and the API
// answers again by itself when the database is back. Before, a 5 s
// outage gave 3,052 HTTP 200 INTERNAL_ERROR answers and as many ERROR
// log lines.

const (
	consultaClientes = `{ clientes(first: 5) { totalCount } }`
	mutacionCliente  = `mutation($r: String!) { crearCliente(input: {rut: $r, razonSocial: "Caída SpA",
  email: "caida@sur.cl", lineaCredito: "1000"}) { id } }`
)

// proxy forwards TCP connections to a PostgreSQL server; stopping it is an
// outage as the server's clients see one: open connections drop, new ones
// are refused.
type proxy struct {
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	p := &proxy{target: target, addr: "127.0.0.1:0"}
	p.start(t)
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) start(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	require.NoError(t, err)
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			pipe := func(dst, src net.Conn) {
				_, _ = io.Copy(dst, src)
				_ = dst.Close()
				_ = src.Close()
			}
			go pipe(s, c)
			go pipe(c, s)
		}
	}()
}

func (p *proxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

// urlDe is the URL of db's database on the test server, through host when
// not empty.
func urlDe(t *testing.T, db *database.DB, host string) string {
	t.Helper()
	var name string
	require.NoError(t, db.SQL.QueryRow("SELECT current_database()").Scan(&name))
	u, err := url.Parse(testkit.PostgresServerURL())
	require.NoError(t, err)
	u.Path = "/" + name
	if host != "" {
		u.Host = host
	}
	return u.String()
}

// respuesta is a response's body as the tests read it here: with
// extensions.retryable.
type respuesta struct {
	Errors []struct {
		Extensions struct {
			Code      string `json:"code"`
			Retryable bool   `json:"retryable"`
		} `json:"extensions"`
	} `json:"errors"`
	Data *json.RawMessage `json:"data"`
}

// requireNoDisponible asserts res is SERVICE_UNAVAILABLE as a client must
// see it, and reports whether it had a data key (execution had started).
func requireNoDisponible(t *testing.T, res testkit.Response) (conData bool) {
	t.Helper()
	require.Equal(t, http.StatusServiceUnavailable, res.Status, res.Raw)
	assert.Equal(t, "5", res.Header.Get("Retry-After"), res.Raw)
	var r respuesta
	require.NoError(t, json.Unmarshal([]byte(res.Raw), &r), res.Raw)
	require.NotEmpty(t, r.Errors, res.Raw)
	for _, e := range r.Errors {
		assert.Equal(t, "SERVICE_UNAVAILABLE", e.Extensions.Code, res.Raw)
		assert.True(t, e.Extensions.Retryable, res.Raw)
	}
	return r.Data != nil
}

// avisosDeCaida counts the log's lines about the outage, and fails on any
// ERROR line.
func (r *registro) avisosDeCaida(t *testing.T) (n int, suprimidos float64) {
	t.Helper()
	for _, m := range r.lineas(t) {
		assert.NotEqual(t, "ERROR", m["level"], "an outage is not an internal error: %v", m)
		if msg, _ := m["msg"].(string); strings.Contains(msg, "no está disponible") {
			assert.Equal(t, "WARN", m["level"], m)
			n++
			s, _ := m["suprimidos"].(float64)
			suprimidos += s
		}
	}
	return n, suprimidos
}

// Ensure that a database behind a connection that drops and then refuses
// (the proxy stopped) is SERVICE_UNAVAILABLE for queries and mutations,
// refused before execution once known, logged once, and that the API
// recovers by itself when it is back.
func TestBaseDeDatosInalcanzable(t *testing.T) {
	base := testkit.Postgres(t)
	p := newProxy(t, mustHost(t, testkit.PostgresServerURL()))
	db, err := database.Open(context.Background(), urlDe(t, base, p.addr), database.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })

	var reg registro
	c := testkit.NewClient(t, servidor(t, db, &reg))
	testkit.NewEnv(t, db).MustCrearClienteActivo(t, "1000000")
	res := c.Do(consultaClientes, nil)
	require.Equal(t, http.StatusOK, res.Status, res.Raw)

	p.stop()
	start := time.Now()
	conData, sinData := 0, 0
	for i := range 40 {
		var res testkit.Response
		if i%2 == 0 {
			res = c.Do(consultaClientes, nil)
		} else {
			res = c.Do(mutacionCliente, map[string]any{"r": testkit.NewRUT()})
		}
		if requireNoDisponible(t, res) {
			conData++
		} else {
			sinData++
		}
	}
	t.Logf("40 requests during the outage: %d refused before execution, %d failed in it", sinData, conData)
	assert.GreaterOrEqual(t, sinData, 30, "once the outage is known, requests are refused before they run, without data")
	// One WARN line per 10 s of outage, not one per request.
	avisos, suprimidos := reg.avisosDeCaida(t)
	assert.GreaterOrEqual(t, avisos, 1, reg.buf.String())
	assert.LessOrEqual(t, avisos, 1+int(time.Since(start)/(10*time.Second)), reg.buf.String())
	assert.LessOrEqual(t, int(suprimidos), 40-avisos)

	p.start(t)
	require.Eventually(t, func() bool {
		return c.Do(consultaClientes, nil).Status == http.StatusOK
	}, 10*time.Second, 50*time.Millisecond, "the API answers again once the database is back")
	res = c.Do(mutacionCliente, map[string]any{"r": testkit.NewRUT()})
	require.Equal(t, http.StatusOK, res.Status, res.Raw)
	require.Empty(t, res.Errors, res.Raw)
}

// Ensure that requests whose PostgreSQL backends are terminated
// (pg_terminate_backend, what an administrator or a failover does) while
// they wait are SERVICE_UNAVAILABLE, a query and a mutation alike, and
// that the next request succeeds.
func TestBackendsTerminados(t *testing.T) {
	db := testkit.Postgres(t)
	var reg registro
	c := testkit.NewClient(t, servidor(t, db, &reg))
	testkit.NewEnv(t, db).MustCrearClienteActivo(t, "1000000")

	admin, err := sql.Open("pgx", urlDe(t, db, ""))
	require.NoError(t, err)
	t.Cleanup(func() { _ = admin.Close() })
	ctx := context.Background()
	tx, err := admin.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback() }()
	// Both requests wait on this lock, each on its own backend.
	_, err = tx.ExecContext(ctx, "LOCK TABLE clientes IN ACCESS EXCLUSIVE MODE")
	require.NoError(t, err)

	inicio := time.Now()
	results := make(chan testkit.Response, 2)
	go func() { results <- c.Do(consultaClientes, nil) }()
	go func() { results <- c.Do(mutacionCliente, map[string]any{"r": testkit.NewRUT()}) }()
	require.Eventually(t, func() bool {
		var n int
		// Outside the transaction: statistics views keep one snapshot per
		// transaction.
		err := admin.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n)
		return err == nil && n == 2
	}, 10*time.Second, 10*time.Millisecond, "both requests wait on the lock")
	_, err = tx.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`)
	require.NoError(t, err)
	require.NoError(t, tx.Rollback())

	for range 2 {
		requireNoDisponible(t, <-results)
	}
	avisos, _ := reg.avisosDeCaida(t)
	assert.GreaterOrEqual(t, avisos, 1, reg.buf.String())
	assert.Less(t, avisos, 2+int(time.Since(inicio)/(10*time.Second)), "two failures within the period: one line:\n%s", reg.buf.String())

	// The backends were killed, not the server: the next request checks
	// the database, finds it answering, and runs.
	res := c.Do(consultaClientes, nil)
	require.Equal(t, http.StatusOK, res.Status, res.Raw)
	res = c.Do(mutacionCliente, map[string]any{"r": testkit.NewRUT()})
	require.Equal(t, http.StatusOK, res.Status, res.Raw)
	require.Empty(t, res.Errors, res.Raw)
}

// mustHost is the host:port of a database URL.
func mustHost(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u.Host
}
