package telemetry_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/banpro/factoring/internal/app"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/config"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/telemetry"
	"github.com/banpro/factoring/internal/testkit"
)

// dialects opens a test database of each kind, its driver wrapped as serve
// wraps it.
var dialects = []struct {
	name        string
	open        func(testing.TB, database.Options) *database.DB
	placeholder string
}{
	{"sqlite", testkit.SQLiteWith, "?"},
	{"postgres", testkit.PostgresWith, "$1"},
}

// attr returns the value of key among a span's attributes, "" if absent.
func attr(s tracetest.SpanStub, key string) string {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value.Emit()
		}
	}
	return ""
}

func hasAttr(s tracetest.SpanStub, key attribute.Key) bool {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return true
		}
	}
	return false
}

// tree is one request's spans: the server's, the operation's and the SQL
// statements', each checked to be the child of the one before.
type tree struct {
	server, operation tracetest.SpanStub
	sql               []tracetest.SpanStub
}

// requestTree finds the one request among spans and checks its shape: a
// server span, one operation span under it, every other span a SQL
// statement under the operation, all in one trace.
func requestTree(t *testing.T, spans tracetest.SpanStubs, opName string) tree {
	t.Helper()
	var tr tree
	var servers, ops int
	for _, s := range spans {
		switch {
		case s.SpanKind == trace.SpanKindServer:
			tr.server = s
			servers++
		case s.Name == opName:
			tr.operation = s
			ops++
		case hasAttr(s, "db.system.name"):
			tr.sql = append(tr.sql, s)
		default:
			t.Errorf("unexpected span %q", s.Name)
		}
	}
	require.Equal(t, 1, servers, "one server span: %v", names(spans))
	require.Equal(t, 1, ops, "one %q span: %v", opName, names(spans))
	require.NotEmpty(t, tr.sql, "SQL spans")
	traceID := tr.server.SpanContext.TraceID()
	assert.Equal(t, "POST /graphql", tr.server.Name)
	assert.Equal(t, "200", attr(tr.server, "http.response.status_code"))
	assert.Equal(t, tr.server.SpanContext.SpanID(), tr.operation.Parent.SpanID(), "the operation is the request's child")
	assert.Equal(t, traceID, tr.operation.SpanContext.TraceID())
	for _, s := range tr.sql {
		assert.Equal(t, tr.operation.SpanContext.SpanID(), s.Parent.SpanID(), "%s is the operation's child", s.Name)
		assert.Equal(t, traceID, s.SpanContext.TraceID())
		assert.Equal(t, trace.SpanKindClient, s.SpanKind)
	}
	return tr
}

func names(spans tracetest.SpanStubs) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name
	}
	return out
}

// Ensure that a traced request is one tree, HTTP → operation → SQL, on
// both databases: a nested query's statements (one span each, as many as
// the statement counter saw, with the statement's shape and never its
// values), a mutation's transaction (BEGIN, its writes, COMMIT), and a
// caller's traceparent continued rather than replaced.
func TestTrazas(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			s := newServer(t, d.open, true)
			s.activeCliente(2)
			lector := token(t, "luis", auth.Lector)

			t.Run("consulta_anidada", func(t *testing.T) {
				s.Spans.Reset()
				before := s.DB.Statements.Load()
				s.must(lector, cartera, nil)
				tr := requestTree(t, s.Spans.GetSpans(), "query ClientesCartera")
				assert.EqualValues(t, s.DB.Statements.Load()-before, len(tr.sql), "one span per statement")
				assert.Equal(t, "query", attr(tr.operation, "graphql.operation.type"))
				assert.Equal(t, "ClientesCartera", attr(tr.operation, "graphql.operation.name"))
				placeholders := 0
				for _, sql := range tr.sql {
					assert.True(t, strings.HasPrefix(sql.Name, "SELECT "), sql.Name)
					text := attr(sql, "db.query.text")
					assert.Equal(t, "SELECT", attr(sql, "db.operation.name"), text)
					if strings.Contains(text, d.placeholder) {
						placeholders++
					}
					assert.NotContains(t, text, "Comercial Pruebas", "values never reach a span")
				}
				assert.Positive(t, placeholders, "the nested page filters by its parents' ids, as parameters")
				assert.Contains(t, names(s.Spans.GetSpans()), "SELECT clientes")
				assert.Contains(t, names(s.Spans.GetSpans()), "SELECT facturas")
			})

			t.Run("mutacion", func(t *testing.T) {
				s.Spans.Reset()
				before := s.DB.Statements.Load()
				input := clienteInput("Razón Reservada Sigilosa SpA")
				rut := input["input"].(map[string]any)["rut"].(string)
				s.must(token(t, "ana", auth.Analista), crearCliente, input)
				tr := requestTree(t, s.Spans.GetSpans(), "mutation CrearCliente")
				var statements []string
				for _, sql := range tr.sql {
					statements = append(statements, sql.Name)
					text := attr(sql, "db.query.text")
					for _, v := range []string{"Reservada", rut, "finanzas@ejemplo.cl", "100000000"} {
						assert.NotContains(t, text, v, "%s carries a value", sql.Name)
					}
				}
				assert.Equal(t, "BEGIN", statements[0])
				assert.Equal(t, "COMMIT", statements[len(statements)-1])
				assert.Contains(t, statements, "INSERT clientes")
				if d.name == "postgres" {
					assert.Contains(t, statements, "NOTIFY", "the event's notification, traced like any statement")
				}
				assert.EqualValues(t, s.DB.Statements.Load()-before, len(statements)-2,
					"every statement in between is one the counter saw")
				assert.Equal(t, "ana", attr(tr.server, "factoring.actor"))
			})

			t.Run("traceparent_entrante", func(t *testing.T) {
				s.Spans.Reset()
				const caller = "4bf92f3577b34da6a3ce929d0e0e4736"
				res := s.post(lector, cartera, nil, "traceparent", "00-"+caller+"-00f067aa0ba902b7-01")
				require.Empty(t, res.Errors, res.Raw)
				tr := requestTree(t, s.Spans.GetSpans(), "query ClientesCartera")
				assert.Equal(t, caller, tr.server.SpanContext.TraceID().String(), "the caller's trace goes on")
				assert.Equal(t, "00f067aa0ba902b7", tr.server.Parent.SpanID().String())
				assert.True(t, tr.server.Parent.IsRemote())
				lines := s.accessLines()
				last := lines[len(lines)-1]
				assert.Equal(t, caller, last["trace_id"], "the access log names the trace")
				assert.Equal(t, tr.server.SpanContext.SpanID().String(), last["span_id"])
			})

			t.Run("sondas_sin_trazas", func(t *testing.T) {
				s.Spans.Reset()
				for _, p := range []string{"/healthz", "/readyz"} {
					res, err := http.Get(s.URL + p)
					require.NoError(t, err)
					res.Body.Close()
				}
				assert.Empty(t, names(s.Spans.GetSpans()), "probes make no spans")
			})
		})
	}
}

// Ensure that with tracing off nothing is traced, yet a caller's
// traceparent still names the request's log lines; without one they name
// no trace.
func TestSinTrazasElTraceparentSeRegistra(t *testing.T) {
	s := newServer(t, testkit.SQLiteWith, false)
	assert.False(t, s.Tel.Tracing().Enabled)
	lector := token(t, "luis", auth.Lector)
	const caller = "0af7651916cd43dd8448eb211c80319c"
	s.must(lector, cartera, nil)
	res := s.post(lector, cartera, nil, "traceparent", "00-"+caller+"-b7ad6b7169203331-01")
	require.Empty(t, res.Errors, res.Raw)
	lines := s.accessLines()
	require.Len(t, lines, 2)
	assert.NotContains(t, lines[0], "trace_id")
	assert.Equal(t, caller, lines[1]["trace_id"])
	assert.NotContains(t, lines[1], "span_id", "the server made no span of its own")
}

// Ensure that the access-log line of a mutation refused for the caller's
// roles names the caller, the operation and the code, with its trace.
func TestAccesoDeUnaMutacionProhibida(t *testing.T) {
	s := newServer(t, testkit.SQLiteWith, true)
	res := s.post(token(t, "luis", auth.Lector), crearCliente, clienteInput("Comercial Prohibida SpA"))
	require.Equal(t, "FORBIDDEN", res.code(), res.Raw)
	lines := s.accessLines()
	require.Len(t, lines, 1)
	line := lines[0]
	assert.Equal(t, "luis", line["actor"])
	assert.Equal(t, "mutation", line["operation_type"])
	assert.Equal(t, "CrearCliente", line["operation"])
	assert.Equal(t, []any{"FORBIDDEN"}, line["codes"])
	assert.Equal(t, float64(http.StatusForbidden), line["status"])
	assert.Equal(t, float64(0), line["sql_statements"], "refused before anything ran")
	spans := s.Spans.GetSpans()
	require.NotEmpty(t, spans)
	assert.Equal(t, spans[0].SpanContext.TraceID().String(), line["trace_id"])
	var op tracetest.SpanStub
	for _, sp := range spans {
		if sp.Name == "mutation CrearCliente" {
			op = sp
		}
	}
	assert.Equal(t, "FORBIDDEN", attr(op, "factoring.error.code"), "the refused operation has its span too")
}

// Ensure that a background job's run is a trace of its own whose SQL
// statements are its children, through the global provider serve installs.
func TestTrazaDeUnaTarea(t *testing.T) {
	s := newServer(t, testkit.SQLiteWith, true)
	s.activeCliente(1)
	previous := otel.GetTracerProvider()
	s.Tel.InstallGlobal(nil)
	t.Cleanup(func() { otel.SetTracerProvider(previous) })
	s.Spans.Reset()

	ctx, end := telemetry.StartJob(context.Background(), "marcar-vencidas")
	ctx = auth.NewContext(ctx, auth.Principal{Subject: auth.Sistema})
	cfg, err := config.Load(func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	_, err = app.Services(s.DB, cfg, clock.NewFixed(hoy)).Facturas.MarcarVencidas(ctx, time.UTC)
	end(err)
	require.NoError(t, err)

	spans := s.Spans.GetSpans()
	var job tracetest.SpanStub
	for _, sp := range spans {
		if sp.Name == "marcar-vencidas" {
			job = sp
		}
	}
	require.True(t, job.SpanContext.IsValid(), "the job's span: %v", names(spans))
	assert.False(t, job.Parent.IsValid(), "a trace of its own")
	sqls := 0
	for _, sp := range spans {
		if hasAttr(sp, "db.system.name") {
			sqls++
			assert.Equal(t, job.SpanContext.SpanID(), sp.Parent.SpanID(), sp.Name)
		}
	}
	assert.Positive(t, sqls)
}
