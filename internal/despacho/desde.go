package despacho

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/banpro/factoring/ent/entrega"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/correo"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/natspub"
	"github.com/banpro/factoring/internal/webhooks"
)

// Entorno is what Desde needs besides the configuration.
type Entorno struct {
	Clock  clock.Clock
	Logger *slog.Logger
	// Zona is the business time zone (FACTORING_TIMEZONE): the overdue
	// job's schedule and the dates in e-mails.
	Zona *time.Location
	// Registerer receives the metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// Tareas are the periodic jobs (the overdue job, see TareaVencidas).
	Tareas []Tarea
}

// Desde builds the dispatcher cfg describes: webhooks always, NATS when
// FACTORING_NATS_URL is set, e-mail when FACTORING_SMTP_URL is. The
// returned function closes the NATS connection; call it after Run
// returns.
func Desde(db *database.DB, cfg Config, env Entorno) (*Despachador, func(), error) {
	boveda, err := webhooks.NuevaBoveda(cfg.WebhookSecretKey)
	if err != nil {
		return nil, nil, err
	}
	canales := map[entrega.Canal]Canal{
		entrega.CanalWEBHOOK: &CanalWebhook{
			Emisor: webhooks.NuevoEmisor(webhooks.OpcionesEmisor{Timeout: cfg.WebhookTimeout, PermitirInseguro: cfg.WebhookInseguro}),
			Boveda: boveda,
			Clock:  env.Clock,
		},
	}
	closeFn := func() {}
	if cfg.NATSURL != "" {
		pub, err := natspub.Conectar(cfg.NATSURL, natspub.Opciones{Stream: cfg.NATSStream, Prefijo: cfg.NATSPrefijo})
		if err != nil {
			return nil, nil, err
		}
		canales[entrega.CanalNATS] = &CanalNATS{Pub: pub}
		closeFn = pub.Close
	}
	if cfg.SMTPURL != "" {
		m, err := correo.New(cfg.SMTPURL, cfg.SMTPFrom, correo.Opciones{})
		if err != nil {
			closeFn()
			return nil, nil, err
		}
		canales[entrega.CanalEMAIL] = &CanalEmail{Mailer: m, DB: db, Zona: env.Zona}
	}
	var met *Metricas
	if env.Registerer != nil {
		if met, err = NuevasMetricas(env.Registerer, db); err != nil {
			closeFn()
			return nil, nil, fmt.Errorf("métricas del despachador: %w", err)
		}
	}
	d, err := New(db, Opciones{
		Clock:        env.Clock,
		Logger:       env.Logger,
		Canales:      canales,
		Reintentos:   Reintentos{Base: cfg.WebhookRetryBase, Ventana: cfg.WebhookRetryVentana},
		Intervalo:    cfg.Intervalo,
		Concurrencia: cfg.Concurrencia,
		Arriendo:     max(2*time.Minute, 3*cfg.WebhookTimeout),
		Tareas:       env.Tareas,
		Metricas:     met,
	})
	if err != nil {
		closeFn()
		return nil, nil, err
	}
	return d, closeFn, nil
}

// TareaVencidas is the daily job scheduled by cfg.VencidasCron in zona,
// catching up a run missed in the last 12 hours; nil when the schedule is
// "off". run is the job itself: the close of business (app.Cierre, which
// also marks invoices VENCIDA; Facturas.MarcarVencidas under the system
// principal is the same job), which itself closes every business date
// missed since the last one closed.
func TareaVencidas(cfg Config, zona *time.Location, run func(context.Context) error) []Tarea {
	if cfg.VencidasCron == "off" || run == nil {
		return nil
	}
	return []Tarea{{Nombre: "marcar-vencidas", Cron: cfg.VencidasCron, Zona: zona, Recuperar: 12 * time.Hour, Ejecutar: run}}
}
