package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/banpro/factoring/cmd/benchmark/internal/bench/loadgen"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/money"
)

// Machine describes where the benchmark ran.
type Machine struct {
	CPUs     int
	Model    string
	MemTotal string
	Kernel   string
	Go       string
	Postgres string
}

func readMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if name, value, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(name) == "model name" {
				m.Model = strings.TrimSpace(value)
				break
			}
		}
		f.Close()
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if name, value, ok := strings.Cut(sc.Text(), ":"); ok && name == "MemTotal" {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
				m.MemTotal = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	return m
}

func postgresVersion(ctx context.Context, db *database.DB) string {
	var v string
	if err := db.SQL.QueryRowContext(ctx, "SHOW server_version").Scan(&v); err != nil {
		return "desconocida"
	}
	return "PostgreSQL " + v
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64)
}

func mb(b int64) string {
	if b <= 0 {
		return "n/a"
	}
	return strconv.FormatFloat(float64(b)/(1<<20), 'f', 0, 64)
}

func stmts(m Measure) string {
	if v, ok := m.StmtsPerReq(); ok {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return "n/a"
}

func cpu(m Measure) string {
	if !m.CPUOK {
		return "n/a"
	}
	return strconv.FormatFloat(m.CPU.Seconds(), 'f', 1, 64)
}

func busy(m Measure) string {
	if m.Busy < 0 {
		return "n/a"
	}
	return strconv.FormatFloat(m.Busy*100, 'f', 0, 64) + " %"
}

// WriteMarkdown renders the report: the machine, the dataset, the table of
// figures and ratios, the targets and the details.
func (r *Report) WriteMarkdown(w io.Writer) {
	c := r.Config
	fmt.Fprintf(w, "Run of %s, %d clients, %s warm-up + %s per run, %d DB connections (server and baseline), took %s.\n\n",
		r.Started.Format("2006-01-02 15:04 MST"), c.Clients, c.Warmup, c.Duration, c.DBConns, r.Took.Round(time.Second))
	fmt.Fprintf(w, "Dataset size: %s.\n\n", r.datasetSize())
	m := r.Machine
	fmt.Fprintf(w, "Machine: %d CPUs (%s), %s RAM, %s, %s, %s. Server, PostgreSQL and load generator share it.\n\n",
		m.CPUs, m.Model, m.MemTotal, m.Kernel, m.Postgres, m.Go)
	if l := r.Load; l != nil {
		fmt.Fprintf(w, "Dataset loaded (-clientes %d, seed %d): %d clientes, %d facturas, %d operaciones, %d links, %d events, %d cedible facturas; in %s (generate %s, COPY %s of which %s in the backfill migrations, VACUUM ANALYZE %s).\n\n",
			c.Clientes, c.Seed, l.Clientes, l.Facturas, l.Operaciones, l.Links, l.Eventos, l.Cedibles, l.Total().Round(time.Millisecond),
			l.Generate.Round(time.Millisecond), l.Copy.Round(time.Millisecond), l.Backfill.Round(time.Millisecond), l.Analyze.Round(time.Millisecond))
	}
	if r.Before != nil {
		fmt.Fprintf(w, "verificar on the loaded dataset: %d violations", len(r.Before.Violations))
		if r.After != nil {
			fmt.Fprintf(w, "; at the end of the run: %d violations", len(r.After.Violations))
		}
		fmt.Fprint(w, ".\n\n")
	}
	if r.AuthEnforced != nil && !*r.AuthEnforced {
		fmt.Fprint(w, "Note: the server answered without a token (authentication not active); tokens were sent anyway.\n\n")
	}
	if !r.StatementsAvailable {
		fmt.Fprint(w, "Note: the server publishes no `factoring_sql_statements_total` at /metrics: SQL/req of the API is n/a.\n\n")
	}

	if noisy := r.noisyRuns(); len(noisy) > 0 {
		fmt.Fprintf(w, "Warning: other processes took more than 10 %% of the machine during %s: those figures are noisy; rerun on an idle machine.\n\n",
			strings.Join(noisy, ", "))
	}

	fmt.Fprintln(w, "| scenario | API req/s | p50 ms | p99 ms | errors | SQL/req | server CPU s | RSS MB | baseline req/s | p50 ms | p99 ms | SQL/req | ratio |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, row := range r.Rows {
		a := row.API
		name := row.Name
		if row.Unit == "par" {
			name += " (pairs)"
		}
		fmt.Fprintf(w, "| %s | %.0f | %s | %s | %d | %s | %s | %s |", name, a.Result.RPS(), ms(a.Result.Percentile(50)),
			ms(a.Result.Percentile(99)), a.Result.Errors, stmts(a), cpu(a), mb(a.RSS))
		if b := row.Base; b != nil {
			ratio, _ := row.Ratio()
			fmt.Fprintf(w, " %.0f | %s | %s | %s | **%.2f** |\n", b.Result.RPS(), ms(b.Result.Percentile(50)),
				ms(b.Result.Percentile(99)), stmts(*b), ratio)
		} else {
			fmt.Fprintln(w, " — | — | — | — | — |")
		}
	}
	fmt.Fprintf(w, "\nServer peak RSS (VmHWM): %s MB. Benchmark process: peak RSS %s MB (dataset load %s MB, scenarios %s MB; the rest is verificar, which reads every table into memory).\n",
		mb(r.PeakRSS), mb(r.SelfPeakRSS), mb(r.LoadPeakRSS), mb(r.RunRSS))

	if r.hasLone() {
		fmt.Fprintf(w, "\n1 cliente (latencia de un usuario solo): each read again with a single client, %s warm-up + %s per run; CPU per request:\n\n",
			c.LatencyWarmup, c.LatencyDuration)
		fmt.Fprintln(w, "| scenario | API req/s | p50 ms | p99 ms | errors | server CPU ms/req | PostgreSQL CPU ms/req | baseline req/s | p50 ms | p99 ms | baseline CPU ms/req | PostgreSQL CPU ms/req | p50 API / baseline |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
		for _, row := range r.Rows {
			l := row.Lone
			if l == nil {
				continue
			}
			a := l.API
			fmt.Fprintf(w, "| %s | %.0f | %s | %s | %d | %s | %s |", row.Name, a.Result.RPS(), ms(a.Result.Percentile(50)),
				ms(a.Result.Percentile(99)), a.Result.Errors, msPerReq(a.CPU, a.CPUOK, a.Result), msPerReq(a.PostgresCPU, true, a.Result))
			if b := l.Base; b != nil {
				fmt.Fprintf(w, " %.0f | %s | %s | %s | %s | %.1f× |\n", b.Result.RPS(), ms(b.Result.Percentile(50)), ms(b.Result.Percentile(99)),
					msPerReq(b.CPU, true, b.Result), msPerReq(b.PostgresCPU, true, b.Result),
					ratioOf(a.Result.Percentile(50), b.Result.Percentile(50)))
			} else {
				fmt.Fprintln(w, " — | — | — | — | — | — |")
			}
		}
	}

	fmt.Fprintf(w, "\nWhere the CPU went, per request (per pair in M1), %d clients; compare runs of different dataset sizes here:\n\n", c.Clients)
	fmt.Fprintln(w, "| scenario | API SQL/req | server ms | PostgreSQL ms | load generator ms | baseline SQL/req | baseline process ms | PostgreSQL ms |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, row := range r.Rows {
		a := row.API
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |", row.Name, stmts(a), msPerReq(a.CPU, a.CPUOK, a.Result),
			msPerReq(a.PostgresCPU, true, a.Result), msPerReq(a.ClientCPU, true, a.Result))
		if b := row.Base; b != nil {
			fmt.Fprintf(w, " %s | %s | %s |\n", stmts(*b), msPerReq(b.CPU, true, b.Result), msPerReq(b.PostgresCPU, true, b.Result))
		} else {
			fmt.Fprintln(w, " — | — | — |")
		}
	}

	fmt.Fprint(w, "\nTargets (16 clients):\n\n")
	for _, t := range r.Targets() {
		fmt.Fprintf(w, "- %s %s: %s\n", t.Status, t.Name, t.Detail)
	}

	fmt.Fprint(w, "\nDetails (CPU seconds in the measured window, and per request):\n\n")
	for _, row := range r.Rows {
		a := row.API
		fmt.Fprintf(w, "- %s: API %d measured %s (%d sent with warm-up); CPU: server %s, PostgreSQL %s, load generator %s, other %s; machine %s busy",
			row.Name, a.Result.Requests, plural(row.Unit), a.Result.Total, perReq(a.CPU, a.CPUOK, a.Result),
			perReq(a.PostgresCPU, true, a.Result), perReq(a.ClientCPU, true, a.Result), secs(a.OtherCPU), busy(a))
		if b := row.Base; b != nil {
			fmt.Fprintf(w, ". Baseline %d measured, %d errors; CPU: baseline process %s, PostgreSQL %s, other %s; machine %s busy",
				b.Result.Requests, b.Result.Errors, perReq(b.CPU, true, b.Result), perReq(b.PostgresCPU, true, b.Result),
				secs(b.OtherCPU), busy(*b))
		}
		if l := row.Lone; l != nil {
			fmt.Fprintf(w, ". 1 client: API %d measured, %d errors", l.API.Result.Requests, l.API.Result.Errors)
			if l.Base != nil {
				fmt.Fprintf(w, ", baseline %d measured, %d errors", l.Base.Result.Requests, l.Base.Result.Errors)
			}
		}
		fmt.Fprintln(w, ".")
		if row.Probe != nil {
			fmt.Fprintf(w, "  - probe request failed: %v\n", row.Probe)
		}
		for _, s := range a.Result.ErrorSamples {
			fmt.Fprintf(w, "  - API error: %s\n", s)
		}
		if a.Result.Exhausted > 0 {
			fmt.Fprintf(w, "  - API: %d workers ran out of cedible facturas\n", a.Result.Exhausted)
		}
		if l := row.Lone; l != nil {
			for _, s := range l.API.Result.ErrorSamples {
				fmt.Fprintf(w, "  - API error (1 client): %s\n", s)
			}
			if l.Base != nil {
				for _, s := range l.Base.Result.ErrorSamples {
					fmt.Fprintf(w, "  - baseline error (1 client): %s\n", s)
				}
			}
		}
		if b := row.Base; b != nil {
			for _, s := range b.Result.ErrorSamples {
				fmt.Fprintf(w, "  - baseline error: %s\n", s)
			}
			if b.Result.Exhausted > 0 {
				fmt.Fprintf(w, "  - baseline: %d workers ran out of cedible facturas\n", b.Result.Exhausted)
			}
		}
	}
	if m2 := r.M2; m2 != nil {
		side := func(name string, s M2Side) {
			fmt.Fprintf(w, "- M2 %s: %d approved, %d refused on lineaDisponible (expected %d and %d), line left %s, %d APROBADA events: %s\n",
				name, s.Approved, s.Refused, m2.Covered, m2.Ops-m2.Covered, money.String(s.LineaDisponible), s.Eventos,
				passFail(s.OK(m2.Ops, m2.Covered)))
		}
		side("API", m2.API)
		if m2.Base != nil {
			side("baseline", *m2.Base)
		}
	}
	if r.ServerLog != "" {
		fmt.Fprintf(w, "\nServer log: %s\n", r.ServerLog)
	}
}

// noisyRuns names the runs in which other processes used more than 10 %
// of the machine's CPU.
func (r *Report) noisyRuns() []string {
	var out []string
	check := func(m *Measure, name string) {
		if m == nil {
			return
		}
		if c := m.Result.Window * time.Duration(max(r.Machine.CPUs, 1)); c > 0 && m.OtherCPU > c/10 {
			out = append(out, name)
		}
	}
	for _, row := range r.Rows {
		check(&row.API, row.Name+" (API)")
		check(row.Base, row.Name+" (baseline)")
		if l := row.Lone; l != nil {
			check(&l.API, row.Name+" (API, 1 client)")
			check(l.Base, row.Name+" (baseline, 1 client)")
		}
	}
	return out
}

// hasLone says whether any read ran with one client.
func (r *Report) hasLone() bool {
	for _, row := range r.Rows {
		if row.Lone != nil {
			return true
		}
	}
	return false
}

// datasetSize describes the data the run read: what verificar counted on
// it, else what was loaded, else what was asked for.
func (r *Report) datasetSize() string {
	switch {
	case r.Before != nil:
		return fmt.Sprintf("%d clientes, %d facturas, %d operaciones, %d events", r.Before.Clientes, r.Before.Facturas,
			r.Before.Operaciones, r.Before.Eventos)
	case r.Load != nil:
		return fmt.Sprintf("%d clientes, %d facturas, %d operaciones, %d events", r.Load.Clientes, r.Load.Facturas,
			r.Load.Operaciones, r.Load.Eventos)
	}
	return fmt.Sprintf("-clientes %d (not verified)", r.Config.Clientes)
}

func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s" }

// msPerReq renders a CPU time per request in milliseconds.
func msPerReq(d time.Duration, ok bool, res loadgen.Result) string {
	if !ok || res.Requests == 0 {
		return "n/a"
	}
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond)/float64(res.Requests), 'f', 2, 64)
}

// perReq renders a CPU time and its share per request.
func perReq(d time.Duration, ok bool, res loadgen.Result) string {
	if !ok {
		return "n/a"
	}
	if res.Requests == 0 {
		return secs(d)
	}
	return fmt.Sprintf("%s (%.2f ms/req)", secs(d), float64(d)/float64(time.Millisecond)/float64(res.Requests))
}

func plural(unit string) string {
	if unit == "par" {
		return "pairs"
	}
	return "requests"
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// Target is one of the targets and how the run fared.
type Target struct {
	Name, Status, Detail string
}

// Targets checks the targets against the report.
func (r *Report) Targets() []Target {
	var out []Target
	row := func(name string) *Row {
		for i := range r.Rows {
			if r.Rows[i].Name == name {
				return &r.Rows[i]
			}
		}
		return nil
	}
	for _, t := range []struct {
		name string
		min  float64
	}{{"Q1", 0.5}, {"Q2", 0.4}, {"Q3", 0.5}, {"M1", 0.5}} {
		rw := row(t.name)
		if rw == nil {
			continue
		}
		ratio, ok := rw.Ratio()
		st := Target{Name: fmt.Sprintf("%s throughput ≥ %.0f %% of baseline", t.name, t.min*100)}
		switch {
		case !ok:
			st.Status, st.Detail = "n/a", "no baseline figure"
		case rw.API.Result.Exhausted > 0 || rw.Base.Result.Exhausted > 0:
			st.Status, st.Detail = "n/a", fmt.Sprintf("%.0f %%, but workers ran out of facturas: figure not valid", ratio*100)
		default:
			st.Status, st.Detail = passFail(ratio >= t.min), fmt.Sprintf("%.0f %%", ratio*100)
		}
		out = append(out, st)
	}
	if keyed, plain := row("M1+ik"), row("M1"); keyed != nil && plain != nil {
		// The keys' cost: M1 with an Idempotency-Key on every mutation
		// against M1 without.
		st := Target{Name: "M1+ik throughput ≥ 90 % of M1 (Idempotency-Key cost ≤ 10 %)"}
		switch {
		case plain.API.Result.RPS() == 0:
			st.Status, st.Detail = "n/a", "no M1 figure"
		case keyed.API.Result.Exhausted > 0 || plain.API.Result.Exhausted > 0:
			st.Status, st.Detail = "n/a", "workers ran out of facturas: figure not valid"
		default:
			ratio := keyed.API.Result.RPS() / plain.API.Result.RPS()
			st.Status, st.Detail = passFail(ratio >= 0.9), fmt.Sprintf("%.0f %%", ratio*100)
		}
		out = append(out, st)
	}
	for _, t := range []struct {
		name string
		max  float64
	}{{"Q2", 4}, {"Q2+tc", 5}} {
		rw := row(t.name)
		if rw == nil {
			continue
		}
		st := Target{Name: fmt.Sprintf("%s ≤ %.0f SQL statements per request", t.name, t.max)}
		if v, ok := rw.API.StmtsPerReq(); ok {
			st.Status, st.Detail = passFail(v <= t.max), fmt.Sprintf("%.1f", v)
		} else {
			st.Status, st.Detail = "n/a", "the server publishes no factoring_sql_statements_total"
		}
		out = append(out, st)
	}
	for _, name := range []string{"Q1", "Q2", "Q2+tc", "Q3"} {
		rw := row(name)
		if rw == nil {
			continue
		}
		p50, p99 := rw.API.Result.Percentile(50), rw.API.Result.Percentile(99)
		out = append(out, Target{Name: name + " p99 ≤ 4 × p50", Status: passFail(p50 > 0 && p99 <= 4*p50),
			Detail: fmt.Sprintf("p50 %s ms, p99 %s ms (%.1f×)", ms(p50), ms(p99), ratioOf(p99, p50))})
	}
	errs := 0
	for _, rw := range r.Rows {
		errs += rw.API.Result.Errors
		if rw.Lone != nil {
			errs += rw.Lone.API.Result.Errors
		}
	}
	out = append(out, Target{Name: "zero errors (API)", Status: passFail(errs == 0), Detail: strconv.Itoa(errs) + " errors"})
	if r.PeakRSS > 0 {
		out = append(out, Target{Name: "server peak RSS < 150 MB", Status: passFail(r.PeakRSS < 150<<20), Detail: mb(r.PeakRSS) + " MB"})
	} else {
		out = append(out, Target{Name: "server peak RSS < 150 MB", Status: "n/a", Detail: "unknown"})
	}
	if m2 := r.M2; m2 != nil {
		ok := m2.API.OK(m2.Ops, m2.Covered) && r.After != nil && len(r.After.Violations) == 0
		detail := fmt.Sprintf("%d/%d approved, verificar ", m2.API.Approved, m2.Covered)
		if r.After != nil {
			detail += fmt.Sprintf("%d violations", len(r.After.Violations))
		} else {
			detail += "not run"
		}
		out = append(out, Target{Name: "M2 exact approvals and verificar clean", Status: passFail(ok), Detail: detail})
	}
	return out
}

func ratioOf(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
