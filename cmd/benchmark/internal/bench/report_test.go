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
