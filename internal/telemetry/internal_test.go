package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
)

func TestEtiquetaDeOperacion(t *testing.T) {
	s := nameSet{seen: map[string]struct{}{}, max: 3}
	assert.Equal(t, Anonymous, s.label(""))
	assert.Equal(t, Other, s.label(strings.Repeat("a", 65)), "longer than 64")
	assert.Equal(t, Other, s.label("café"), "not a GraphQL name")
	assert.Equal(t, Other, s.label("1abc"))
	assert.Equal(t, "A", s.label("A"))
	assert.Equal(t, "_b", s.label("_b"))
	assert.Equal(t, strings.Repeat("c", 64), s.label(strings.Repeat("c", 64)))
	assert.Equal(t, Other, s.label("D"), "the fourth name is over the cap")
	assert.Equal(t, "A", s.label("A"), "names seen keep their label")
}

func TestFormaDeLaSentencia(t *testing.T) {
	cases := []struct{ query, op, table string }{
		{`SELECT "clientes"."id" FROM "clientes" WHERE "clientes"."id" = $1`, "SELECT", "clientes"},
		{"SELECT COUNT(*) FROM (SELECT `id` FROM `facturas`) AS `t1`", "SELECT", "facturas"},
		{`INSERT INTO "clientes" ("rut") VALUES ($1) RETURNING "id"`, "INSERT", "clientes"},
		{`UPDATE "facturas" SET "estado" = $1 WHERE "id" = $2`, "UPDATE", "facturas"},
		{`DELETE FROM "claves" WHERE "vence" < $1`, "DELETE", "claves"},
		{`WITH "q" AS (SELECT * FROM "facturas") SELECT * FROM "q"`, "SELECT", "facturas"},
		{`SELECT pg_advisory_xact_lock($1)`, "SELECT", ""},
		{"BEGIN", "BEGIN", ""},
		{"  ", "SQL", ""},
	}
	for _, tc := range cases {
		op, table := statementName(tc.query)
		assert.Equal(t, tc.op, op, tc.query)
		assert.Equal(t, tc.table, table, tc.query)
	}

	assert.Equal(t, `SELECT * FROM "t" WHERE "a" = $1`, StatementShape(`SELECT * FROM "t" WHERE "a" = $1`))
	assert.Equal(t, `SET LOCAL lock_timeout = '?'; SELECT '?', x`,
		StatementShape(`SET LOCAL lock_timeout = '5s'; SELECT 'it''s secret', x`), "string literals are blanked")
	long := "SELECT " + strings.Repeat("ñ", 2000)
	shape := StatementShape(long)
	assert.LessOrEqual(t, len(shape), maxStatement+len("…"))
	assert.True(t, strings.HasSuffix(shape, "…"))
	assert.True(t, json.Valid([]byte(fmt.Sprintf("%q", shape))), "cut on a rune boundary")
}

func TestLecturaDeOTEL(t *testing.T) {
	env := func(vars map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	}
	tr, err := ReadTracing(env(nil))
	require.NoError(t, err)
	assert.False(t, tr.Enabled, "off without an endpoint")
	assert.Equal(t, "factoring", tr.ServiceName)
	assert.Equal(t, "parentbased_always_on", tr.SamplerName)

	tr, err = ReadTracing(env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://jaeger:4318/"}))
	require.NoError(t, err)
	assert.True(t, tr.Enabled)
	assert.Equal(t, "http://jaeger:4318/v1/traces", tr.Endpoint, "the base URL gets the signal's path")

	tr, err = ReadTracing(env(map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT":        "http://otro:4318",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://collector.interno/trazas",
		"OTEL_SERVICE_NAME":                  "factoring-staging",
		"OTEL_RESOURCE_ATTRIBUTES":           "deployment.environment=staging,service.name=ignorado",
		"OTEL_TRACES_SAMPLER":                "parentbased_traceidratio",
		"OTEL_TRACES_SAMPLER_ARG":            "0.25",
	}))
	require.NoError(t, err)
	assert.Equal(t, "https://collector.interno/trazas", tr.Endpoint, "the traces URL is used as it is")
	assert.Equal(t, "factoring-staging", tr.ServiceName)
	assert.Equal(t, "parentbased_traceidratio=0.25", tr.SamplerName)
	assert.Contains(t, tr.sampler.Description(), "TraceIDRatioBased{0.25}")
	last := map[string]string{}
	for _, kv := range tr.resource {
		last[string(kv.Key)] = kv.Value.AsString()
	}
	assert.Equal(t, "staging", last["deployment.environment"])
	assert.Equal(t, "factoring-staging", last["service.name"], "OTEL_SERVICE_NAME wins")

	for _, off := range []map[string]string{
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://jaeger:4318", "OTEL_SDK_DISABLED": "true"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://jaeger:4318", "OTEL_TRACES_EXPORTER": "none"},
	} {
		tr, err := ReadTracing(env(off))
		require.NoError(t, err)
		assert.False(t, tr.Enabled, "%v", off)
	}

	for name, bad := range map[string]map[string]string{
		"OTEL_TRACES_SAMPLER":                {"OTEL_TRACES_SAMPLER": "jaeger_remote"},
		"OTEL_TRACES_SAMPLER_ARG":            {"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"},
		"OTEL_TRACES_EXPORTER":               {"OTEL_TRACES_EXPORTER": "zipkin"},
		"OTEL_EXPORTER_OTLP_PROTOCOL":        {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
		"OTEL_EXPORTER_OTLP_ENDPOINT":        {"OTEL_EXPORTER_OTLP_ENDPOINT": "jaeger:4318"},
		"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"},
	} {
		_, err := ReadTracing(env(bad))
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), name)
	}
}

func TestLogConTraza(t *testing.T) {
	var buf bytes.Buffer
	log := Logger(Logger(slog.New(slog.NewJSONHandler(&buf, nil)))).With("componente", "x")
	traceID, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	spanID, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	local := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: traceID, SpanID: spanID, TraceFlags: trace.FlagsSampled,
	}))
	remote := trace.ContextWithRemoteSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: traceID, SpanID: spanID, Remote: true,
	}))

	log.InfoContext(local, "con traza")
	log.ErrorContext(remote, "del llamador")
	log.Info("sin contexto")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 3)
	var first, second, third map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &first))
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &second))
	require.NoError(t, json.Unmarshal([]byte(lines[2]), &third))
	assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", first["trace_id"])
	assert.Equal(t, "00f067aa0ba902b7", first["span_id"])
	assert.Equal(t, 1, strings.Count(lines[0], "trace_id"), "wrapped twice, written once")
	assert.Equal(t, "x", first["componente"])
	assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", second["trace_id"])
	assert.NotContains(t, second, "span_id", "the caller's span is not ours")
	assert.NotContains(t, third, "trace_id")
	assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", TraceID(local))
	assert.Empty(t, TraceID(context.Background()))
}

func TestErroresDelSDKUnoPorPeriodo(t *testing.T) {
	var buf bytes.Buffer
	e := &errorLog{log: slog.New(slog.NewJSONHandler(&buf, nil)), every: time.Hour}
	for range 5 {
		e.Handle(errors.New("collector caído"))
	}
	assert.Equal(t, 1, strings.Count(buf.String(), "collector caído"), buf.String())
	e.last = time.Now().Add(-2 * time.Hour)
	e.Handle(errors.New("sigue caído"))
	assert.Contains(t, buf.String(), `"errores_omitidos":4`)
}
