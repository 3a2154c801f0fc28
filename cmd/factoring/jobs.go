package main

import (
	"context"
	"fmt"

	"github.com/banpro/factoring/internal/app"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/telemetry"
)

// marcarVencidas runs the overdue job once: every DISPONIBLE or CEDIDA
// invoice due before today becomes VENCIDA. Schedule it daily (cron,
// a Kubernetes CronJob) shortly after midnight in the business time zone.
func (m *Main) marcarVencidas(ctx context.Context, args []string) error {
	if err := m.parse(m.newFlagSet("marcar-vencidas"), args); err != nil {
		return err
	}
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
	ctx, end := telemetry.StartJob(ctx, "marcar-vencidas")
	ctx = auth.NewContext(ctx, auth.Principal{Subject: auth.Sistema})
	n, err := app.Services(db, cfg, m.clock()).Facturas.MarcarVencidas(ctx, cfg.TimeZone)
	end(err)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%d factura(s) marcada(s) VENCIDA\n", n)
	return nil
}
