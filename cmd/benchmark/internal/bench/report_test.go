package bench

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/cmd/benchmark/internal/bench/loadgen"
	"github.com/banpro/factoring/internal/verificar"
)

func result(n int, window time.Duration, p50, p99 time.Duration) loadgen.Result {
	l := make([]time.Duration, n)
	for i := range l {
		l[i] = p50
	}
	for i := n - max(n/50, 1); i < n; i++ { // the slowest 2 %
		l[i] = p99
	}
	return loadgen.Result{Requests: n, Total: n, Window: window, Latencies: l}
}

// TestTargets ensures that the targets are judged from the figures.
func TestTargets(t *testing.T) {
	rep := &Report{
		Config:  Config{Duration: 10 * time.Second, Clients: 16},
		Machine: Machine{CPUs: 2},
		After:   &verificar.Report{},
		PeakRSS: 80 << 20,
		Rows: []Row{
			{Name: "Q1", API: Measure{Result: result(600, 10*time.Second, 20*time.Millisecond, 70*time.Millisecond), Busy: -1},
				Base: &Measure{Result: result(1000, 10*time.Second, time.Millisecond, time.Millisecond), Busy: -1}},
			{Name: "Q2", API: Measure{Result: result(100, 10*time.Second, 20*time.Millisecond, 100*time.Millisecond), Stmts: 500, StmtsOK: true, Busy: -1},
				Base: &Measure{Result: result(1000, 10*time.Second, time.Millisecond, time.Millisecond), Busy: -1}},
		},
		M2: &M2Report{Ops: 200, Covered: 50, API: M2Side{Approved: 50, Refused: 150, Eventos: 50}},
	}
	got := map[string]string{}
	for _, tg := range rep.Targets() {
		got[tg.Name] = tg.Status
	}
	assert.Equal(t, "PASS", got["Q1 throughput ≥ 50 % of baseline"])
	assert.Equal(t, "FAIL", got["Q2 throughput ≥ 40 % of baseline"])
	assert.Equal(t, "FAIL", got["Q2 ≤ 4 SQL statements per request"])
	assert.Equal(t, "PASS", got["Q1 p99 ≤ 4 × p50"])
	assert.Equal(t, "FAIL", got["Q2 p99 ≤ 4 × p50"])
	assert.Equal(t, "PASS", got["server peak RSS < 150 MB"])
	assert.Equal(t, "PASS", got["M2 exact approvals and verificar clean"])

	// The keys' cost is judged against M1 without keys.
	m1 := Row{Name: "M1", Unit: "par", API: Measure{Result: result(1000, 10*time.Second, 10*time.Millisecond, 20*time.Millisecond), Busy: -1}}
	for keyed, want := range map[int]string{950: "PASS", 850: "FAIL"} {
		keys := &Report{Rows: []Row{m1, {Name: "M1+ik", Unit: "par", API: Measure{Result: result(keyed, 10*time.Second, 10*time.Millisecond, 20*time.Millisecond), Busy: -1}}}}
		got := map[string]string{}
		for _, tg := range keys.Targets() {
			got[tg.Name] = tg.Status
		}
		assert.Equal(t, want, got["M1+ik throughput ≥ 90 % of M1 (Idempotency-Key cost ≤ 10 %)"], "%d pairs against 1000", keyed)
	}

	var b strings.Builder
	rep.WriteMarkdown(&b)
	assert.Contains(t, b.String(), "| Q1 | 60 |")
	assert.Contains(t, b.String(), "**0.60**")
}

func TestScenarioNames(t *testing.T) {
	got, err := ScenarioNames("M1, Q1")
	require.NoError(t, err)
	assert.Equal(t, []string{"Q1", "M1"}, got, "always in the canonical order")
	_, err = ScenarioNames("Q9")
	assert.Error(t, err)
	got, err = ScenarioNames("")
	require.NoError(t, err)
	assert.Equal(t, Scenarios, got)
}

// TestWriteMarkdownLoneAndCPU ensures that the report shows the dataset's
// size, each read's single-client run in its own table (latencies, CPU per
// request, the API's p50 over the baseline's) and the CPU per request of
// every scenario, and flags a noisy single-client run.
func TestWriteMarkdownLoneAndCPU(t *testing.T) {
	measure := func(n int, window, p50, p99, cpu, pg time.Duration) Measure {
		return Measure{Result: result(n, window, p50, p99), CPU: cpu, CPUOK: true, PostgresCPU: pg, ClientCPU: cpu / 4,
			Stmts: int64(2 * n), StmtsOK: true, Busy: 0.5}
	}
	q1 := Row{Name: "Q1", Unit: "req",
		API:  measure(1000, 10*time.Second, 8*time.Millisecond, 20*time.Millisecond, 800*time.Millisecond, 200*time.Millisecond),
		Base: ptr(measure(4000, 10*time.Second, 2*time.Millisecond, 5*time.Millisecond, 400*time.Millisecond, 600*time.Millisecond)),
		Lone: &Lone{
			API:  measure(300, 3*time.Second, 3*time.Millisecond, 6*time.Millisecond, 300*time.Millisecond, 150*time.Millisecond),
			Base: ptr(measure(1500, 3*time.Second, time.Millisecond/2, time.Millisecond, 75*time.Millisecond, 300*time.Millisecond)),
		},
	}
	q1.Lone.Base.OtherCPU = time.Second // over 10 % of 2 CPUs × 3 s
	m1 := Row{Name: "M1", Unit: "par",
		API: measure(500, 10*time.Second, 30*time.Millisecond, 60*time.Millisecond, 2500*time.Millisecond, 3*time.Second)}
	rep := &Report{
		Config:  Config{Clients: 16, Duration: 10 * time.Second, LatencyWarmup: time.Second, LatencyDuration: 3 * time.Second},
		Machine: Machine{CPUs: 2},
		Before:  &verificar.Report{Clientes: 20000, Facturas: 1000000, Operaciones: 200000, Eventos: 600000},
		Rows:    []Row{q1, m1},
	}
	var b strings.Builder
	rep.WriteMarkdown(&b)
	out := b.String()

	assert.Contains(t, out, "Dataset size: 20000 clientes, 1000000 facturas, 200000 operaciones, 600000 events.")
	assert.Contains(t, out, "1 cliente (latencia de un usuario solo): each read again with a single client, 1s warm-up + 3s per run")
	// req/s, p50, p99, errors, server and PostgreSQL ms/req; then the
	// baseline's, and p50 3 ms over 0.5 ms.
	assert.Contains(t, out, "| Q1 | 100 | 3.00 | 6.00 | 0 | 1.00 | 0.50 | 500 | 0.50 | 1.00 | 0.05 | 0.20 | 6.0× |")
	assert.Contains(t, out, "Where the CPU went, per request (per pair in M1), 16 clients")
	// SQL/req, server, PostgreSQL, load generator; baseline SQL/req,
	// process, PostgreSQL.
	assert.Contains(t, out, "| Q1 | 2.0 | 0.80 | 0.20 | 0.20 | 2.0 | 0.10 | 0.15 |")
	assert.Contains(t, out, "| M1 | 2.0 | 5.00 | 6.00 | 1.25 | — | — | — |")
	assert.Contains(t, out, "Q1 (baseline, 1 client)")
	assert.NotContains(t, out, "Q1 (API, 1 client)")
	assert.Contains(t, out, "1 client: API 300 measured, 0 errors, baseline 1500 measured, 0 errors.")
	// M1 has no single-client run: no row in that table.
	lone := out[strings.Index(out, "1 cliente (latencia"):strings.Index(out, "Where the CPU went")]
	assert.NotContains(t, lone, "| M1 |")

	// Without single-client runs (-latency-duration 0) the table is gone.
	q1.Lone = nil
	rep.Rows = []Row{q1, m1}
	b.Reset()
	rep.WriteMarkdown(&b)
	assert.NotContains(t, b.String(), "1 cliente (latencia")
	assert.Contains(t, b.String(), "| Q1 | 2.0 | 0.80 |")
}

func ptr[T any](v T) *T { return &v }
