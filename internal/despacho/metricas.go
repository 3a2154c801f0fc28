package despacho

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/entrega"
	"github.com/banpro/factoring/ent/outboxevento"
	"github.com/banpro/factoring/internal/database"
)

// Metricas are the dispatcher's Prometheus metrics:
//
//	factoring_webhook_deliveries_total{result}     webhook attempts: entregada, reintento, fallida
//	factoring_event_deliveries_total{canal,result} the same for every channel
//	factoring_outbox_pending                       events not fanned out plus deliveries PENDIENTE
//	factoring_outbox_oldest_seconds                age of the oldest of those (0 when none)
//
// The two gauges are read from the database at scrape time (two indexed
// queries, 2 s at most), so every replica reports the same figures.
type Metricas struct {
	webhook  *prometheus.CounterVec
	entregas *prometheus.CounterVec
	db       *database.DB
	pending  *prometheus.Desc
	oldest   *prometheus.Desc
}

// NuevasMetricas registers the metrics on reg.
func NuevasMetricas(reg prometheus.Registerer, db *database.DB) (*Metricas, error) {
	m := &Metricas{
		webhook: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "factoring_webhook_deliveries_total",
			Help: "Intentos de entrega a webhooks, por resultado (entregada, reintento, fallida).",
		}, []string{"result"}),
		entregas: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "factoring_event_deliveries_total",
			Help: "Intentos de entrega de eventos por canal (WEBHOOK, NATS, EMAIL) y resultado.",
		}, []string{"canal", "result"}),
		db: db,
		pending: prometheus.NewDesc("factoring_outbox_pending",
			"Eventos sin distribuir más entregas PENDIENTE.", nil, nil),
		oldest: prometheus.NewDesc("factoring_outbox_oldest_seconds",
			"Antigüedad del evento o entrega pendiente más antiguo, en segundos.", nil, nil),
	}
	// Every result exists from the start, at zero: an alert on the rate
	// of fallida sees the first one, not a series that begins at 1.
	for _, r := range []string{"entregada", "reintento", "fallida"} {
		m.webhook.WithLabelValues(r)
	}
	for _, c := range []prometheus.Collector{m.webhook, m.entregas, m} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metricas) intento(c entrega.Canal, result string) {
	if m == nil {
		return
	}
	if c == entrega.CanalWEBHOOK {
		m.webhook.WithLabelValues(result).Inc()
	}
	m.entregas.WithLabelValues(string(c), result).Inc()
}

// Describe implements prometheus.Collector.
func (m *Metricas) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.pending
	ch <- m.oldest
}

// Collect implements prometheus.Collector.
func (m *Metricas) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	p, oldest, err := Pendientes(ctx, m.db)
	if err != nil {
		return // a scrape during an outage shows the gauges missing, not zero
	}
	age := 0.0
	if !oldest.IsZero() {
		age = max(time.Since(oldest).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(m.pending, prometheus.GaugeValue, float64(p))
	ch <- prometheus.MustNewConstMetric(m.oldest, prometheus.GaugeValue, age)
}

// Pendientes counts what is still to go out (events not fanned out plus
// deliveries PENDIENTE) and returns the date of the oldest.
func Pendientes(ctx context.Context, db *database.DB) (int, time.Time, error) {
	var oldest time.Time
	evs := db.Client.OutboxEvento.Query().Where(outboxevento.DespachadoEnIsNil())
	n, err := evs.Clone().Count(ctx)
	if err != nil {
		return 0, oldest, err
	}
	if n > 0 {
		first, err := evs.Order(outboxevento.ByID()).First(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return 0, oldest, err
		}
		if first != nil {
			oldest = first.Fecha
		}
	}
	pend := db.Client.Entrega.Query().Where(entrega.EstadoEQ(entrega.EstadoPENDIENTE))
	k, err := pend.Clone().Count(ctx)
	if err != nil {
		return 0, oldest, err
	}
	if k > 0 {
		first, err := pend.Order(entrega.ByFecha()).First(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return 0, oldest, err
		}
		if first != nil && (oldest.IsZero() || first.Fecha.Before(oldest)) {
			oldest = first.Fecha
		}
	}
	return n + k, oldest, nil
}
