package httpserver_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/config"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/httpserver"
	"github.com/banpro/factoring/internal/telemetry"
	"github.com/banpro/factoring/internal/testkit"
)

// configDe is the configuration the environment env gives, with the
// testkit defaults (auth on here: these tests are about the hardening of
// a production server).
func configDe(t *testing.T, env map[string]string) config.Config {
	t.Helper()
	cfg, err := config.Load(func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	})
	require.NoError(t, err)
	return testkit.WithAuth(cfg)
}

// respuesta is a raw HTTP answer.
type respuesta struct {
	status int
	header http.Header
	body   string
}

// enviar sends a request built from its parts to base.
func enviar(t *testing.T, method, url, body string, header map[string]string) respuesta {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return respuesta{status: res.StatusCode, header: res.Header, body: string(b)}
}

// securityLeaks are texts no error body may carry.
var securityLeaks = []string{"SELECT", "INSERT", "pq:", "pgx", "sqlite", "goroutine ", ".go:", "panic", "ent:"}

// TestCabecerasDeSeguridad: every response, whatever its status and route,
// carries nosniff and a Content-Security-Policy; the API's policy allows
// nothing, the playground's allows its own scripts and calls to the API.
func TestCabecerasDeSeguridad(t *testing.T) {
	db := testkit.SQLite(t)
	cfg := configDe(t, nil)
	c, _ := testkit.Serve(t, db, testkit.ServeOptions{Config: &cfg})
	base := c.URL()
	tok := "Bearer " + testkit.Token(t, "luis", auth.Lector)
	json := map[string]string{"Content-Type": "application/json", "Authorization": tok}
	cases := []struct {
		name, method, path, body string
		header                   map[string]string
		status                   int
	}{
		{"graphql_200", "POST", "/graphql", `{"query":"{ clientes { totalCount } }"}`, json, 200},
		{"graphql_get_200", "GET", "/graphql?query=%7B__typename%7D", "", map[string]string{"Authorization": tok}, 200},
		{"sin_token_401", "POST", "/graphql", `{"query":"{ __typename }"}`, map[string]string{"Content-Type": "application/json"}, 401},
		{"sin_rol_403", "POST", "/graphql", `{"query":"mutation { activarCliente(id: \"x\") { id } }"}`, json, 403},
		{"limite_422", "POST", "/graphql", `{"query":"{ a: __typename b: __typename c: __typename d: __typename e: __typename f: __typename g: __typename h: __typename i: __typename j: __typename k: __typename l: __typename m: __typename n: __typename o: __typename p: __typename q: __typename r: __typename s: __typename t: __typename u: __typename v: __typename w: __typename x: __typename y: __typename z: __typename aa: __typename ab: __typename ac: __typename ad: __typename ae: __typename }"}`, json, 422},
		{"lote_400", "POST", "/graphql", `[{"query":"{ __typename }"}]`, json, 400},
		{"ruta_desconocida_404", "GET", "/nada", "", nil, 404},
		{"metodo_405", "PUT", "/graphql", `{}`, json, 405},
		{"cuerpo_413", "POST", "/graphql", `{"query":"` + strings.Repeat(" ", httpserver.MaxBodyBytes) + `"}`, json, 413},
		{"tipo_415", "POST", "/graphql", `query { __typename }`, map[string]string{"Content-Type": "text/plain", "Authorization": tok}, 415},
		{"healthz", "GET", "/healthz", "", nil, 200},
		{"readyz", "GET", "/readyz", "", nil, 200},
		{"schema", "GET", "/schema.graphql", "", map[string]string{"Authorization": tok}, 200},
		{"raiz_302", "GET", "/", "", nil, 302},
		{"opciones", "OPTIONS", "/graphql", "", nil, 200},
		{"playground", "GET", "/playground", "", nil, 200},
		{"playground_asset", "GET", "/playground/assets/graphiql.min.js", "", nil, 200},
		{"playground_asset_404", "GET", "/playground/assets/nada.js", "", nil, 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := enviar(t, tc.method, base+tc.path, tc.body, tc.header)
			require.Equal(t, tc.status, res.status, "%.300s", res.body)
			assert.Equal(t, "nosniff", res.header.Get("X-Content-Type-Options"))
			csp := res.header.Get("Content-Security-Policy")
			require.NotEmpty(t, csp, "every response carries a Content-Security-Policy")
			assert.NotEmpty(t, res.header.Get("X-Request-ID"))
			if tc.path == "/playground" {
				// GraphiQL works under it: its own scripts and styles, and
				// calls to this origin's /graphql.
				assert.Contains(t, csp, "default-src 'none'")
				assert.Contains(t, csp, "script-src 'self'")
				assert.Contains(t, csp, "connect-src 'self'")
				assert.NotContains(t, csp, "'unsafe-eval'")
				assert.NotContains(t, csp, "script-src 'self' 'unsafe-inline'")
			} else {
				assert.True(t, strings.HasPrefix(csp, "default-src 'none'"), csp)
				assert.Contains(t, csp, "frame-ancestors 'none'")
			}
			for _, l := range securityLeaks {
				if !strings.HasPrefix(tc.path, "/playground") && tc.path != "/schema.graphql" {
					assert.NotContains(t, res.body, l)
				}
			}
		})
	}
}

// TestCORS: no origin is allowed unless FACTORING_CORS_ORIGINS lists it;
// a listed origin gets its preflight (Authorization allowed) and its
// answers, any other gets no Access-Control-Allow-Origin ever.
func TestCORS(t *testing.T) {
	db := testkit.SQLite(t)
	const app = "https://app.banpro.cl"
	tok := "Bearer " + testkit.Token(t, "luis", auth.Lector)
	query := `{"query":"{ clientes { totalCount } }"}`
	preflight := func(base, origin string) respuesta {
		return enviar(t, http.MethodOptions, base+"/graphql", "", map[string]string{
			"Origin":                         origin,
			"Access-Control-Request-Method":  "POST",
			"Access-Control-Request-Headers": "authorization, content-type, traceparent, tracestate",
		})
	}
	actual := func(base, origin, auth string) respuesta {
		h := map[string]string{"Origin": origin, "Content-Type": "application/json"}
		if auth != "" {
			h["Authorization"] = auth
		}
		return enviar(t, http.MethodPost, base+"/graphql", query, h)
	}

	t.Run("sin_configurar_ningun_origen", func(t *testing.T) {
		cfg := configDe(t, nil)
		require.Empty(t, cfg.CORSOrigins)
		c, _ := testkit.Serve(t, db, testkit.ServeOptions{Config: &cfg})
		for _, origin := range []string{app, "https://evil.example", "null"} {
			for _, res := range []respuesta{
				preflight(c.URL(), origin),
				actual(c.URL(), origin, tok),
				actual(c.URL(), origin, ""),
				enviar(t, http.MethodGet, c.URL()+"/healthz", "", map[string]string{"Origin": origin}),
			} {
				assert.Empty(t, res.header.Get("Access-Control-Allow-Origin"), origin)
				assert.Empty(t, res.header.Get("Access-Control-Allow-Credentials"))
				assert.Empty(t, res.header.Get("Access-Control-Allow-Headers"))
			}
		}
	})

	t.Run("con_un_origen_permitido", func(t *testing.T) {
		cfg := configDe(t, map[string]string{"FACTORING_CORS_ORIGINS": app + "/"})
		require.Equal(t, []string{app}, cfg.CORSOrigins)
		c, _ := testkit.Serve(t, db, testkit.ServeOptions{Config: &cfg})

		res := preflight(c.URL(), app)
		assert.Equal(t, http.StatusNoContent, res.status)
		assert.Equal(t, app, res.header.Get("Access-Control-Allow-Origin"))
		assert.Contains(t, res.header.Get("Access-Control-Allow-Methods"), "POST")
		assert.Contains(t, strings.ToLower(res.header.Get("Access-Control-Allow-Headers")), "authorization")
		assert.Contains(t, strings.ToLower(res.header.Get("Access-Control-Allow-Headers")), "content-type")
		assert.Contains(t, strings.ToLower(res.header.Get("Access-Control-Allow-Headers")), "x-correlation-id")
		assert.Contains(t, strings.ToLower(res.header.Get("Access-Control-Allow-Headers")), "idempotency-key",
			"a browser client (the playground) may send a key with its mutations")
		for _, h := range []string{"traceparent", "tracestate"} {
			assert.Contains(t, strings.ToLower(res.header.Get("Access-Control-Allow-Headers")), h,
				"a browser app's W3C trace context is let through")
		}
		assert.Empty(t, res.header.Get("Access-Control-Allow-Credentials"), "bearer tokens need no cookies")
		assert.Contains(t, res.header.Values("Vary"), "Origin")

		res = actual(c.URL(), app, tok)
		assert.Equal(t, http.StatusOK, res.status, res.body)
		assert.Equal(t, app, res.header.Get("Access-Control-Allow-Origin"))
		assert.Contains(t, res.header.Get("Access-Control-Expose-Headers"), "X-Request-ID")
		assert.Contains(t, res.header.Get("Access-Control-Expose-Headers"), "X-Correlation-ID", "a browser may read its correlation id back")
		assert.Contains(t, res.header.Get("Access-Control-Expose-Headers"), "Idempotent-Replayed",
			"a browser client may tell a replayed answer")
		res = actual(c.URL(), app, "")
		assert.Equal(t, http.StatusUnauthorized, res.status)
		assert.Equal(t, app, res.header.Get("Access-Control-Allow-Origin"), "the browser may read why it was refused")

		for _, origin := range []string{"https://evil.example", "http://app.banpro.cl", "https://app.banpro.cl.evil.example", "https://app.banpro.cl:8443", "null"} {
			for _, res := range []respuesta{preflight(c.URL(), origin), actual(c.URL(), origin, tok)} {
				assert.Empty(t, res.header.Get("Access-Control-Allow-Origin"), origin)
				assert.Empty(t, res.header.Get("Access-Control-Allow-Headers"), origin)
			}
		}
	})

	t.Run("comodin_rechazado_al_iniciar", func(t *testing.T) {
		_, err := config.Load(func(name string) (string, bool) {
			if name == "FACTORING_CORS_ORIGINS" {
				return "*", true
			}
			return "", false
		})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "FACTORING_CORS_ORIGINS")
	})
}

// TestPlazoDeLaSolicitudLlegaALaBase: a request waiting on a row lock
// another connection holds ends at FACTORING_REQUEST_TIMEOUT with TIMEOUT
// (HTTP 504), its statement cancelled in the database: when the lock is
// released later, nothing of it happens.
func TestPlazoDeLaSolicitudLlegaALaBase(t *testing.T) {
	db := testkit.Postgres(t)
	env := testkit.NewEnv(t, db)
	c := env.MustCrearCliente(t, "1000000")
	cfg := configDe(t, map[string]string{"FACTORING_REQUEST_TIMEOUT": "1s"})
	require.Equal(t, time.Second, cfg.RequestTimeout)
	client, _ := testkit.Serve(t, db, testkit.ServeOptions{Config: &cfg})
	client.Header.Set("Authorization", "Bearer "+testkit.Token(t, "rita", auth.Riesgo))

	ctx := context.Background()
	tx, err := db.Client.Tx(ctx)
	require.NoError(t, err)
	_, err = db.Lock(ctx, tx, database.LockSet{ClienteID: &c.ID})
	require.NoError(t, err)

	// Should the deadline not reach the database, the request would wait
	// for the lock: release it after a while so the test fails, not hangs.
	release := sync.OnceValue(tx.Rollback)
	timer := time.AfterFunc(6*time.Second, func() { _ = release() })
	defer timer.Stop()

	start := time.Now()
	res := client.Do(`mutation($id: ID!) { activarCliente(id: $id) { estado } }`, map[string]any{"id": gid.Encode(c.ID)})
	elapsed := time.Since(start)
	require.NoError(t, release())

	require.Len(t, res.Errors, 1, res.Raw)
	assert.Equal(t, "TIMEOUT", res.Errors[0].Extensions.Code, res.Raw)
	assert.Equal(t, http.StatusGatewayTimeout, res.Status, res.Raw)
	assert.Contains(t, res.Errors[0].Message, "tiempo máximo", res.Raw)
	for _, l := range securityLeaks {
		assert.NotContains(t, res.Raw, l)
	}
	assert.GreaterOrEqual(t, elapsed, 900*time.Millisecond)
	assert.Less(t, elapsed, 5*time.Second, "the request ends at its deadline, not when the lock is released")

	// The statement was cancelled, not left waiting: once the lock is
	// gone nothing activates the cliente.
	time.Sleep(300 * time.Millisecond)
	assert.Equal(t, estado.ClientePendiente, env.Cliente(t, c.ID).Estado)
	var waiting int
	require.NoError(t, db.SQL.QueryRowContext(ctx,
		`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting))
	assert.Zero(t, waiting, "no statement of the request still waits on the lock")
}

// TestTiemposDelServidor: the listening server bounds how long a client may
// take to send its headers (slowloris) and how large they may be.
// WriteTimeout and IdleTimeout are set in ListenAndServe's http.Server too,
// which these tests cannot reach without a slow handler.
func TestTiemposDelServidor(t *testing.T) {
	t.Parallel()
	srv, err := httpserver.New(httpserver.Config{Addr: "127.0.0.1:0", Logger: discard()})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe(ctx, ready) }()
	addr := <-ready
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})

	t.Run("cabeceras_enormes_431", func(t *testing.T) {
		res := enviar(t, http.MethodGet, "http://"+addr+"/healthz", "", map[string]string{"X-Relleno": strings.Repeat("a", 100<<10)})
		assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, res.status)
	})
	t.Run("cabeceras_lentas_se_cortan", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer conn.Close()
		start := time.Now()
		_, err = fmt.Fprint(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Lento: 1\r\n") // never ends the headers
		require.NoError(t, err)
		require.NoError(t, conn.SetReadDeadline(time.Now().Add(15*time.Second)))
		_, err = bufio.NewReader(conn).ReadString('\n')
		elapsed := time.Since(start)
		var netErr net.Error
		if assert.Error(t, err) {
			assert.False(t, errors.As(err, &netErr) && netErr.Timeout(), "the server, not the client, hung up: %v", err)
		}
		assert.Less(t, elapsed, 10*time.Second, "ReadHeaderTimeout (5 s) cut the connection")
		assert.Greater(t, elapsed, 4*time.Second)
		t.Logf("a client that never finished its headers was cut after %v", elapsed.Round(100*time.Millisecond))
	})
}

// TestEscuchaDeAdministracion: the admin listener (FACTORING_ADMIN_ADDR)
// serves /metrics (with the SQL statement count) and pprof on its own
// address; the API's handler serves none of it.
func TestEscuchaDeAdministracion(t *testing.T) {
	db := testkit.SQLite(t)
	cfg := configDe(t, nil)
	c, _ := testkit.Serve(t, db, testkit.ServeOptions{Config: &cfg})
	c.Header.Set("Authorization", "Bearer "+testkit.Token(t, "luis", auth.Lector))
	res := c.Do(`{ clientes { totalCount } }`, nil)
	require.Empty(t, res.Errors, res.Raw)
	require.Positive(t, db.Statements.Load())

	tel, err := telemetry.New(t.Context(), telemetry.Config{})
	require.NoError(t, err)
	require.NoError(t, tel.RegisterDB(db))
	var logs testkit.SyncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	addr, err := httpserver.ListenAdmin(ctx, httpserver.AdminConfig{
		Addr:    "127.0.0.1:0",
		Logger:  slog.New(slog.NewJSONHandler(&logs, nil)),
		Metrics: tel.MetricsHandler(),
	})
	require.NoError(t, err)
	assert.Contains(t, logs.String(), addr, "the admin listener logs its address")

	res2 := enviar(t, http.MethodGet, "http://"+addr+"/metrics", "", nil)
	require.Equal(t, http.StatusOK, res2.status)
	assert.Contains(t, res2.body, fmt.Sprintf("factoring_sql_statements_total %d\n", db.Statements.Load()))
	assert.Contains(t, res2.body, "go_sql_max_open_connections", "the pool's collector")
	assert.Contains(t, res2.body, "go_goroutines", "the runtime's")
	res2 = enviar(t, http.MethodGet, "http://"+addr+"/debug/pprof/", "", nil)
	assert.Equal(t, http.StatusOK, res2.status)
	assert.Contains(t, res2.body, "goroutine")

	for _, path := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/heap", "/debug/vars"} {
		for _, h := range []map[string]string{nil, {"Authorization": c.Header.Get("Authorization")}} {
			res := enviar(t, http.MethodGet, c.URL()+path, "", h)
			assert.Equal(t, http.StatusNotFound, res.status, path)
			assert.NotContains(t, res.body, "factoring_sql_statements_total")
		}
	}

	cancel()
	require.Eventually(t, func() bool {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
		}
		return err != nil
	}, 10*time.Second, 20*time.Millisecond, "the admin listener stops with its context")
}
