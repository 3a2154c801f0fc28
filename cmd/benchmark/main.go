// Command benchmark is the API's reproducible performance benchmark (`make
// bench`): it creates a fresh PostgreSQL database, loads the large dataset,
// starts the real server binary on it, drives it over HTTP and, beside each
// API run, runs the same work as hand-written SQL, then each read again with
// a single client, and prints the tables of figures and API/baseline ratios
// in Markdown. See BENCHMARKS.md.
//
//	go run ./cmd/benchmark -clients 16 -duration 10s -warmup 3s
//
// The PostgreSQL server comes from FACTORING_BENCH_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable).
//
// `benchmark seed -database-url URL` only migrates that database and loads
// the dataset into it (it must have no clientes), to look at the API over
// the benchmark's volume by hand:
//
//	go run ./cmd/benchmark seed -database-url postgres://postgres@127.0.0.1:5432/factoring_grande?sslmode=disable
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/banpro/factoring/cmd/benchmark/internal/bench"
	"github.com/banpro/factoring/cmd/benchmark/internal/bench/dataset"
	"github.com/banpro/factoring/internal/database"
)

const defaultPostgres = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchmark:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) > 1 && os.Args[1] == "seed" {
		return seed(os.Args[2:])
	}
	var cfg bench.Config
	fs := flag.NewFlagSet("benchmark", flag.ContinueOnError)
	fs.IntVar(&cfg.Clients, "clients", 16, "concurrent clients (closed loop) of every scenario")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "measured time of each run (API and baseline each)")
	fs.DurationVar(&cfg.Warmup, "warmup", 3*time.Second, "warm-up before each run, not recorded")
	fs.DurationVar(&cfg.LatencyDuration, "latency-duration", 3*time.Second, "measured time of each read's second run with a single client (the latency of a lone user), API and baseline each; 0 skips those runs")
	fs.DurationVar(&cfg.LatencyWarmup, "latency-warmup", time.Second, "warm-up before each single-client run, not recorded")
	scenarios := fs.String("scenarios", strings.Join(bench.Scenarios, ","), "scenarios to run, comma-separated")
	fs.StringVar(&cfg.Binary, "server-bin", "bin/factoring", "server binary to start (make build makes it)")
	fs.StringVar(&cfg.ServerURL, "server-url", "", "benchmark a server already running at this URL instead of starting one (needs -database-url: the database it serves)")
	fs.IntVar(&cfg.ServerPid, "server-pid", 0, "with -server-url: its process id, for CPU and RSS")
	fs.StringVar(&cfg.AdminAddr, "admin-addr", "", "with -server-url: its admin listener (host:port, FACTORING_ADMIN_ADDR), for SQL statements and profiles")
	fs.StringVar(&cfg.DatabaseURL, "database-url", "", "use this existing database instead of a fresh one (loaded if empty, never dropped)")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the fresh database after the run")
	fs.IntVar(&cfg.Clientes, "clientes", 2000, "dataset size in clientes (50 facturas and 10 operaciones each)")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "dataset and load generator seed")
	fs.IntVar(&cfg.DBConns, "db-conns", 16, "PostgreSQL pool size of the server (FACTORING_DB_MAX_CONNS) and of the baseline")
	fs.IntVar(&cfg.M2Ops, "m2-ops", 200, "M2: PENDIENTE operaciones of the contended cliente")
	fs.IntVar(&cfg.M2Covered, "m2-covered", 50, "M2: how many of them its line covers")
	fs.StringVar(&cfg.ProfileDir, "profile", "", "write a server CPU profile of each API run into this directory (needs the admin listener)")
	out := fs.String("out", "", "also write the Markdown report to this file")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	var err error
	if cfg.Scenarios, err = bench.ScenarioNames(*scenarios); err != nil {
		return err
	}
	if cfg.ServerURL != "" && cfg.DatabaseURL == "" {
		return fmt.Errorf("-server-url necesita -database-url: la base de datos que ese servidor sirve")
	}
	cfg.PostgresURL = defaultPostgres
	if v := os.Getenv("FACTORING_BENCH_DATABASE_URL"); v != "" {
		cfg.PostgresURL = v
	}
	cfg.JWTSecret = os.Getenv("FACTORING_BENCH_JWT_SECRET")
	cfg.Log = os.Stderr

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := bench.Run(ctx, cfg)
	if rep != nil && len(rep.Rows) > 0 {
		fmt.Println()
		rep.WriteMarkdown(os.Stdout)
		if *out != "" {
			f, ferr := os.Create(*out)
			if ferr != nil {
				return ferr
			}
			rep.WriteMarkdown(f)
			if ferr := f.Close(); ferr != nil {
				return ferr
			}
		}
	}
	return err
}

// seed migrates the database of -database-url and loads the benchmark's
// dataset into it (the dataset's defaults: rate 2.00, America/Santiago,
// as the benchmark serves it).
func seed(args []string) error {
	fs := flag.NewFlagSet("benchmark seed", flag.ContinueOnError)
	url := fs.String("database-url", "", "PostgreSQL database to migrate and load (it must have no clientes)")
	clientes := fs.Int("clientes", dataset.DefaultClientes, "dataset size in clientes (50 facturas and 10 operaciones each)")
	semilla := fs.Uint64("seed", dataset.DefaultSeed, "dataset seed")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *url == "" {
		return fmt.Errorf("seed necesita -database-url: la base PostgreSQL donde cargar el dataset")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	db, err := database.Open(ctx, *url, database.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := database.Migrate(ctx, db); err != nil {
		return err
	}
	sum, err := dataset.LoadDB(ctx, db, dataset.Config{Clientes: *clientes, Seed: *semilla})
	if err != nil {
		return err
	}
	fmt.Printf("dataset cargado en %s: %d clientes, %d facturas, %d operaciones, %d eventos\n",
		sum.Total().Round(time.Millisecond), sum.Clientes, sum.Facturas, sum.Operaciones, sum.Eventos)
	return nil
}
