package main

import (
	"context"
	"fmt"

	"github.com/banpro/factoring/internal/app"
	"github.com/banpro/factoring/internal/auth"
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
	db, err := m.openCurrent(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx = auth.NewContext(ctx, auth.Principal{Subject: auth.Sistema})
	n, err := app.Services(db, cfg, m.clock()).Facturas.MarcarVencidas(ctx, cfg.TimeZone)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%d factura(s) marcada(s) VENCIDA\n", n)
	return nil
}
