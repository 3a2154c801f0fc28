package telemetry

import (
	"context"
	"testing"

	"entgo.io/ent/dialect"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// nopDriver answers every statement at once: what is left is the wrapper's
// own cost.
type nopDriver struct{ dialect.Driver }

func (nopDriver) Exec(context.Context, string, any, any) error  { return nil }
func (nopDriver) Query(context.Context, string, any, any) error { return nil }
func (nopDriver) Dialect() string                               { return dialect.Postgres }

type dropSpans struct{}

func (dropSpans) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (dropSpans) Shutdown(context.Context) error                             { return nil }

// BenchmarkSpanDeSentencia is the price of one SQL statement's span, apart
// from any database: inside a sampled request (a span made, batched and
// dropped), and with tracing off (the driver is not wrapped at all).
func BenchmarkSpanDeSentencia(b *testing.B) {
	const query = `SELECT "clientes"."id", "clientes"."rut", "clientes"."razon_social", "clientes"."linea_disponible" ` +
		`FROM "clientes" WHERE "clientes"."id" IN ($1, $2, $3) ORDER BY "clientes"."id" LIMIT 51`
	for _, traced := range []bool{false, true} {
		name := "off"
		cfg := Config{}
		if traced {
			name = "on"
			cfg = Config{Exporter: dropSpans{}, Sampler: sdktrace.AlwaysSample()}
		}
		b.Run(name, func(b *testing.B) {
			tel, err := New(b.Context(), cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer tel.Shutdown(context.Background())
			drv := tel.WrapDriver(nopDriver{})
			ctx, span := tel.tracer.Start(b.Context(), "request")
			defer span.End()
			b.ReportAllocs()
			for b.Loop() {
				if err := drv.Query(ctx, query, []any{1, 2, 3}, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
