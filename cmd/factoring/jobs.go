package main

import (
	"context"
	"fmt"
	"time"

	"github.com/banpro/factoring/internal/app"
	"github.com/banpro/factoring/internal/config"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/money"
	"github.com/banpro/factoring/internal/telemetry"
)

// cierre runs the close of business once: it closes, in order, every
// business date after the last one closed up to the business date (today
// in FACTORING_TIMEZONE, or FACTORING_FECHA_NEGOCIO for a replay): marks
// overdue invoices VENCIDA and accrues their mora. Schedule it daily
// (cron, a Kubernetes CronJob) shortly after midnight in the business time
// zone; a date already closed is never closed again.
func (m *Main) cierre(ctx context.Context, args []string) error {
	if err := m.parse(m.newFlagSet("cierre"), args); err != nil {
		return err
	}
	return m.job(ctx, "cierre", func(ctx context.Context, svc app.ServiceSet, cfg config.Config) error {
		rs, err := app.Cierre(svc)(ctx)
		if err != nil {
			return err
		}
		if len(rs) == 0 {
			fmt.Fprintf(m.Stdout, "la fecha de negocio %s ya estaba cerrada: nada que hacer\n",
				svc.Facturas.FechaNegocio(m.clock().Now()).Format(time.DateOnly))
		}
		for _, r := range rs {
			fmt.Fprintf(m.Stdout, "cierre del %s: %d factura(s) marcada(s) VENCIDA, %d en mora, interés devengado %s\n",
				r.Fecha.Format(time.DateOnly), r.FacturasVencidas, r.FacturasEnMora, money.String(r.InteresDevengado))
		}
		return nil
	})
}

// marcarVencidas is the overdue job of before, kept under its name: it is
// the close of business up to today, and says how many invoices became
// VENCIDA. serve and worker schedule the close themselves
// (FACTORING_VENCIDAS_CRON, on one replica); these commands run it by
// hand, or from an external scheduler when that is set to off.
func (m *Main) marcarVencidas(ctx context.Context, args []string) error {
	if err := m.parse(m.newFlagSet("marcar-vencidas"), args); err != nil {
		return err
	}
	return m.job(ctx, "marcar-vencidas", func(ctx context.Context, svc app.ServiceSet, cfg config.Config) error {
		n, err := svc.Facturas.MarcarVencidas(ctx, cfg.TimeZone)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "%d factura(s) marcada(s) VENCIDA\n", n)
		return nil
	})
}

// job runs a background job over the configured database, as the system
// principal, in a trace of its own.
func (m *Main) job(ctx context.Context, name string, run func(context.Context, app.ServiceSet, config.Config) error) error {
	cfg, err := m.config()
	if err != nil {
		return err
	}
	tel, flush, err := m.telemetry(ctx, m.logger(cfg))
	if err != nil {
		return err
	}
	defer flush()
	db, err := database.Open(ctx, cfg.DatabaseURL, database.Options{MaxOpenConns: cfg.DBMaxConns, WrapDriver: tel.WrapDriver})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := requireCurrentSchema(ctx, db); err != nil {
		return err
	}
	// One trace per run: its statements are the job span's children.
	ctx, end := telemetry.StartJob(ctx, name)
	err = run(app.ComoSistema(ctx), app.Services(db, cfg, m.clock()), cfg)
	end(err)
	return err
}
