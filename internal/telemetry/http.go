package telemetry

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/reqlog"
	"github.com/banpro/factoring/internal/requestid"
)

// routes are the paths a span may be named after; any other path is named
// by its method alone, so a scanner's requests make no span name each.
var routes = map[string]bool{"/graphql": true, "/schema.graphql": true, "/playground": true, "/": true}

// HTTPMiddleware continues the caller's trace (W3C traceparent) or starts
// one, and runs the request inside its server span ("POST /graphql"). The
// health probes are left out: they would be most of the spans and say
// nothing. With tracing off it only takes a caller's traceparent into the
// context, so the logs and the audit trail name the caller's trace; without
// one it does nothing at all.
func (t *Telemetry) HTTPMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			next.ServeHTTP(w, r)
			return
		}
		if !t.tracing.Enabled {
			if r.Header.Get("traceparent") != "" {
				r = r.WithContext(t.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header)))
			}
			next.ServeHTTP(w, r)
			return
		}
		ctx := t.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		name := r.Method
		if routes[r.URL.Path] {
			name += " " + r.URL.Path
		}
		ctx, span := t.tracer.Start(ctx, name,
			trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(
				attribute.String("http.request.method", r.Method),
				attribute.String("url.path", r.URL.Path),
				attribute.String("factoring.request_id", requestid.FromContext(ctx)),
			))
		defer span.End()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// ObserveRequest is handed every finished request's summary (the access
// log's): it counts /graphql requests (CORS preflights aside) and their
// durations (not those of subscription streams), and completes the request's span with what only the end
// knows.
func (t *Telemetry) ObserveRequest(ctx context.Context, s reqlog.Summary) {
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.SetAttributes(attribute.Int("http.response.status_code", s.Status))
		if s.Actor != "" {
			span.SetAttributes(attribute.String("factoring.actor", s.Actor))
		}
		if len(s.Codes) > 0 {
			span.SetAttributes(attribute.StringSlice("factoring.error.codes", s.Codes))
		}
		if s.Status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(s.Status))
		}
	}
	if s.Path != "/graphql" || s.Method == http.MethodOptions {
		return // not GraphQL, or a browser's CORS preflight
	}
	opType, opName := Unknown, Unknown
	if s.OperationType != "" {
		opType, opName = s.OperationType, t.metrics.names.label(s.Operation)
	}
	code := OK
	switch {
	case s.Outcome == "cancelled":
		code = string(apperror.Cancelled)
	case len(s.Codes) > 0:
		code = s.Codes[0]
	}
	t.metrics.requests.WithLabelValues(opType, opName, code).Inc()
	if opType == "subscription" {
		return // a stream lasts as long as its client wants: no request latency
	}
	t.metrics.duration.WithLabelValues(opType, opName).Observe(s.Duration.Seconds())
}
