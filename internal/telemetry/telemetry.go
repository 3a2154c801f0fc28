// Package telemetry is what an operator sees of the running server beyond
// its answers: Prometheus metrics on a registry of the server's own (served
// by the admin listener at /metrics), OpenTelemetry traces configured only
// by the standard OTEL_* environment variables, and the trace id in every
// log line written inside a traced request.
//
// A request's trace is, when tracing is on: the HTTP server span
// ("POST /graphql", HTTPMiddleware), the GraphQL operation's span
// ("query ClientesCartera", GraphQLExtension), and one span per SQL
// statement (WrapDriver), each a child of the one before. Background jobs
// open their own root span with StartJob. With tracing off the provider is
// OpenTelemetry's no-op one and the middleware and the driver step aside:
// no span is made, no attribute computed. A caller's W3C traceparent is
// honoured either way, so its trace id reaches the logs and the audit
// trail (TraceID).
//
// The metrics, whose names and labels are the operators' contract (the
// README's "Operating it" and deploy/ depend on them):
//
//	factoring_graphql_requests_total{operation_type,operation_name,code}
//	factoring_graphql_request_duration_seconds{operation_type,operation_name}
//	factoring_mutations_total{mutation,code}
//	factoring_sql_statements_total
//	factoring_subscriptions_active
//	go_sql_* (database/sql's pool), go_* and process_* (runtime, process)
//
// and whatever else is registered on Registry (the dispatcher's
// factoring_outbox_* and factoring_webhook_deliveries_total).
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/banpro/factoring/internal/database"
)

// instrumentation names the tracer of every span the server makes.
const instrumentation = "github.com/banpro/factoring"

// Config is what New needs.
type Config struct {
	// Getenv reads the OTEL_* variables (os.LookupEnv in the binary).
	Getenv func(string) (string, bool)
	// Version is the binary's version (service.version of every span).
	Version string
	// Exporter, when set, receives the spans instead of the OTLP exporter
	// and turns tracing on whatever the environment says: tests and
	// benchmarks. Sync sends each span as it ends rather than in batches.
	Exporter sdktrace.SpanExporter
	Sync     bool
	// Sampler, when set, replaces the one of OTEL_TRACES_SAMPLER.
	Sampler sdktrace.Sampler
}

// Telemetry is the server's metrics registry and tracer provider.
type Telemetry struct {
	tracing  Tracing
	provider trace.TracerProvider
	sdk      *sdktrace.TracerProvider // nil with tracing off
	tracer   trace.Tracer
	prop     propagation.TextMapPropagator
	registry *prometheus.Registry
	metrics  *metrics
}

// New reads the tracing configuration, starts the exporter when tracing is
// on, and makes the metrics registry with the server's own metrics and the
// Go runtime and process collectors. An OTEL_* variable with a value the
// server cannot honour is an error naming it, as for every other variable.
func New(ctx context.Context, cfg Config) (*Telemetry, error) {
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = func(string) (string, bool) { return "", false }
	}
	tr, err := ReadTracing(getenv)
	if err != nil {
		return nil, err
	}
	t := &Telemetry{
		tracing:  tr,
		prop:     propagation.TraceContext{},
		registry: prometheus.NewRegistry(),
	}
	if cfg.Exporter != nil {
		t.tracing.Enabled = true
		t.tracing.Endpoint = ""
	}
	if cfg.Sampler != nil {
		t.tracing.sampler = cfg.Sampler
		t.tracing.SamplerName = cfg.Sampler.Description()
	}
	if t.tracing.Enabled {
		exp := cfg.Exporter
		if exp == nil {
			exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(t.tracing.Endpoint))
			if err != nil {
				return nil, fmt.Errorf("exportador OTLP (%s): %w", t.tracing.Endpoint, err)
			}
		}
		res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
			append(t.tracing.resource, attribute.String("service.version", cfg.Version))...))
		if err != nil {
			return nil, fmt.Errorf("recurso OpenTelemetry: %w", err)
		}
		opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res), sdktrace.WithSampler(t.tracing.sampler)}
		if cfg.Sync {
			opts = append(opts, sdktrace.WithSyncer(exp))
		} else {
			opts = append(opts, sdktrace.WithBatcher(exp))
		}
		t.sdk = sdktrace.NewTracerProvider(opts...)
		t.provider = t.sdk
	} else {
		t.provider = noop.NewTracerProvider()
	}
	t.tracer = t.provider.Tracer(instrumentation)
	t.metrics = newMetrics()
	for _, c := range append(t.metrics.collectors(),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	) {
		if err := t.registry.Register(c); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Tracing says how traces are configured.
func (t *Telemetry) Tracing() Tracing { return t.tracing }

// InstallGlobal makes t's tracer provider and the W3C propagator
// OpenTelemetry's global ones, for StartJob and for libraries that trace on
// their own, and sends the SDK's own errors (an export the collector
// refused or never got) to log as warnings, at most one a minute. The
// binary calls it once; tests do not, so that each test's provider stays
// its own.
func (t *Telemetry) InstallGlobal(log *slog.Logger) {
	otel.SetTracerProvider(t.provider)
	otel.SetTextMapPropagator(t.prop)
	if log != nil {
		otel.SetErrorHandler(&errorLog{log: log, every: time.Minute})
	}
}

// errorLog logs the SDK's errors, one per period: a collector that is down
// fails every batch, and one line a minute says so.
type errorLog struct {
	log     *slog.Logger
	every   time.Duration
	mu      sync.Mutex
	last    time.Time
	dropped int
}

func (e *errorLog) Handle(err error) {
	e.mu.Lock()
	now := time.Now()
	if !e.last.IsZero() && now.Sub(e.last) < e.every {
		e.dropped++
		e.mu.Unlock()
		return
	}
	dropped := e.dropped
	e.last, e.dropped = now, 0
	e.mu.Unlock()
	e.log.Warn("OpenTelemetry: error al exportar trazas", "error", err.Error(), "errores_omitidos", dropped)
}

// ForceFlush sends the spans still buffered now.
func (t *Telemetry) ForceFlush(ctx context.Context) error {
	if t.sdk == nil {
		return nil
	}
	return t.sdk.ForceFlush(ctx)
}

// Shutdown sends the spans still buffered and stops the exporter.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if t.sdk == nil {
		return nil
	}
	return t.sdk.Shutdown(ctx)
}

// Registry is the server's metrics registry: other parts register their
// collectors on it (the dispatcher's despacho.NuevasMetricas).
func (t *Telemetry) Registry() *prometheus.Registry { return t.registry }

// MetricsHandler serves the registry in the Prometheus text format
// (GET /metrics on the admin listener).
func (t *Telemetry) MetricsHandler() http.Handler {
	// A collector that fails (the outbox gauges while the database is
	// down) leaves its metrics out; the rest are still served.
	return promhttp.HandlerFor(t.registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// SubscriptionsActive is factoring_subscriptions_active: GraphQL
// subscriptions open now. Whoever serves them moves it.
func (t *Telemetry) SubscriptionsActive() prometheus.Gauge { return t.metrics.subscriptions }

// RegisterDB adds the database's metrics: database/sql's pool (go_sql_*,
// labelled db_name="factoring") and factoring_sql_statements_total.
func (t *Telemetry) RegisterDB(db *database.DB) error {
	stmts := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "factoring_sql_statements_total",
		Help: "Sentencias SQL ejecutadas por el servidor (consultas y escrituras, dentro o fuera de transacciones).",
	}, func() float64 { return float64(db.Statements.Load()) })
	return errors.Join(
		t.registry.Register(collectors.NewDBStatsCollector(db.SQL, "factoring")),
		t.registry.Register(stmts),
	)
}
