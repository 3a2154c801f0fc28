// Package bench is the API's reproducible performance benchmark: it builds
// a fresh PostgreSQL database with the large dataset (package dataset below
// this one), starts the real server binary on it (server), drives it over
// HTTP with a closed-loop load generator (loadgen), and right beside each
// API run measures the same work done with hand-written SQL over pgx
// (baseline), the limit the API is compared with. cmd/benchmark is its
// command line; BENCHMARKS.md explains the figures. It lives under
// cmd/benchmark so that the product binary never links it.
//
// The scenarios: Q1 a page of clientes; Q2 the frontend page (clientes →
// facturas → operaciones), and Q2+tc with totalCount; Q3 one operación with
// its cliente, facturas and events; F+tc a page of DISPONIBLE facturas with
// their totalCount (a count over the largest table); M1 crearOperacion + aprobarOperacion
// pairs over many clientes, and M1+ik the same with an Idempotency-Key on
// every mutation; M2 concurrent approvals on one cliente whose
// line covers only some of them.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/banpro/factoring/cmd/benchmark/internal/bench/baseline"
	"github.com/banpro/factoring/cmd/benchmark/internal/bench/dataset"
	"github.com/banpro/factoring/cmd/benchmark/internal/bench/gqlclient"
	"github.com/banpro/factoring/cmd/benchmark/internal/bench/loadgen"
	"github.com/banpro/factoring/cmd/benchmark/internal/bench/server"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/money"
	"github.com/banpro/factoring/internal/verificar"
)

// Scenarios lists every scenario, in the order they run.
var Scenarios = []string{"Q1", "Q2", "Q2+tc", "Q3", "F+tc", "M1", "M1+ik", "M2"}

// Config of a benchmark run.
type Config struct {
	// Clients is the number of concurrent workers of every scenario.
	Clients int
	// Warmup and Duration of each closed-loop run (API and baseline each).
	Warmup, Duration time.Duration
	// Scenarios to run (default all).
	Scenarios []string
	// LatencyWarmup and LatencyDuration shape the second run of every
	// read, with a single client (the latency of a lone user), API and
	// baseline each; a LatencyDuration of 0 skips those runs.
	LatencyWarmup, LatencyDuration time.Duration

	// PostgresURL is any database URL of the PostgreSQL server on which
	// the fresh database is created.
	PostgresURL string
	// DatabaseURL, when set, is an existing database to use instead of a
	// fresh one: migrated and loaded if empty, never dropped.
	DatabaseURL string
	// Keep leaves the fresh database behind (its name is printed).
	Keep bool
	// Clientes and Seed shape the dataset (dataset.Config).
	Clientes int
	Seed     uint64
	// DBConns is the PostgreSQL pool size of the server
	// (FACTORING_DB_MAX_CONNS) and of the baseline.
	DBConns int

	// Binary is the server binary, run as `Binary serve`.
	Binary string
	// ServerURL, when set, is an already running server to benchmark
	// instead (it must serve DatabaseURL); ServerPid and AdminAddr are its
	// process id and admin listener, when known, and JWTSecret the secret
	// it verifies tokens with.
	ServerURL string
	ServerPid int
	AdminAddr string
	JWTSecret string

	// M2Ops and M2Covered shape scenario M2: that many PENDIENTE
	// operaciones of one cliente, of which the line covers M2Covered.
	M2Ops, M2Covered int

	// ProfileDir, when set, receives a CPU profile of the server over each
	// API run's measured window (<scenario>.pprof, from the admin
	// listener's /debug/pprof/profile), for `go tool pprof`.
	ProfileDir string

	// Log receives progress lines.
	Log io.Writer
}

func (c *Config) defaults() {
	if c.Clients <= 0 {
		c.Clients = 16
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Warmup < 0 {
		c.Warmup = 0
	}
	if c.LatencyWarmup < 0 {
		c.LatencyWarmup = 0
	}
	if c.LatencyDuration < 0 {
		c.LatencyDuration = 0
	}
	if len(c.Scenarios) == 0 {
		c.Scenarios = Scenarios
	}
	if c.DBConns <= 0 {
		c.DBConns = 16
	}
	if c.Clientes <= 0 {
		c.Clientes = dataset.DefaultClientes
	}
	if c.Seed == 0 {
		c.Seed = dataset.DefaultSeed
	}
	if c.M2Ops <= 0 {
		c.M2Ops = 200
	}
	if c.M2Covered <= 0 {
		c.M2Covered = 50
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
}

// Measure is what one side (API or baseline) of one scenario did.
type Measure struct {
	Result loadgen.Result
	// Stmts is the SQL statements of the whole run, warm-up included
	// (divide by Result.Total); StmtsOK is false when unknown.
	Stmts   int64
	StmtsOK bool
	// CPU is the CPU time of the process doing the work during the
	// measured window: the server for the API, this process for the
	// baseline.
	CPU   time.Duration
	CPUOK bool
	// ClientCPU is this process's CPU during an API run (the load
	// generator's share of the machine).
	ClientCPU time.Duration
	// PostgresCPU is the CPU of the bench database's backends, OtherCPU
	// the rest of the machine's busy time (other processes; PostgreSQL's
	// background workers): the noise of the run.
	PostgresCPU, OtherCPU time.Duration
	// RSS is the server's resident set at the end of the window.
	RSS int64
	// Busy is the fraction of the machine's CPUs busy during the window;
	// -1 if unknown.
	Busy float64
}

// fill records where the CPU went; api says whether the server did the
// work (else this process did).
func (m *Measure) fill(u usage, api bool) {
	m.Busy, m.PostgresCPU, m.OtherCPU, m.RSS = u.busy, u.postgres, u.other, u.rss
	if api {
		m.CPU, m.CPUOK, m.ClientCPU = u.server, u.serverOK, u.self
	} else {
		m.CPU, m.CPUOK = u.self, true
		m.OtherCPU += u.server // the idle server's housekeeping
	}
}

// StmtsPerReq is the SQL statements per request (per pair in M1).
func (m Measure) StmtsPerReq() (float64, bool) {
	if !m.StmtsOK || m.Result.Total == 0 {
		return 0, false
	}
	return float64(m.Stmts) / float64(m.Result.Total), true
}

// Row is one scenario of the table.
type Row struct {
	Name string
	Unit string // "req" or "par"
	API  Measure
	Base *Measure
	// Lone is the same read with a single client (Config.LatencyDuration),
	// nil when not run.
	Lone *Lone
	// Probe is the error of the checked request sent before the run, if
	// any.
	Probe error
}

// Ratio is API throughput over baseline throughput.
func (r Row) Ratio() (float64, bool) {
	if r.Base == nil || r.Base.Result.RPS() == 0 {
		return 0, false
	}
	return r.API.Result.RPS() / r.Base.Result.RPS(), true
}

// Lone is a read run by one client alone, API and baseline: the latency
// one user sees when nobody else is asking.
type Lone struct {
	API  Measure
	Base *Measure
}

// M2Side is one side of the contention scenario.
type M2Side struct {
	Approved, Refused int64
	// LineaDisponible is the cliente's line afterwards, Eventos its
	// APROBADA events.
	LineaDisponible decimal.Decimal
	Eventos         int
}

// M2Report is the contention scenario's outcome.
type M2Report struct {
	Ops, Covered int
	API          M2Side
	Base         *M2Side
}

// Report is the outcome of a run.
type Report struct {
	Config   Config
	Machine  Machine
	Database string
	Load     *dataset.Summary
	// Before and After are verificar's reports on the loaded dataset and
	// at the end of the run.
	Before, After *verificar.Report
	Rows          []Row
	M2            *M2Report
	// PeakRSS is the server's VmHWM at the end (0 unknown).
	PeakRSS int64
	// SelfPeakRSS is this process's VmHWM at the end of the run (0
	// unknown): the highest of the dataset's generation (LoadPeakRSS),
	// verificar's two passes, which read every table into memory, and the
	// load generator and baseline (RunRSS, its VmRSS before the final
	// verificar).
	SelfPeakRSS, LoadPeakRSS, RunRSS int64
	// AuthEnforced says whether the server refused a request without a
	// token (nil: not checked).
	AuthEnforced *bool
	// StatementsAvailable says whether the server's factoring_sql_statements_total
	// counter moved under load (published and wired).
	StatementsAvailable bool
	Started             time.Time
	Took                time.Duration
	ServerLog           string
}

// Run runs the benchmark and reports what it measured. An error means the
// run could not be made (no database, the server did not start, the loaded
// dataset broke an invariant); failed requests and missed targets are in
// the report.
func Run(ctx context.Context, cfg Config) (rep *Report, err error) {
	cfg.defaults()
	rep = &Report{Config: cfg, Started: time.Now()}
	defer func() { rep.Took = time.Since(rep.Started) }()
	logf := func(format string, args ...any) { fmt.Fprintf(cfg.Log, "==> "+format+"\n", args...) }

	rep.Machine = readMachine()

	// 1. The database: fresh, migrated, loaded, verified.
	dbURL := cfg.DatabaseURL
	if dbURL == "" {
		name := fmt.Sprintf("factoring_bench_%d", time.Now().Unix())
		logf("creando la base de datos %s", name)
		dbURL, err = database.CreatePostgresDatabase(ctx, cfg.PostgresURL, name, "")
		if err != nil {
			return rep, err
		}
		if !cfg.Keep {
			defer func() {
				// The server is stopped by then (deferred later, runs first).
				if dropErr := database.DropPostgresDatabase(context.Background(), cfg.PostgresURL, name); dropErr != nil {
					logf("no se pudo borrar %s: %v", name, dropErr)
				}
			}()
		} else {
			logf("la base %s se conserva (-keep)", name)
		}
	}
	rep.Database = database.Redact(dbURL)
	if cfg.ProfileDir != "" {
		if err := os.MkdirAll(cfg.ProfileDir, 0o755); err != nil {
			return rep, err
		}
	}
	db, err := database.Open(ctx, dbURL, database.Options{})
	if err != nil {
		return rep, err
	}
	defer db.Close()
	if _, err := database.Migrate(ctx, db); err != nil {
		return rep, err
	}
	rep.Machine.Postgres = postgresVersion(ctx, db)

	poolCfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return rep, err
	}
	poolCfg.MaxConns = int32(cfg.DBConns)
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return rep, err
	}
	defer pool.Close()

	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		return rep, err
	}
	tasa := decimal.RequireFromString("2.00")
	var empty bool
	if err := pool.QueryRow(ctx, "SELECT NOT EXISTS (SELECT 1 FROM clientes)").Scan(&empty); err != nil {
		return rep, err
	}
	if empty {
		logf("cargando el dataset (%d clientes, semilla %d)", cfg.Clientes, cfg.Seed)
		sum, err := dataset.Load(ctx, pool, dataset.Config{Clientes: cfg.Clientes, Seed: cfg.Seed, TimeZone: loc, Tasa: tasa})
		if err != nil {
			return rep, err
		}
		rep.Load = &sum
		// The generated rows are garbage now: give their memory back to
		// the system before the load generator starts.
		debug.FreeOSMemory()
		rep.LoadPeakRSS = selfRSS().HWM
		logf("dataset cargado en %s (generar %s, COPY %s, de ello %s en las migraciones de datos previos, VACUUM ANALYZE %s): %d clientes, %d facturas, %d operaciones, %d vínculos, %d eventos, %d facturas cedibles; RSS de este proceso %s MB (máximo %s MB)",
			sum.Total().Round(time.Millisecond), sum.Generate.Round(time.Millisecond), sum.Copy.Round(time.Millisecond),
			sum.Backfill.Round(time.Millisecond), sum.Analyze.Round(time.Millisecond),
			sum.Clientes, sum.Facturas, sum.Operaciones, sum.Links, sum.Eventos, sum.Cedibles, mb(selfRSS().RSS), mb(selfRSS().HWM))
		// Start from a settled server: the load's WAL written out now, not
		// by a checkpoint in the middle of Q1. Needs superuser or
		// pg_checkpoint; without it the run goes on.
		if _, err := pool.Exec(ctx, "CHECKPOINT"); err != nil {
			logf("CHECKPOINT no disponible (%v): se sigue sin él", err)
		}
	} else {
		logf("la base ya tiene datos: se usa tal cual")
	}
	logf("verificar sobre el dataset")
	before, err := verificar.Run(ctx, db.Client)
	if err != nil {
		return rep, err
	}
	rep.Before = &before
	debug.FreeOSMemory() // what verificar read, before the load generator starts
	logf("verificar: %d clientes, %d facturas, %d operaciones, %d eventos, %d violaciones",
		before.Clientes, before.Facturas, before.Operaciones, before.Eventos, len(before.Violations))
	if len(before.Violations) > 0 {
		for _, v := range before.Violations[:min(len(before.Violations), 10)] {
			logf("  %s", v)
		}
		return rep, errors.New("el dataset viola invariantes: no se mide sobre datos inconsistentes")
	}

	// 2. The server.
	secret := cfg.JWTSecret
	var srv *server.Server
	if cfg.ServerURL != "" {
		srv = server.Attach(cfg.ServerURL, cfg.AdminAddr, cfg.ServerPid)
		logf("servidor existente en %s", srv.Base)
	} else {
		if secret == "" {
			b := make([]byte, 32)
			_, _ = rand.Read(b)
			secret = hex.EncodeToString(b)
		}
		logFile, err := os.CreateTemp("", "factoring-bench-server-*.log")
		if err != nil {
			return rep, err
		}
		defer logFile.Close()
		rep.ServerLog = logFile.Name()
		logf("iniciando %s serve (log: %s)", cfg.Binary, logFile.Name())
		srv, err = server.Start(ctx, server.Options{
			Binary: cfg.Binary,
			Log:    logFile,
			Env: []string{
				"FACTORING_DATABASE_URL=" + dbURL,
				"FACTORING_LOG_LEVEL=warn",
				"FACTORING_AUTH=required",
				"FACTORING_JWT_SECRET=" + secret,
				fmt.Sprintf("FACTORING_DB_MAX_CONNS=%d", cfg.DBConns),
				"FACTORING_TASA_DESCUENTO=" + tasa.StringFixed(2),
				"FACTORING_TIMEZONE=" + loc.String(),
				// The server dispatches events as in production, but the
				// overdue job it would catch up on at start (a write over
				// the whole dataset) is no part of what is measured.
				"FACTORING_VENCIDAS_CRON=off",
			},
		})
		if err != nil {
			return rep, err
		}
		defer func() {
			if err := srv.Stop(); err != nil {
				logf("%v", err)
			}
		}()
		logf("servidor listo en %s (pid %d, administración %s)", srv.Base, srv.Pid, srv.AdminAddr)
	}
	_, rep.StatementsAvailable = srv.Statements(ctx)
	if !rep.StatementsAvailable {
		logf("el servidor no publica factoring_sql_statements_total en /metrics: sentencias por solicitud = n/a")
	}

	tok, err := issueTokens(secret)
	if err != nil {
		return rep, err
	}
	client := gqlclient.New(srv.URL, cfg.Clients)
	defer client.Close()
	e := &env{client: client, base: baseline.New(pool, tasa, loc), pool: pool, tok: tok, loc: loc, seed: cfg.Seed}
	mt := meter{srv: srv, db: poolCfg.ConnConfig.Database}

	// Does the server demand a token? (The run works either way.)
	noAuth := client.Post(ctx, "", gqlclient.Body(queryQ1, nil), nil)
	var gqlErr *gqlclient.Error
	enforced := errors.As(noAuth, &gqlErr) && (gqlErr.Code == "UNAUTHENTICATED" || gqlErr.Status == 401)
	rep.AuthEnforced = &enforced
	if !enforced {
		logf("el servidor respondió sin token: la autenticación no está activa (se envían tokens igual)")
	}

	// 3. The scenarios, each API run right before its baseline.
	var opIDs []int
	rows, err := pool.Query(ctx, "SELECT id FROM operaciones ORDER BY id")
	if err == nil {
		for rows.Next() {
			var id int
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return rep, err
			}
			opIDs = append(opIDs, id)
		}
		rows.Close()
		err = rows.Err()
	}
	if err != nil {
		return rep, err
	}
	if len(opIDs) == 0 {
		return rep, errors.New("la base no tiene operaciones")
	}

	for _, name := range cfg.Scenarios {
		var sc scenario
		switch name {
		case "Q1":
			sc = e.q1()
		case "Q2":
			sc = e.q2(false)
		case "Q2+tc":
			sc = e.q2(true)
		case "Q3":
			sc = e.q3(opIDs, cfg.Clients)
		case "F+tc":
			sc = e.facturasTotalCount()
		case "M1":
			sc = e.m1(cfg.Clients, cfg.Warmup+cfg.Duration, logf, false)
		case "M1+ik":
			sc = e.m1(cfg.Clients, cfg.Warmup+cfg.Duration, logf, true)
		case "M2":
			m2, row, err := runM2(ctx, cfg, e, mt, tasa, loc, logf)
			if err != nil {
				return rep, err
			}
			rep.M2 = m2
			rep.Rows = append(rep.Rows, row)
			continue
		default:
			return rep, fmt.Errorf("escenario desconocido %q (use %s)", name, strings.Join(Scenarios, ", "))
		}
		row := Row{Name: sc.name, Unit: sc.unit}
		if sc.probe != nil {
			if row.Probe = sc.probe(ctx); row.Probe != nil {
				logf("%s: la solicitud de prueba falló: %v", sc.name, row.Probe)
			}
		}
		if sc.before != nil {
			if err := sc.before(ctx, "api"); err != nil {
				return rep, err
			}
		}
		profile := ""
		if cfg.ProfileDir != "" {
			profile = filepath.Join(cfg.ProfileDir, strings.ReplaceAll(sc.name, "+", "-")+".pprof")
		}
		many := cfg.throughput()
		logf("%s: API, %d clientes, %s de calentamiento + %s", sc.name, many.clients, many.warmup, many.duration)
		row.API = measureAPI(ctx, mt, many, profile, sc.name, sc.api, logf)
		logf("%s: API      %s", sc.name, row.API.Result)
		if sc.base != nil {
			if sc.before != nil {
				if err := sc.before(ctx, "baseline"); err != nil {
					return rep, err
				}
			}
			logf("%s: baseline", sc.name)
			m := measureBase(ctx, mt, many, e.base, sc.base)
			row.Base = &m
			logf("%s: baseline %s", sc.name, m.Result)
		}
		if one := cfg.lone(); sc.read && one.duration > 0 {
			// The same read with one client: what a lone user waits,
			// with nothing else in the queue.
			logf("%s: API, 1 cliente, %s de calentamiento + %s", sc.name, one.warmup, one.duration)
			lone := &Lone{API: measureAPI(ctx, mt, one, "", sc.name, sc.api, logf)}
			logf("%s: API      1 cliente: %s", sc.name, lone.API.Result)
			if sc.base != nil {
				m := measureBase(ctx, mt, one, e.base, sc.base)
				lone.Base = &m
				logf("%s: baseline 1 cliente: %s", sc.name, m.Result)
			}
			row.Lone = lone
		}
		rep.Rows = append(rep.Rows, row)
	}

	rep.StatementsAvailable = false
	for _, row := range rep.Rows {
		rep.StatementsAvailable = rep.StatementsAvailable || row.API.StmtsOK
	}
	if p, ok := srv.Proc(); ok {
		rep.PeakRSS = p.HWM
	}
	rep.RunRSS = selfRSS().RSS
	logf("verificar al final")
	after, err := verificar.Run(ctx, db.Client)
	if err != nil {
		return rep, err
	}
	rep.After = &after
	rep.SelfPeakRSS = selfRSS().HWM
	logf("RSS de este proceso: máximo %s MB (carga del dataset %s MB, escenarios %s MB; el resto es verificar)",
		mb(rep.SelfPeakRSS), mb(rep.LoadPeakRSS), mb(rep.RunRSS))
	logf("verificar: %d operaciones, %d eventos, %d violaciones", after.Operaciones, after.Eventos, len(after.Violations))
	for _, v := range after.Violations[:min(len(after.Violations), 10)] {
		logf("  %s", v)
	}
	return rep, nil
}

func issueTokens(secret string) (tokens, error) {
	if len(secret) < auth.MinSecretBytes {
		// A server without authentication: send no token.
		return tokens{}, nil
	}
	var t tokens
	for _, x := range []struct {
		dst  *string
		sub  string
		role auth.Role
	}{
		{&t.lector, "bench-lector", auth.Lector},
		{&t.analista, "bench-analista", auth.Analista},
		{&t.riesgo, "bench-riesgo", auth.Riesgo},
	} {
		tok, err := auth.IssueHS256([]byte(secret), x.sub, []auth.Role{x.role}, 6*time.Hour, "", "", time.Now())
		if err != nil {
			return t, err
		}
		*x.dst = tok
	}
	return t, nil
}

// meter samples the processes of a run.
type meter struct {
	srv *server.Server
	db  string // the bench database's name, to find its backends
}

func (mt meter) snapshot() snapshot { return takeSnapshot(mt.srv, mt.db) }

// shape is a closed-loop run's: how many workers, for how long.
type shape struct {
	clients          int
	warmup, duration time.Duration
}

// throughput is the shape of every scenario's main run.
func (c Config) throughput() shape { return shape{c.Clients, c.Warmup, c.Duration} }

// lone is the shape of a read's run with one client.
func (c Config) lone() shape { return shape{1, c.LatencyWarmup, c.LatencyDuration} }

func (s shape) options() loadgen.Options {
	return loadgen.Options{Clients: s.clients, Warmup: s.warmup, Duration: s.duration}
}

// measureAPI runs req against the server and samples it around the run;
// with a profile path, it also records the server's CPU profile of the
// window there.
func measureAPI(ctx context.Context, mt meter, sh shape, profile, name string, req loadgen.Request, logf func(string, ...any)) Measure {
	var m Measure
	srv := mt.srv
	before, stmtsOK := srv.Statements(ctx)
	var s0 snapshot
	profiled := make(chan struct{})
	profiling := profile != "" && sh.duration >= time.Second
	opts := sh.options()
	opts.OnMeasureStart = func() {
		s0 = mt.snapshot()
		if profiling {
			go func() {
				defer close(profiled)
				if err := srv.Profile(ctx, sh.duration, profile); err != nil {
					logf("%s: sin perfil de CPU: %v", name, err)
				} else {
					logf("%s: perfil de CPU del servidor en %s", name, profile)
				}
			}()
		}
	}
	opts.OnMeasureEnd = func() { m.fill(s0.until(mt.snapshot()), true) }
	res := loadgen.Run(ctx, opts, req)
	m.Result = res
	if profiling {
		<-profiled
	}
	if after, ok := srv.Statements(ctx); ok && stmtsOK && (after > before || res.Total == 0) {
		// A counter that did not move under load is not wired (the
		// listener publishes 0): unknown, not "no statements".
		m.Stmts, m.StmtsOK = after-before, true
	}
	return m
}

// measureBase runs req in process and samples this process.
func measureBase(ctx context.Context, mt meter, sh shape, b *baseline.Baseline, req loadgen.Request) Measure {
	var m Measure
	before := b.Statements()
	var s0 snapshot
	opts := sh.options()
	opts.OnMeasureStart = func() { s0 = mt.snapshot() }
	opts.OnMeasureEnd = func() { m.fill(s0.until(mt.snapshot()), false) }
	res := loadgen.Run(ctx, opts, req)
	m.Result = res
	m.Stmts, m.StmtsOK = b.Statements()-before, true
	return m
}

// runM2 builds two contention fixtures, fires every approval of the first
// through the API and of the second through the baseline, and checks the
// outcome.
func runM2(ctx context.Context, cfg Config, e *env, mt meter, tasa decimal.Decimal, loc *time.Location,
	logf func(string, ...any)) (*M2Report, Row, error) {
	rep := &M2Report{Ops: cfg.M2Ops, Covered: cfg.M2Covered}
	row := Row{Name: "M2", Unit: "req"}
	fixture := func() (dataset.Contention, error) {
		return dataset.NewContention(ctx, e.pool, dataset.ContentionConfig{
			Operaciones: cfg.M2Ops, Cubiertas: cfg.M2Covered, TimeZone: loc, Tasa: tasa,
		})
	}
	apiFix, err := fixture()
	if err != nil {
		return nil, row, err
	}
	baseFix, err := fixture()
	if err != nil {
		return nil, row, err
	}
	logf("M2: %d aprobaciones concurrentes (%d a la vez) sobre un cliente cuya línea cubre %d", cfg.M2Ops, cfg.Clients, cfg.M2Covered)

	var out m2Outcome
	srv := mt.srv
	before, stmtsOK := srv.Statements(ctx)
	s0 := mt.snapshot()
	row.API.Result = e.m2API(ctx, cfg.Clients, apiFix.OperacionIDs, &out)
	row.API.fill(s0.until(mt.snapshot()), true)
	if after, ok := srv.Statements(ctx); ok && stmtsOK && after > before {
		row.API.Stmts, row.API.StmtsOK = after-before, true
	}
	rep.API = M2Side{Approved: out.approved.Load(), Refused: out.refused.Load()}
	if err := m2Check(ctx, e, apiFix.ClienteID, &rep.API); err != nil {
		return nil, row, err
	}
	logf("M2: API      %s; %d aprobadas, %d rechazadas por línea, línea final %s, %d eventos APROBADA",
		row.API.Result, rep.API.Approved, rep.API.Refused, money.String(rep.API.LineaDisponible), rep.API.Eventos)

	var bout m2Outcome
	stmts0 := e.base.Statements()
	s0 = mt.snapshot()
	res := e.m2Base(ctx, cfg.Clients, baseFix.OperacionIDs, &bout)
	row.Base = &Measure{Result: res, Stmts: e.base.Statements() - stmts0, StmtsOK: true}
	row.Base.fill(s0.until(mt.snapshot()), false)
	rep.Base = &M2Side{Approved: bout.approved.Load(), Refused: bout.refused.Load()}
	if err := m2Check(ctx, e, baseFix.ClienteID, rep.Base); err != nil {
		return nil, row, err
	}
	logf("M2: baseline %s; %d aprobadas, %d rechazadas por línea, línea final %s, %d eventos APROBADA",
		res, rep.Base.Approved, rep.Base.Refused, money.String(rep.Base.LineaDisponible), rep.Base.Eventos)
	return rep, row, nil
}

func m2Check(ctx context.Context, e *env, clienteID int, side *M2Side) error {
	var linea string
	err := e.pool.QueryRow(ctx, `SELECT c.linea_disponible::text,
			(SELECT count(*) FROM operacion_eventos ev JOIN operaciones o ON o.id = ev.operacion_id
			 WHERE o.cliente_id = c.id AND ev.tipo = 'APROBADA')
		FROM clientes c WHERE c.id = $1`, clienteID).Scan(&linea, &side.Eventos)
	if err != nil {
		return fmt.Errorf("M2: leer el cliente: %w", err)
	}
	side.LineaDisponible, err = decimal.NewFromString(linea)
	return err
}

// OK reports whether the side ended as the domain's rules require: exactly covered
// approvals, the rest refused on the line, the line used up, one event per
// approval.
func (s M2Side) OK(ops, covered int) bool {
	return s.Approved == int64(covered) && s.Refused == int64(ops-covered) && s.LineaDisponible.IsZero() && s.Eventos == covered
}

// ScenarioNames validates a comma-separated list of scenarios.
func ScenarioNames(list string) ([]string, error) {
	if strings.TrimSpace(list) == "" || list == "all" {
		return Scenarios, nil
	}
	var asked []string
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if !slices.Contains(Scenarios, s) {
			return nil, fmt.Errorf("escenario desconocido %q (use %s)", s, strings.Join(Scenarios, ","))
		}
		asked = append(asked, s)
	}
	// Always in the canonical order: reads on the loaded dataset first,
	// then the writes.
	var out []string
	for _, s := range Scenarios {
		if slices.Contains(asked, s) {
			out = append(out, s)
		}
	}
	return out, nil
}
