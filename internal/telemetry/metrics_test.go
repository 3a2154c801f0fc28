package telemetry_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/testkit"
)

// Ensure that /metrics counts a known sequence exactly: two queries, a
// mutation that succeeds, one refused for the caller's roles and one
// refused for its input, plus a request without a token; by operation
// type, bounded name and code, with one histogram observation per request,
// the mutations by root field, and the SQL statements the database ran.
func TestMetricasDeUnaSecuencia(t *testing.T) {
	s := newServer(t, testkit.SQLiteWith, false)
	lector := token(t, "luis", auth.Lector)
	analista := token(t, "ana", auth.Analista)
	before := s.scrape()
	require.Nil(t, sample(before, "factoring_graphql_requests_total",
		map[string]string{"operation_type": "query", "operation_name": "ClientesCartera", "code": "OK"}))

	s.must(lector, cartera, nil)
	s.must(lector, cartera, nil)
	s.must(analista, crearCliente, clienteInput("Comercial Uno SpA"))
	forbidden := s.post(lector, crearCliente, clienteInput("Comercial Dos SpA"))
	require.Equal(t, "FORBIDDEN", forbidden.code(), forbidden.Raw)
	bad := clienteInput("Comercial Tres SpA")
	bad["input"].(map[string]any)["rut"] = "11.111.111-2" // wrong check digit
	invalid := s.post(analista, crearCliente, bad)
	require.Equal(t, "VALIDATION_ERROR", invalid.code(), invalid.Raw)
	unauth := s.post("", cartera, nil)
	require.Equal(t, http.StatusUnauthorized, unauth.Status)
	preflight, err := http.NewRequest(http.MethodOptions, s.URL+"/graphql", nil)
	require.NoError(t, err)
	preflight.Header.Set("Origin", "https://app.banpro.cl")
	preflight.Header.Set("Access-Control-Request-Method", "POST")
	res, err := http.DefaultClient.Do(preflight)
	require.NoError(t, err)
	res.Body.Close() // a browser's preflight is no GraphQL request

	m := s.scrape()
	counter := func(family string, labels map[string]string) float64 {
		t.Helper()
		got := sample(m, family, labels)
		require.NotNil(t, got, "%s%v missing", family, labels)
		return got.GetCounter().GetValue()
	}
	req := func(typ, name, code string) map[string]string {
		return map[string]string{"operation_type": typ, "operation_name": name, "code": code}
	}
	assert.Equal(t, 2.0, counter("factoring_graphql_requests_total", req("query", "ClientesCartera", "OK")))
	assert.Equal(t, 1.0, counter("factoring_graphql_requests_total", req("mutation", "CrearCliente", "OK")))
	assert.Equal(t, 1.0, counter("factoring_graphql_requests_total", req("mutation", "CrearCliente", "FORBIDDEN")))
	assert.Equal(t, 1.0, counter("factoring_graphql_requests_total", req("mutation", "CrearCliente", "VALIDATION_ERROR")))
	assert.Equal(t, 1.0, counter("factoring_graphql_requests_total", req("unknown", "unknown", "UNAUTHENTICATED")),
		"a request refused before it was read still counts, with no name to give")
	assert.Len(t, m["factoring_graphql_requests_total"].GetMetric(), 5, "no other series")

	hist := func(typ, name string) uint64 {
		t.Helper()
		got := sample(m, "factoring_graphql_request_duration_seconds", map[string]string{"operation_type": typ, "operation_name": name})
		require.NotNil(t, got, "histogram %s %s missing", typ, name)
		h := got.GetHistogram()
		assert.Positive(t, h.GetSampleSum())
		buckets := h.GetBucket()
		assert.Equal(t, h.GetSampleCount(), buckets[len(buckets)-1].GetCumulativeCount(), "every observation under 30 s")
		return h.GetSampleCount()
	}
	assert.EqualValues(t, 2, hist("query", "ClientesCartera"))
	assert.EqualValues(t, 3, hist("mutation", "CrearCliente"))
	assert.EqualValues(t, 1, hist("unknown", "unknown"))

	mut := func(code string) map[string]string {
		return map[string]string{"mutation": "crearCliente", "code": code}
	}
	assert.Equal(t, 1.0, counter("factoring_mutations_total", mut("OK")))
	assert.Equal(t, 1.0, counter("factoring_mutations_total", mut("FORBIDDEN")))
	assert.Equal(t, 1.0, counter("factoring_mutations_total", mut("VALIDATION_ERROR")))
	assert.Len(t, m["factoring_mutations_total"].GetMetric(), 3)

	assert.Equal(t, float64(s.DB.Statements.Load()), counter("factoring_sql_statements_total", nil))
	assert.Positive(t, counter("factoring_sql_statements_total", nil))
	require.NotNil(t, sample(m, "go_sql_max_open_connections", map[string]string{"db_name": "factoring"}), "the pool's collector")
	require.NotNil(t, sample(m, "factoring_subscriptions_active", nil))
	require.NotNil(t, sample(m, "go_goroutines", nil), "the runtime's collector")
	require.NotNil(t, sample(m, "process_cpu_seconds_total", nil), "the process's collector")
}

// Ensure that operation names become label values only when they are plain
// GraphQL names, and only the first MaxOperationNames of them: a client
// inventing names cannot grow the series without end.
func TestNombresDeOperacionAcotados(t *testing.T) {
	s := newServer(t, testkit.SQLiteWith, false)
	lector := token(t, "luis", auth.Lector)
	s.must(lector, `{ clientes(first: 1) { totalCount } }`, nil)
	for i := range 205 {
		s.must(lector, fmt.Sprintf(`query Q%03d { clientes(first: 1) { totalCount } }`, i), nil)
	}
	m := s.scrape()
	names := map[string]float64{}
	for _, metric := range m["factoring_graphql_requests_total"].GetMetric() {
		for _, l := range metric.GetLabel() {
			if l.GetName() == "operation_name" {
				names[l.GetValue()] += metric.GetCounter().GetValue()
			}
		}
	}
	assert.Equal(t, 1.0, names["anonymous"])
	assert.Equal(t, 1.0, names["Q000"])
	assert.Equal(t, 1.0, names["Q199"])
	assert.NotContains(t, names, "Q200", "the 201st name is no label of its own")
	assert.Equal(t, 5.0, names["other"])
	assert.Len(t, names, 202, "anonymous, 200 names, other")
}

// Ensure that factoring_subscriptions_active follows the subscriptions
// open, over SSE and WebSocket, back to zero when they end; and that a
// subscription stream counts as a request, with its operation, but not
// as a request latency (it lasts as long as its client wants).
func TestMetricasDeSuscripciones(t *testing.T) {
	s := newServer(t, testkit.SQLiteWith, false)
	lector := token(t, "luis", auth.Lector)
	activas := func() float64 {
		got := sample(s.scrape(), "factoring_subscriptions_active", nil)
		require.NotNil(t, got)
		return got.GetGauge().GetValue()
	}
	require.Zero(t, activas())
	sse := testkit.SubscribeSSE(t, s.URL, lector, `subscription Vivo { eventos { id } }`, nil)
	require.Equal(t, http.StatusOK, sse.Res.StatusCode)
	require.Eventually(t, func() bool { return activas() == 1 }, 10*time.Second, 10*time.Millisecond)
	w, _, err := testkit.DialWS(t, s.URL, testkit.WSOptions{})
	require.NoError(t, err)
	require.True(t, w.Init(map[string]any{"Authorization": "Bearer " + lector}))
	w.Subscribe("1", `subscription Vivo { eventos { id } }`, nil)
	w.Subscribe("2", `subscription Vivo { eventos { tipo } }`, nil)
	require.Eventually(t, func() bool { return activas() == 3 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, w.Send(testkit.WSMessage{Type: "complete", ID: "2"}))
	require.Eventually(t, func() bool { return activas() == 2 }, 10*time.Second, 10*time.Millisecond)
	w.Close()
	sse.Close()
	require.Eventually(t, func() bool { return activas() == 0 }, 10*time.Second, 10*time.Millisecond)

	req := map[string]string{"operation_type": "subscription", "operation_name": "Vivo", "code": "OK"}
	require.Eventually(t, func() bool {
		got := sample(s.scrape(), "factoring_graphql_requests_total", req)
		return got != nil && got.GetCounter().GetValue() == 2
	}, 10*time.Second, 10*time.Millisecond, "the SSE stream and the WebSocket connection, when they end")
	assert.Nil(t, sample(s.scrape(), "factoring_graphql_request_duration_seconds",
		map[string]string{"operation_type": "subscription", "operation_name": "Vivo"}), "no latency of a stream")
}
