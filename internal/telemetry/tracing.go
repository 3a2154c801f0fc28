package telemetry

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// DefaultServiceName is service.name when OTEL_SERVICE_NAME is not set.
const DefaultServiceName = "factoring"

// Tracing is the tracing configuration the OTEL_* variables give.
type Tracing struct {
	// Enabled: an OTLP endpoint is set and nothing turns tracing off.
	Enabled bool
	// Endpoint is the URL the spans are POSTed to (OTLP over HTTP,
	// protobuf): OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, or
	// OTEL_EXPORTER_OTLP_ENDPOINT followed by /v1/traces.
	Endpoint string
	// ServiceName is service.name (OTEL_SERVICE_NAME, else "factoring").
	ServiceName string
	// SamplerName is OTEL_TRACES_SAMPLER (with its argument), as read.
	SamplerName string

	sampler  sdktrace.Sampler
	resource []attribute.KeyValue
}

// ReadTracing reads the standard variables the server honours:
//
//	OTEL_SDK_DISABLED                   true turns tracing off
//	OTEL_TRACES_EXPORTER                otlp (the default) or none
//	OTEL_EXPORTER_OTLP_TRACES_ENDPOINT  the traces URL, as it is
//	OTEL_EXPORTER_OTLP_ENDPOINT         the collector's base URL (+ /v1/traces)
//	OTEL_EXPORTER_OTLP_PROTOCOL         http/protobuf, the only one served
//	OTEL_TRACES_SAMPLER, _ARG           the standard samplers
//	OTEL_SERVICE_NAME                   service.name (default "factoring")
//	OTEL_RESOURCE_ATTRIBUTES            key=value,... added to every span
//
// Tracing is on when an endpoint is set. The exporter itself reads the
// rest of OTEL_EXPORTER_OTLP_* (headers, timeout, compression,
// certificates) and the batch processor OTEL_BSP_*.
func ReadTracing(getenv func(string) (string, bool)) (Tracing, error) {
	get := func(name string) string {
		v, _ := getenv(name)
		return strings.TrimSpace(v)
	}
	var errs []string
	fail := func(name, format string, args ...any) {
		errs = append(errs, name+": "+fmt.Sprintf(format, args...))
	}
	tr := Tracing{ServiceName: DefaultServiceName}
	if v := get("OTEL_SERVICE_NAME"); v != "" {
		tr.ServiceName = v
	}
	for kv := range strings.SplitSeq(get("OTEL_RESOURCE_ATTRIBUTES"), ",") {
		k, v, ok := strings.Cut(kv, "=")
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if uv, err := url.PathUnescape(v); err == nil {
			v = uv
		}
		if !ok || k == "" {
			fail("OTEL_RESOURCE_ATTRIBUTES", "%q no es clave=valor", kv)
			continue
		}
		tr.resource = append(tr.resource, attribute.String(k, v))
	}
	// service.name last: OTEL_SERVICE_NAME wins over the attributes.
	tr.resource = append(tr.resource, attribute.String("service.name", tr.ServiceName))

	sampler, name, err := readSampler(get("OTEL_TRACES_SAMPLER"), get("OTEL_TRACES_SAMPLER_ARG"))
	if err != nil {
		fail("OTEL_TRACES_SAMPLER", "%s", err)
	}
	tr.sampler, tr.SamplerName = sampler, name

	for _, v := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if p := get(v); p != "" && p != "http/protobuf" {
			fail(v, "%q no es admitido: el servidor exporta OTLP sobre HTTP (http/protobuf, puerto 4318)", p)
		}
	}
	switch base := get("OTEL_EXPORTER_OTLP_ENDPOINT"); {
	case get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "":
		tr.Endpoint = get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	case base != "":
		tr.Endpoint = strings.TrimRight(base, "/") + "/v1/traces"
	}
	if tr.Endpoint != "" {
		if u, err := url.Parse(tr.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			fail("OTEL_EXPORTER_OTLP_ENDPOINT", "%q no es una URL http:// o https:// (p. ej. http://jaeger:4318)", tr.Endpoint)
		}
	}
	tr.Enabled = tr.Endpoint != ""
	switch exp := strings.ToLower(get("OTEL_TRACES_EXPORTER")); exp {
	case "", "otlp":
	case "none":
		tr.Enabled = false
	default:
		fail("OTEL_TRACES_EXPORTER", "%q no es admitido: use otlp o none", exp)
	}
	if disabled, err := strconv.ParseBool(get("OTEL_SDK_DISABLED")); err == nil && disabled {
		tr.Enabled = false
	}
	if len(errs) > 0 {
		return tr, fmt.Errorf("configuración de trazas inválida: %s", strings.Join(errs, "; "))
	}
	return tr, nil
}

// readSampler is the sampler OTEL_TRACES_SAMPLER names; unset is the
// standard's default, parentbased_always_on: a request is traced when its
// caller traced it, or when it starts a trace.
func readSampler(name, arg string) (sdktrace.Sampler, string, error) {
	ratio := func() (float64, error) {
		if arg == "" {
			return 1, nil
		}
		r, err := strconv.ParseFloat(arg, 64)
		if err != nil || r < 0 || r > 1 {
			return 0, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG %q debe ser una fracción entre 0 y 1", arg)
		}
		return r, nil
	}
	switch strings.ToLower(name) {
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), "parentbased_always_on", nil
	case "always_on":
		return sdktrace.AlwaysSample(), "always_on", nil
	case "always_off":
		return sdktrace.NeverSample(), "always_off", nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), "parentbased_always_off", nil
	case "traceidratio", "parentbased_traceidratio":
		r, err := ratio()
		if err != nil {
			return nil, "", err
		}
		s := sdktrace.TraceIDRatioBased(r)
		if strings.HasPrefix(strings.ToLower(name), "parentbased_") {
			s = sdktrace.ParentBased(s)
		}
		return s, strings.ToLower(name) + "=" + strconv.FormatFloat(r, 'g', -1, 64), nil
	default:
		return nil, "", fmt.Errorf("%q no es un muestreador admitido: use always_on, always_off, traceidratio o "+
			"parentbased_always_on (por omisión), parentbased_always_off, parentbased_traceidratio", name)
	}
}

// TraceID returns the id of the trace ctx belongs to (32 hex digits), or ""
// when it belongs to none: what the audit trail and the logs record. A
// caller's traceparent counts even with tracing off.
func TraceID(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.HasTraceID() {
		return ""
	}
	return sc.TraceID().String()
}

// StartJob starts the span of one run of a background job (the dispatcher's
// round, the overdue job): a new trace, whose SQL statements are its
// children. end records err, if any, and ends the span. It uses the tracer
// provider of the span already in ctx, else the global one (InstallGlobal):
// a no-op one unless tracing is on.
func StartJob(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, func(err error)) {
	tp := otel.GetTracerProvider()
	if span := trace.SpanFromContext(ctx); span.SpanContext().IsValid() {
		tp = span.TracerProvider()
	}
	ctx, span := tp.Tracer(instrumentation).Start(ctx, name,
		trace.WithNewRoot(), trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(append(attrs, attribute.String("factoring.job", name))...))
	return ctx, func(err error) {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
}

// Inject writes ctx's trace context into h (traceparent, tracestate), for
// an outgoing request that continues the trace (a webhook delivery).
func Inject(ctx context.Context, h http.Header) {
	propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(h))
}
