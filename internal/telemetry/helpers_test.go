package telemetry_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/banpro/factoring/internal/app"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/config"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/rut"
	"github.com/banpro/factoring/internal/telemetry"
)

// secret signs the tests' tokens.
var secret = []byte("secreto-de-telemetria-de-32-bytes")

// hoy is the server's business clock: 2026-11-26 at noon in Santiago.
var hoy = time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)

// server is the whole API, as serve wires it, over a test database, with
// its telemetry, its log and (when traced) the spans it made.
type server struct {
	t     testing.TB
	URL   string
	DB    *database.DB
	Tel   *telemetry.Telemetry
	Logs  *syncBuffer
	Spans *tracetest.InMemoryExporter // nil with tracing off
	http  *http.Client
}

// newServer builds the telemetry first (the database's driver is wrapped
// by it, as in serve), then the database with open, then the server with
// authentication on. traced sends every span, sampled, to an in-memory
// exporter.
func newServer(t testing.TB, open func(testing.TB, database.Options) *database.DB, traced bool) *server {
	t.Helper()
	cfg := telemetry.Config{}
	var spans *tracetest.InMemoryExporter
	if traced {
		spans = tracetest.NewInMemoryExporter()
		cfg = telemetry.Config{Exporter: spans, Sync: true, Sampler: sdktrace.AlwaysSample()}
	}
	s := newServerWith(t, open, cfg)
	s.Spans = spans
	return s
}

// newServerWith is newServer with the telemetry's configuration as given.
func newServerWith(t testing.TB, open func(testing.TB, database.Options) *database.DB, cfg telemetry.Config) *server {
	t.Helper()
	tel, err := telemetry.New(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = tel.Shutdown(t.Context()) })
	db := open(t, database.Options{WrapDriver: tel.WrapDriver})
	require.NoError(t, tel.RegisterDB(db))

	appCfg, err := config.Load(func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	appCfg.AuthRequired, appCfg.JWTSecret = true, secret
	logs := &syncBuffer{}
	srv, err := app.NewServer(app.Options{
		DB: db, Config: appCfg, Clock: clock.NewFixed(hoy), Telemetry: tel,
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	require.NoError(t, err)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &server{t: t, URL: hs.URL, DB: db, Tel: tel, Logs: logs, http: hs.Client()}
}

// token signs a token for subject with roles.
func token(t testing.TB, subject string, roles ...auth.Role) string {
	t.Helper()
	tok, err := auth.IssueHS256(secret, subject, roles, time.Hour, "", "", time.Now())
	require.NoError(t, err)
	return tok
}

// gqlError is one error of a response.
type gqlError struct {
	Message    string
	Path       []any
	Extensions map[string]any
}

// response is a decoded GraphQL answer.
type response struct {
	Status int
	Data   map[string]any
	Errors []gqlError
	Raw    string
}

// code is the first error's code, "" without errors.
func (r response) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// post sends one GraphQL request with tok (none when "") and extra headers.
func (s *server) post(tok, query string, vars map[string]any, headers ...string) response {
	s.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(s.t, err)
	req, err := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
	require.NoError(s.t, err)
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := s.http.Do(req)
	require.NoError(s.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(s.t, err)
	out := response{Status: res.StatusCode, Raw: string(raw)}
	require.NoError(s.t, json.Unmarshal(raw, &out), string(raw))
	return out
}

// must posts and requires an answer without errors.
func (s *server) must(tok, query string, vars map[string]any) map[string]any {
	s.t.Helper()
	r := s.post(tok, query, vars)
	require.Empty(s.t, r.Errors, r.Raw)
	return r.Data
}

var rutSeq atomic.Int64

// newRUT returns a valid RUT never handed out before in this process.
func newRUT() string {
	body := 30_000_000 + int(rutSeq.Add(1))*7
	return rut.Format(body, rut.CheckDigit(body))
}

const (
	crearCliente = `mutation CrearCliente($input: CrearClienteInput!) { crearCliente(input: $input) { id } }`
	activar      = `mutation Activar($id: ID!) { activarCliente(id: $id) { id } }`
	registrar    = `mutation Registrar($input: RegistrarFacturaInput!) { registrarFactura(input: $input) { id } }`
	crearOp      = `mutation CrearOperacion($input: CrearOperacionInput!) { crearOperacion(input: $input) { id estado } }`
	aprobarOp    = `mutation AprobarOperacion($id: ID!) { aprobarOperacion(id: $id) { id estado } }`
	// cartera is the nested query: clientes, their facturas and their count.
	cartera = `query ClientesCartera { clientes(first: 5) { totalCount edges { node { razonSocial
	  facturas(first: 3) { totalCount edges { node { numeroFactura montoTotal } } } } } } }`
)

func clienteInput(razonSocial string) map[string]any {
	return map[string]any{"input": map[string]any{
		"rut": newRUT(), "razonSocial": razonSocial, "email": "finanzas@ejemplo.cl", "lineaCredito": "10000000000",
	}}
}

// activeCliente makes an ACTIVO cliente with n DISPONIBLE facturas through
// the API and returns its id and theirs.
func (s *server) activeCliente(n int) (string, []string) {
	s.t.Helper()
	admin := token(s.t, "admin.pruebas", auth.Admin)
	id := s.must(admin, crearCliente, clienteInput("Comercial Pruebas SpA"))["crearCliente"].(map[string]any)["id"].(string)
	s.must(admin, activar, map[string]any{"id": id})
	return id, s.facturas(id, n)
}

var facturaSeq atomic.Int64

// facturas registers n DISPONIBLE facturas of cliente.
func (s *server) facturas(cliente string, n int) []string {
	s.t.Helper()
	admin := token(s.t, "admin.pruebas", auth.Admin)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = s.must(admin, registrar, map[string]any{"input": map[string]any{
			"clienteId": cliente, "numeroFactura": fmt.Sprintf("F-%d", facturaSeq.Add(1)),
			"rutDeudor": newRUT(), "razonSocialDeudor": "Deudor Pruebas Ltda", "montoTotal": "100000",
			"fechaEmision": "2026-11-16", "fechaVencimiento": "2027-02-24",
		}})["registrarFactura"].(map[string]any)["id"].(string)
	}
	return ids
}

// scrape reads /metrics as Prometheus would.
func (s *server) scrape() map[string]*dto.MetricFamily {
	s.t.Helper()
	rec := httptest.NewRecorder()
	s.Tel.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(s.t, http.StatusOK, rec.Code)
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	require.NoError(s.t, err, rec.Body.String())
	return families
}

// sample returns the metric of family with exactly labels, nil if none.
func sample(families map[string]*dto.MetricFamily, family string, labels map[string]string) *dto.Metric {
	f := families[family]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		for _, l := range m.GetLabel() {
			if labels[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		return m
	}
	return nil
}

// accessLines returns the access-log lines of the log, decoded.
func (s *server) accessLines() []map[string]any {
	s.t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(s.Logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "solicitud" {
			out = append(out, m)
		}
	}
	return out
}

// syncBuffer is a log destination safe for the server's goroutines.
type syncBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	drop bool // benchmarks keep no log
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drop {
		return len(p), nil
	}
	return b.buf.Write(p)
}

// discard makes b keep nothing from now on.
func (b *syncBuffer) discard() {
	b.mu.Lock()
	b.drop = true
	b.mu.Unlock()
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
