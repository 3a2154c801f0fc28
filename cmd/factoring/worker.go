package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/banpro/factoring/internal/app"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/config"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/despacho"
	"github.com/banpro/factoring/internal/httpserver"
	"github.com/banpro/factoring/internal/telemetry"
)

// configEventos reads the configuration of events out (FACTORING_NATS_URL,
// FACTORING_WEBHOOK_*, FACTORING_SMTP_*, FACTORING_WORKER,
// FACTORING_VENCIDAS_CRON, …).
func (m *Main) configEventos() (despacho.Config, error) {
	cfg, err := despacho.Load(m.Getenv)
	if err != nil {
		return cfg, fmt.Errorf("configuración inválida: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return cfg, nil
}

// despachoEnMarcha is a dispatcher running in this process.
type despachoEnMarcha struct {
	cancel  context.CancelFunc
	done    chan struct{}
	cerrar  func()
	espera  time.Duration
	log     *slog.Logger
	replica string
}

// iniciarDespacho starts the events dispatcher over db, with the overdue
// job scheduled by FACTORING_VENCIDAS_CRON, its metrics on tel's registry.
// It outlives ctx: detener stops it, once the HTTP server has drained, so
// the events of the last requests still go out.
//
// The dispatcher runs on the system clock whatever m.Clock says: retries
// and leases count real time. The overdue job it schedules reads the
// business clock, as `factoring marcar-vencidas` does.
func (m *Main) iniciarDespacho(ctx context.Context, db *database.DB, cfg config.Config, ecfg despacho.Config,
	log *slog.Logger, tel *telemetry.Telemetry) (*despachoEnMarcha, error) {
	d, cerrar, err := despacho.Desde(db, ecfg, despacho.Entorno{
		Clock:      clock.System{},
		Logger:     log,
		Zona:       cfg.TimeZone,
		Registerer: tel.Registry(),
		Tareas:     despacho.TareaVencidas(ecfg, cfg.TimeZone, m.tareaVencidas(db, cfg, log)),
	})
	if err != nil {
		return nil, fmt.Errorf("despachador de eventos: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e := &despachoEnMarcha{cancel: cancel, done: make(chan struct{}), cerrar: cerrar, log: log, replica: d.Replica(),
		espera: esperaApagado(ecfg)}
	go func() {
		defer close(e.done)
		_ = d.Run(runCtx)
	}()
	vencidas := ecfg.VencidasCron
	if vencidas != "off" {
		vencidas += " " + cfg.TimeZone.String()
	}
	log.Info("eventos de integración: despachador en marcha", "replica", d.Replica(),
		"nats", ecfg.NATSURL != "", "correo", ecfg.SMTPURL != "", "marcar_vencidas", vencidas)
	return e, nil
}

// esperaApagado bounds how long a stopping dispatcher waits for the
// deliveries in flight: the longest one attempt may take, plus recording
// it. One still going then is left to its lease, and another replica (or
// this one, restarted) sends it again.
func esperaApagado(ecfg despacho.Config) time.Duration {
	d := ecfg.WebhookTimeout
	if ecfg.SMTPURL != "" {
		d = max(d, 30*time.Second) // correo's default timeout
	}
	return d + 5*time.Second
}

// detener stops the dispatcher and waits, bounded, for the deliveries in
// flight to be recorded.
func (e *despachoEnMarcha) detener() {
	if e == nil {
		return
	}
	e.cancel()
	select {
	case <-e.done:
	case <-time.After(e.espera):
		e.log.Warn("el despachador de eventos no terminó a tiempo: las entregas en curso se reenviarán al vencer su arriendo",
			"replica", e.replica, "espera", e.espera.String())
	}
	e.cerrar()
}

// tareaVencidas is the overdue job as the dispatcher schedules it and
// `factoring marcar-vencidas` runs it: under the system principal, one
// trace per run.
func (m *Main) tareaVencidas(db *database.DB, cfg config.Config, log *slog.Logger) func(context.Context) error {
	return func(ctx context.Context) error {
		n, err := m.marcarVencidasUnaVez(ctx, db, cfg)
		if err == nil {
			log.Info("tarea marcar-vencidas", "facturas_vencidas", n)
		}
		return err
	}
}

func (m *Main) marcarVencidasUnaVez(ctx context.Context, db *database.DB, cfg config.Config) (int, error) {
	ctx, end := telemetry.StartJob(ctx, "marcar-vencidas")
	ctx = auth.NewContext(ctx, auth.Principal{Subject: auth.Sistema})
	n, err := app.Services(db, cfg, m.clock()).Facturas.MarcarVencidas(ctx, cfg.TimeZone)
	end(err)
	return n, err
}

// worker runs the events dispatcher and the scheduled overdue job without
// the HTTP API: for serve replicas started with FACTORING_WORKER=external,
// or beside them (any number of dispatchers may share one database).
func (m *Main) worker(ctx context.Context, args []string) error {
	if err := m.parse(m.newFlagSet("worker"), args); err != nil {
		return err
	}
	cfg, err := m.config()
	if err != nil {
		return err
	}
	ecfg, err := m.configEventos()
	if err != nil {
		return err
	}
	log := m.logger(cfg)
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
	if err := requireCurrentSchema(ctx, db); err != nil {
		return err
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
	log.Info("iniciando factoring worker", "version", version, "database", database.Redact(cfg.DatabaseURL), "dialect", db.Dialect)
	d, err := m.iniciarDespacho(ctx, db, cfg, ecfg, log, tel)
	if err != nil {
		return err
	}
	if m.Ready != nil {
		m.Ready <- d.replica
	}
	<-ctx.Done()
	d.detener()
	return nil
}
