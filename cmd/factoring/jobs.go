package main

import (
	"context"
	"fmt"

	"github.com/banpro/factoring/internal/database"
)

// marcarVencidas runs the overdue job once: every DISPONIBLE or CEDIDA
// invoice due before today becomes VENCIDA. serve and worker schedule it
// themselves (FACTORING_VENCIDAS_CRON, on one replica); this runs it by
// hand, or from an external scheduler when that is set to off.
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
	n, err := m.marcarVencidasUnaVez(ctx, db, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%d factura(s) marcada(s) VENCIDA\n", n)
	return nil
}
