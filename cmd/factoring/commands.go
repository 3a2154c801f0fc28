package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"github.com/banpro/factoring/internal/app"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/config"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/httpserver"
	"github.com/banpro/factoring/internal/idempotencia"
	"github.com/banpro/factoring/internal/loglimit"
	"github.com/banpro/factoring/internal/seed"
	"github.com/banpro/factoring/internal/telemetry"
	"github.com/banpro/factoring/internal/verificar"
)

// Build information, set by the Makefile through -ldflags -X.
var (
	version = "dev"
	commit  = "desconocido"
)

// Main is the program: its outputs, environment and clock are fields so a
// test can run any command in-process.
type Main struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) (string, bool)
	// Clock defaults to the system clock.
	Clock clock.Clock
	// Ready, when set, receives the address the server listens on (for
	// worker, its replica's name once the dispatcher runs).
	Ready chan<- string
	// AdminReady, when set, receives the admin listener's address.
	AdminReady chan<- string
}

func (m *Main) clock() clock.Clock {
	if m.Clock == nil {
		return clock.System{}
	}
	return m.Clock
}

func (m *Main) config() (config.Config, error) {
	cfg, err := config.Load(m.Getenv)
	if err != nil {
		return cfg, fmt.Errorf("configuración inválida: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return cfg, nil
}

// logger is the process's log: JSON (or text) on stderr, every line capped
// (loglimit: 2 KB per value, 8 KB per line) whatever a message or an error
// holds; a line logged inside a trace names it (trace_id).
func (m *Main) logger(cfg config.Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var h slog.Handler = slog.NewJSONHandler(m.Stderr, opts)
	if cfg.LogFormat == "text" {
		h = slog.NewTextHandler(m.Stderr, opts)
	}
	return slog.New(loglimit.Capped(telemetry.LogHandler(h), loglimit.MaxValueBytes, loglimit.MaxLineBytes))
}

func (m *Main) open(ctx context.Context, cfg config.Config) (*database.DB, error) {
	return database.Open(ctx, cfg.DatabaseURL, database.Options{MaxOpenConns: cfg.DBMaxConns})
}

// telemetry starts the tracing the OTEL_* variables ask for (and makes it
// the process's), and returns it with the function that flushes it at exit.
func (m *Main) telemetry(ctx context.Context, log *slog.Logger) (*telemetry.Telemetry, func(), error) {
	tel, err := telemetry.New(ctx, telemetry.Config{Getenv: m.Getenv, Version: version})
	if err != nil {
		return nil, nil, err
	}
	tel.InstallGlobal(log)
	return tel, func() {
		// ctx is over by now: the spans still buffered get 5 s of their own.
		flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tel.Shutdown(flushCtx); err != nil {
			log.Warn("no se pudieron enviar las últimas trazas", "error", err.Error())
		}
	}, nil
}

// openCurrent opens the database for a command that needs its schema up to
// date (everything but migrate and serve --migrate).
func (m *Main) openCurrent(ctx context.Context, cfg config.Config) (*database.DB, error) {
	db, err := m.open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := requireCurrentSchema(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// requireCurrentSchema fails when the database has migrations pending: the
// binary would run against a schema older than the one it was built for.
func requireCurrentSchema(ctx context.Context, db *database.DB) error {
	st, err := database.MigrationStatus(ctx, db)
	if err != nil {
		return err
	}
	if n := len(st.Pending); n > 0 {
		return fmt.Errorf("la base de datos tiene %d migración(es) pendiente(s) (%s); ejecute `factoring migrate` o `factoring serve --migrate`",
			n, strings.Join(st.Pending, ", "))
	}
	return nil
}

func (m *Main) serve(ctx context.Context, args []string) error {
	// The flags' defaults come from the configuration; an invalid one is
	// reported after the flags, so -h answers whatever the environment.
	cfg, cfgErr := m.config()
	fs := m.newFlagSet("serve")
	embedded := strings.HasPrefix(cfg.DatabaseURL, "sqlite://")
	migrate := fs.Bool("migrate", embedded, "aplicar las migraciones pendientes antes de servir (por omisión sí en SQLite, no en PostgreSQL)")
	seedDemo := fs.Bool("seed", false, "cargar los datos de demostración si la base de datos no tiene clientes")
	addr := fs.String("addr", cfg.HTTPAddr, "dirección donde escuchar (por omisión FACTORING_HTTP_ADDR)")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if cfgErr != nil {
		return cfgErr
	}
	ecfg, err := m.configEventos()
	if err != nil {
		return err
	}
	cfg.HTTPAddr = *addr
	log := m.logger(cfg)
	for _, d := range cfg.Deprecated {
		log.Warn(d)
	}
	tel, flush, err := m.telemetry(ctx, log)
	if err != nil {
		return err
	}
	defer flush()

	db, err := database.Open(ctx, cfg.DatabaseURL, database.Options{MaxOpenConns: cfg.DBMaxConns, WrapDriver: tel.WrapDriver})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := tel.RegisterDB(db); err != nil {
		return err
	}
	if *migrate {
		applied, err := database.Migrate(ctx, db)
		if err != nil {
			return err
		}
		for _, v := range applied {
			log.Info("migración aplicada", "version", v)
		}
	} else if err := requireCurrentSchema(ctx, db); err != nil {
		return err
	}
	if *seedDemo {
		if err := m.seedIfEmpty(ctx, db, cfg, log); err != nil {
			return err
		}
	}
	if warning, err := database.ServingPrivilegeWarning(ctx, db); err != nil {
		return err
	} else if warning != "" {
		log.Warn(warning)
	}
	log.Info("iniciando factoring", "version", version, "database", database.Redact(cfg.DatabaseURL),
		"dialect", db.Dialect, "tasa_descuento", cfg.TasaDescuento.StringFixed(2), "timezone", cfg.TimeZone.String())
	if tr := tel.Tracing(); tr.Enabled {
		log.Info("trazas OpenTelemetry activas", "endpoint", tr.Endpoint, "sampler", tr.SamplerName, "service", tr.ServiceName)
	}
	keys := app.IdempotencyStore(db, cfg, m.clock(), log)
	srv, err := app.NewServer(app.Options{
		DB:          db,
		Config:      cfg,
		Clock:       m.clock(),
		Logger:      log,
		Idempotency: keys,
		Telemetry:   tel,
		Eventos:     &ecfg,
		Ready: func(ctx context.Context) error {
			if err := db.Ping(ctx); err != nil {
				return err
			}
			return requireCurrentSchema(ctx, db)
		},
	})
	if err != nil {
		return err
	}
	// Expired Idempotency-Keys are purged by a ticker of the server's own
	// (until a job runner schedules Purge).
	go keys.PurgeEvery(ctx, idempotencia.PurgeInterval, log)
	if !cfg.AuthRequired {
		log.Warn("AUTENTICACIÓN DESHABILITADA (FACTORING_AUTH=disabled): cualquiera que alcance este puerto " +
			"puede consultar y ejecutar todas las mutaciones, y la auditoría registra al actor como 'anonimo'. " +
			"Úselo solo para la demo local.")
	}
	if cfg.AdminAddr != "" {
		adminAddr, err := httpserver.ListenAdmin(ctx, httpserver.AdminConfig{
			Addr: cfg.AdminAddr, Logger: log, Metrics: tel.MetricsHandler(),
		})
		if err != nil {
			return fmt.Errorf("FACTORING_ADMIN_ADDR: %w", err)
		}
		if m.AdminReady != nil {
			m.AdminReady <- adminAddr
		}
	}
	// Events out: dispatched in-process unless FACTORING_WORKER=external
	// leaves it to `factoring worker`.
	var despachador *despachoEnMarcha
	if ecfg.EnServe {
		if despachador, err = m.iniciarDespacho(ctx, db, cfg, ecfg, log, tel); err != nil {
			return err
		}
	} else {
		log.Info("eventos de integración: los despacha factoring worker (FACTORING_WORKER=external)")
	}
	err = srv.ListenAndServe(ctx, m.Ready)
	keys.Wait() // the answers of the last mutations reach their keys before the database closes
	// After the last requests, so their events still go out; bounded.
	despachador.detener()
	return err
}

func (m *Main) seedIfEmpty(ctx context.Context, db *database.DB, cfg config.Config, log *slog.Logger) error {
	empty, err := seed.Empty(ctx, db.Client)
	if err != nil || !empty {
		return err
	}
	res, err := seed.Run(ctx, db, m.seedOptions(cfg, false))
	if err != nil {
		return err
	}
	log.Info("datos de demostración cargados", "clientes", res.ClientesCreados, "facturas", res.FacturasCreadas,
		"operaciones", res.OperacionesCreadas)
	return nil
}

func (m *Main) seedOptions(cfg config.Config, soloDisponibles bool) seed.Options {
	return seed.Options{
		SoloDisponibles: soloDisponibles,
		Clock:           m.clock(),
		TimeZone:        cfg.TimeZone,
		TasaDescuento:   cfg.TasaDescuento,
	}
}

func (m *Main) migrate(ctx context.Context, args []string) error {
	fs := m.newFlagSet("migrate")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	cfg, err := m.config()
	if err != nil {
		return err
	}
	statusOnly := false
	switch fs.NArg() {
	case 0:
	case 1:
		if fs.Arg(0) != "status" {
			fmt.Fprintf(m.Stderr, "subcomando desconocido %q: use `factoring migrate` o `factoring migrate status`\n", fs.Arg(0))
			return errUsage
		}
		statusOnly = true
	default:
		fmt.Fprintln(m.Stderr, "demasiados argumentos: use `factoring migrate` o `factoring migrate status`")
		return errUsage
	}
	if !statusOnly {
		// migrate runs as the schema's owner: it may make the database
		// itself, so a server needs no createdb first.
		created, err := database.CreateDatabaseIfMissing(ctx, cfg.DatabaseURL)
		if err != nil {
			return err
		}
		if created {
			fmt.Fprintf(m.Stdout, "base de datos creada: %s\n", database.Redact(cfg.DatabaseURL))
		}
	}
	db, err := m.open(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if statusOnly {
		st, err := database.MigrationStatus(ctx, db)
		if err != nil {
			return err
		}
		for _, v := range st.Applied {
			fmt.Fprintf(m.Stdout, "aplicada   %s\n", v)
		}
		for _, v := range st.Pending {
			fmt.Fprintf(m.Stdout, "pendiente  %s\n", v)
		}
		fmt.Fprintf(m.Stdout, "%d aplicada(s), %d pendiente(s)\n", len(st.Applied), len(st.Pending))
		return nil
	}
	applied, err := database.Migrate(ctx, db)
	if err != nil {
		return err
	}
	for _, v := range applied {
		fmt.Fprintf(m.Stdout, "aplicada %s\n", v)
	}
	if len(applied) == 0 {
		fmt.Fprintln(m.Stdout, "sin migraciones pendientes: el esquema está al día")
	} else {
		fmt.Fprintf(m.Stdout, "%d migración(es) aplicada(s)\n", len(applied))
	}
	if db.Dialect == dialect.Postgres {
		role := database.ServingRole{Name: cfg.ServingRole, Password: cfg.ServingRolePassword}
		if err := database.EnsureServingRole(ctx, db, role); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "rol de servicio %s: privilegios al día (filas sí; DDL y cambios a la auditoría no)\n", role.Name)
	}
	return nil
}

func (m *Main) seed(ctx context.Context, args []string) error {
	fs := m.newFlagSet("seed")
	soloDisponibles := fs.Bool("solo-disponibles", false,
		"cargar los clientes y solo las facturas que aún se pueden ceder, todas DISPONIBLE, sin operaciones")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	cfg, err := m.config()
	if err != nil {
		return err
	}
	db, err := m.openCurrent(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := seed.Run(ctx, db, m.seedOptions(cfg, *soloDisponibles))
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "clientes: %d creados, %d ya existían\n", res.ClientesCreados, res.ClientesExistentes)
	fmt.Fprintf(m.Stdout, "facturas: %d creadas, %d ya existían\n", res.FacturasCreadas, res.FacturasExistentes)
	fmt.Fprintf(m.Stdout, "operaciones: %d creadas\n", res.OperacionesCreadas)
	if res.FacturasVencidas > 0 {
		fmt.Fprintf(m.Stdout, "facturas marcadas VENCIDA: %d\n", res.FacturasVencidas)
	}
	return nil
}

// errViolations makes verificar exit with status 1; the violations are
// already printed.
var errViolations = errors.New("se encontraron violaciones de invariantes")

func (m *Main) verificar(ctx context.Context, args []string) error {
	if err := m.parse(m.newFlagSet("verificar"), args); err != nil {
		return err
	}
	cfg, err := m.config()
	if err != nil {
		return err
	}
	db, err := m.openCurrent(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	rep, err := verificar.Run(ctx, db.Client)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "revisados: %d clientes, %d facturas, %d operaciones, %d eventos, %d entradas de auditoría, %d deudores\n",
		rep.Clientes, rep.Facturas, rep.Operaciones, rep.Eventos, rep.Auditoria, rep.Deudores)
	for _, v := range rep.Violations {
		fmt.Fprintln(m.Stdout, v.String())
	}
	if len(rep.Violations) > 0 {
		fmt.Fprintf(m.Stdout, "%d violación(es)\n", len(rep.Violations))
		return errViolations
	}
	fmt.Fprintln(m.Stdout, "sin violaciones: todas las invariantes se cumplen")
	return nil
}

// schema prints the public SDL; it needs no configuration nor database.
func (m *Main) schema(args []string) error {
	fs := m.newFlagSet("schema")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	_, err := fmt.Fprint(m.Stdout, app.SDL())
	return err
}

func (m *Main) version(args []string) error {
	fs := m.newFlagSet("version")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	goVersion := runtime.Version()
	if info, ok := debug.ReadBuildInfo(); ok && info.GoVersion != "" {
		goVersion = info.GoVersion
	}
	fmt.Fprintf(m.Stdout, "factoring %s (commit %s, %s)\n", version, commit, goVersion)
	return nil
}
