package httpserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/httpserver"
	"github.com/banpro/factoring/internal/requestid"
	"github.com/banpro/factoring/internal/testkit"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// stubSDL stands for the schema's SDL: the server serves what it is given.
const stubSDL = "type Query {\n  hola: String\n}\n"

// stubGraphQL stands for the GraphQL endpoint: the server routes /graphql
// to whatever handler it is given.
var stubGraphQL = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"data":{"hola":"mundo"}}`)
})

// bareServer is the HTTP server with no database and no GraphQL behind it:
// enough for the routes and the middleware.
func bareServer(t *testing.T, playground bool, ready func(context.Context) error, log *slog.Logger) http.Handler {
	t.Helper()
	srv, err := httpserver.New(httpserver.Config{
		GraphQL:    stubGraphQL,
		SDL:        stubSDL,
		Logger:     log,
		Playground: playground,
		Ready:      ready,
	})
	require.NoError(t, err)
	return srv.Handler()
}

func get(h http.Handler, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

// errorBody decodes the one error of a JSON error response.
func errorBody(t *testing.T, raw []byte) testkit.GQLError {
	t.Helper()
	var body struct{ Errors []testkit.GQLError }
	require.NoError(t, json.Unmarshal(raw, &body), "body: %s", raw)
	require.Len(t, body.Errors, 1, "body: %s", raw)
	require.NotEmpty(t, body.Errors[0].Extensions.RequestID, "every error carries extensions.requestId: %s", raw)
	return body.Errors[0]
}

func TestRutas(t *testing.T) {
	h := bareServer(t, true, nil, discard())

	t.Run("healthz", func(t *testing.T) {
		rec := get(h, "/healthz")
		assert.Equal(t, http.StatusOK, rec.Code)
		assert.JSONEq(t, `{"status":"ok"}`, rec.Body.String())
	})
	t.Run("readyz_listo", func(t *testing.T) {
		rec := get(h, "/readyz")
		assert.Equal(t, http.StatusOK, rec.Code)
	})
	t.Run("readyz_no_listo", func(t *testing.T) {
		var logs testkit.SyncBuffer
		log := slog.New(slog.NewJSONHandler(&logs, nil))
		h := bareServer(t, true, func(context.Context) error {
			return errors.New("pq: password authentication failed for user postgres")
		}, log)
		rec := get(h, "/readyz")
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
		assert.NotContains(t, rec.Body.String(), "password", "the reason goes to the log, not to the caller")
		assert.Contains(t, logs.String(), "password authentication failed")
	})
	t.Run("playground", func(t *testing.T) {
		rec := get(h, "/playground")
		assert.Equal(t, http.StatusOK, rec.Code)
		assert.Contains(t, rec.Header().Get("Content-Type"), "text/html")
		assert.Contains(t, rec.Body.String(), "/graphql", "the IDE points at the API")
	})
	t.Run("la_raiz_lleva_al_playground", func(t *testing.T) {
		rec := get(h, "/")
		assert.GreaterOrEqual(t, rec.Code, 300)
		assert.Less(t, rec.Code, 400)
		assert.Equal(t, "/playground", rec.Header().Get("Location"))
	})
	t.Run("graphql", func(t *testing.T) {
		rec := get(h, "/graphql")
		assert.Equal(t, http.StatusOK, rec.Code)
		assert.JSONEq(t, `{"data":{"hola":"mundo"}}`, rec.Body.String(), "/graphql is the handler the server was given")
	})
	t.Run("schema_graphql", func(t *testing.T) {
		rec := get(h, "/schema.graphql")
		assert.Equal(t, http.StatusOK, rec.Code)
		assert.Contains(t, rec.Header().Get("Content-Type"), "text/plain")
		assert.Equal(t, stubSDL, rec.Body.String())
	})
	for _, path := range []string{"/no-existe", "/graphql/extra", "/playground/x", "/healthz/x"} {
		t.Run("ruta_desconocida_"+path, func(t *testing.T) {
			rec := get(h, path)
			assert.Equal(t, http.StatusNotFound, rec.Code)
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			assert.Equal(t, "NOT_FOUND", errorBody(t, rec.Body.Bytes()).Extensions.Code)
		})
	}
	t.Run("sin_playground", func(t *testing.T) {
		h := bareServer(t, false, nil, discard())
		for _, path := range []string{"/playground", "/"} {
			rec := get(h, path)
			assert.Equal(t, http.StatusNotFound, rec.Code, path)
			assert.Equal(t, "NOT_FOUND", errorBody(t, rec.Body.Bytes()).Extensions.Code)
		}
	})
	t.Run("metodo_no_admitido_en_healthz", func(t *testing.T) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/healthz", nil))
		assert.GreaterOrEqual(t, rec.Code, 400)
		assert.Less(t, rec.Code, 500)
		assert.Equal(t, "application/json", rec.Header().Get("Content-Type"), "never an HTML or plain text error: %s", rec.Body.String())
	})

	// Ensure that every response, whatever answers it, carries the
	// security headers and the request id.
	t.Run("encabezados_en_toda_respuesta", func(t *testing.T) {
		requests := map[string]*http.Request{
			"healthz":     httptest.NewRequest(http.MethodGet, "/healthz", nil),
			"playground":  httptest.NewRequest(http.MethodGet, "/playground", nil),
			"schema":      httptest.NewRequest(http.MethodGet, "/schema.graphql", nil),
			"redireccion": httptest.NewRequest(http.MethodGet, "/", nil),
			"404":         httptest.NewRequest(http.MethodGet, "/nada", nil),
			"graphql":     httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader("{ clientes { totalCount } }")),
			"413":         httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(strings.Repeat("x", httpserver.MaxBodyBytes+1))),
			"405":         httptest.NewRequest(http.MethodPost, "/healthz", nil),
		}
		for name, req := range requests {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"), name)
			assert.Equal(t, "DENY", rec.Header().Get("X-Frame-Options"), name)
			assert.Equal(t, "no-referrer", rec.Header().Get("Referrer-Policy"), name)
			_, err := uuid.Parse(rec.Header().Get(requestid.Header))
			assert.NoError(t, err, "%s: X-Request-ID %q", name, rec.Header().Get(requestid.Header))
		}
	})
}

func TestIDDeSolicitud(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		c, _ := testkit.Serve(t, db, testkit.ServeOptions{})
		withID := func(id string) http.Header { return http.Header{requestid.Header: {id}} }
		notFound := fmt.Sprintf(`{"query":"{ cliente(id: \"%s\") { id } }"}`, "Q2xpZW50ZTo5OTk5") // Cliente:9999

		t.Run("genera_su_id_y_devuelve_el_del_llamador_como_correlacion", func(t *testing.T) {
			res := c.Post("application/json", strings.NewReader(notFound), withID("mi-solicitud_1.0"))
			got := res.Header.Get(requestid.Header)
			_, err := uuid.Parse(got)
			require.NoError(t, err, "X-Request-ID %q is the server's own", got)
			assert.Equal(t, "mi-solicitud_1.0", res.Header.Get(requestid.CorrelationHeader))
			e := testkit.RequireGQLError(t, res, "NOT_FOUND")
			assert.Equal(t, got, e.Extensions.RequestID)
		})
		t.Run("dos_solicitudes_con_el_mismo_id_no_lo_comparten", func(t *testing.T) {
			a := c.Post("application/json", strings.NewReader(notFound), withID("repetido"))
			b := c.Post("application/json", strings.NewReader(notFound), withID("repetido"))
			assert.NotEqual(t, a.Header.Get(requestid.Header), b.Header.Get(requestid.Header))
			assert.Equal(t, "repetido", a.Header.Get(requestid.CorrelationHeader))
			assert.Equal(t, "repetido", b.Header.Get(requestid.CorrelationHeader))
		})
		for name, id := range map[string]string{
			"129_caracteres": strings.Repeat("a", 129),
			"espacios":       "mi solicitud",
			"unicode":        "solicitud-ñandú",
			"vacio":          "",
		} {
			t.Run("sin_correlacion_si_el_id_es_"+name, func(t *testing.T) {
				res := c.Post("application/json", strings.NewReader(notFound), withID(id))
				got := res.Header.Get(requestid.Header)
				_, err := uuid.Parse(got)
				require.NoError(t, err, "X-Request-ID %q", got)
				assert.Empty(t, res.Header.Get(requestid.CorrelationHeader))
				testkit.RequireGQLError(t, res, "NOT_FOUND")
			})
		}
		t.Run("sin_encabezado_genera_uno_distinto_cada_vez", func(t *testing.T) {
			a := c.Post("application/json", strings.NewReader(notFound), nil)
			b := c.Post("application/json", strings.NewReader(notFound), nil)
			testkit.RequireGQLError(t, a, "NOT_FOUND")
			testkit.RequireGQLError(t, b, "NOT_FOUND")
			assert.NotEqual(t, a.Header.Get(requestid.Header), b.Header.Get(requestid.Header))
		})
		// Every kind of error carries the request id: field errors,
		// validation before execution, and errors outside GraphQL.
		t.Run("todo_error_lleva_el_id", func(t *testing.T) {
			cases := map[string]func() testkit.Response{
				"validacion": func() testkit.Response {
					return c.Post("application/json", strings.NewReader(`{"query":"{ clientes(first: 0) { totalCount } }"}`), withID("r-1"))
				},
				"escalar": func() testkit.Response {
					return c.Post("application/json", strings.NewReader(`{"query":"{ cliente(id: \"xyz\") { id } }"}`), withID("r-1"))
				},
				"sintaxis": func() testkit.Response {
					return c.Post("application/json", strings.NewReader(`{"query":"{"}`), withID("r-1"))
				},
				"json_malformado": func() testkit.Response {
					return c.Post("application/json", strings.NewReader(`{`), withID("r-1"))
				},
				"415": func() testkit.Response {
					return c.Post("text/plain", strings.NewReader(`{}`), withID("r-1"))
				},
				"413": func() testkit.Response {
					return c.Post("application/json", bytes.NewReader(testkit.PaddedBody(t, httpserver.MaxBodyBytes+1)), withID("r-1"))
				},
				"ruta_desconocida": func() testkit.Response {
					req, err := http.NewRequest(http.MethodGet, c.URL()+"/nada", nil)
					require.NoError(t, err)
					req.Header.Set(requestid.Header, "r-1")
					return c.Send(req)
				},
				"mutacion_por_get": func() testkit.Response {
					return c.Get(url.Values{"query": {`mutation { activarCliente(id: "Q2xpZW50ZTox") { id } }`}}, withID("r-1"))
				},
			}
			for name, send := range cases {
				res := send()
				require.NotEmpty(t, res.Errors, "%s: %s", name, res.Raw)
				id := res.Header.Get(requestid.Header)
				require.NotEmpty(t, id, name)
				for _, e := range res.Errors {
					assert.Equal(t, id, e.Extensions.RequestID, "%s: %s", name, res.Raw)
				}
				assert.Equal(t, "r-1", res.Header.Get(requestid.CorrelationHeader), name)
			}
		})
	})
}

func TestRegistroDeAcceso(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		var logs testkit.SyncBuffer
		c, _ := testkit.Serve(t, db, testkit.ServeOptions{
			Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		})
		body := `{"query":"query BuscarClientes($q: String) { clientes(where: {razonSocialContains: $q}) { totalCount } }",` +
			`"operationName":"BuscarClientes","variables":{"q":"secreto456"}}`
		res := c.Post("application/json", strings.NewReader(body), http.Header{
			"Authorization":  {"Bearer secreto123"},
			requestid.Header: {"acceso-1"},
		})
		require.Empty(t, res.Errors, res.Raw)
		res = c.Get(url.Values{
			"query":     {"query PorGet($q: String) { clientes(where: {razonSocialContains: $q}) { totalCount } }"},
			"variables": {`{"q":"secreto789"}`},
		}, http.Header{requestid.Header: {"acceso-2"}, "Authorization": {"Bearer secreto123"}})
		require.Empty(t, res.Errors, res.Raw)

		// The access line is written once the response is on its way.
		lines := func() map[string]map[string]any {
			out := map[string]map[string]any{}
			for l := range strings.Lines(logs.String()) {
				var m map[string]any
				if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "solicitud" {
					out[fmt.Sprint(m["correlation_id"])] = m
				}
			}
			return out
		}
		require.Eventually(t, func() bool { return len(lines()) == 2 }, 5*time.Second, 10*time.Millisecond, logs.String())
		got := lines()
		post := got["acceso-1"]
		require.NotNil(t, post, logs.String())
		assert.Equal(t, "POST", post["method"])
		assert.Equal(t, "/graphql", post["path"])
		assert.Equal(t, float64(200), post["status"])
		assert.Equal(t, "BuscarClientes", post["operation"])
		assert.Equal(t, "anonimo", post["actor"], "authentication is off here")
		assert.Equal(t, []any{}, post["codes"], "it succeeded")
		byGet := got["acceso-2"]
		require.NotNil(t, byGet, logs.String())
		assert.Equal(t, "GET", byGet["method"])
		assert.Equal(t, "/graphql", byGet["path"])
		assert.Equal(t, "PorGet", byGet["operation"])

		for _, secret := range []string{"secreto123", "secreto456", "secreto789"} {
			assert.NotContains(t, logs.String(), secret, "no variables, query strings or Authorization in the log")
		}
	})
}
