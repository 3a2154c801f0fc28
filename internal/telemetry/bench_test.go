package telemetry_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/telemetry"
)

// discard is a span exporter that counts what it is sent and keeps nothing:
// the sink of the traced benchmarks, so they measure making and batching
// spans, not a collector.
type discard struct{ spans atomic.Int64 }

func (d *discard) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	d.spans.Add(int64(len(spans)))
	return nil
}

func (d *discard) Shutdown(context.Context) error { return nil }

// The benchmark's read (Q1: the first page of 50 clientes) and write (M1: an
// operación created by one user and approved by another).
const (
	benchQ1 = `query Q1 { clientes(first: 50) { edges { node { id rut razonSocial lineaDisponible } }
	  pageInfo { hasNextPage endCursor } } }`
)

// BenchmarkTrazas measures what tracing costs a request, end to end over
// HTTP as a client sees it, with tracing off (OpenTelemetry's no-op provider,
// the default) and on (every request sampled, spans batched to a sink that
// drops them), on each database:
//
//	go test -run '^$' -bench Trazas -benchmem ./internal/telemetry/
//
// spans/op is what the sink received per request (per pair in M1);
// cpu-ns/op the process's CPU time per request (server and client: they
// share the process), steadier than ns/op on a busy machine.
func BenchmarkTrazas(b *testing.B) {
	for _, d := range dialects {
		for _, traced := range []bool{false, true} {
			mode := "off"
			if traced {
				mode = "on"
			}
			b.Run(d.name+"/"+mode, func(b *testing.B) {
				sink := &discard{}
				cfg := telemetry.Config{}
				if traced {
					cfg = telemetry.Config{Exporter: sink, Sampler: sdktrace.AlwaysSample()}
				}
				s := newServerWith(b, d.open, cfg)
				s.Logs.discard()
				cliente, _ := s.activeCliente(0)
				for i := range 59 {
					s.must(token(b, "admin.pruebas", auth.Admin), crearCliente, clienteInput(fmt.Sprintf("Comercial %02d SpA", i)))
				}
				lector := token(b, "luis", auth.Lector)
				analista := token(b, "ana", auth.Analista)
				riesgo := token(b, "rita", auth.Riesgo)
				// spans flushes what is still batched and returns the count
				// so far.
				spans := func() int64 {
					require.NoError(b, s.Tel.ForceFlush(b.Context()))
					return sink.spans.Load()
				}

				b.Run("Q1", func(b *testing.B) {
					before := spans()
					cpu := cpuTime()
					for b.Loop() {
						s.must(lector, benchQ1, nil)
					}
					b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
					if traced {
						b.ReportMetric(float64(spans()-before)/float64(b.N), "spans/op")
					}
				})
				b.Run("M1", func(b *testing.B) {
					var pool []string
					var setup int64 // the spans of refilling the pool, not of M1
					before := spans()
					cpu := cpuTime()
					for b.Loop() {
						if len(pool) == 0 {
							b.StopTimer()
							from, setupCPU := spans(), cpuTime()
							pool = s.facturas(cliente, 50)
							setup += spans() - from
							cpu += cpuTime() - setupCPU
							b.StartTimer()
						}
						f := pool[0]
						pool = pool[1:]
						op := s.must(analista, crearOp, map[string]any{"input": map[string]any{
							"clienteId": cliente, "facturaIds": []string{f},
						}})["crearOperacion"].(map[string]any)["id"]
						s.must(riesgo, aprobarOp, map[string]any{"id": op})
					}
					b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
					if traced {
						b.ReportMetric(float64(spans()-before-setup)/float64(b.N), "spans/op")
					}
				})
			})
		}
	}
}

// cpuTime is the process's user and system CPU time so far, in ns.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
