// Package despacho delivers the integration events the mutations record
// in the outbox (package eventos): to every subscribed webhook, to NATS
// JetStream when configured, and by e-mail on an approval. Run is the
// dispatcher; it runs inside `factoring serve` or as `factoring worker`,
// any number of replicas on one database.
//
// # How an event travels
//
//  1. The mutation's transaction writes an outbox_eventos row (Enqueue).
//  2. Fan-out: one replica at a time (the events are read FOR UPDATE on
//     PostgreSQL; SQLite has one writer anyway) reads the events not
//     fanned out yet in id order and writes one entregas row per destination: each active
//     webhook subscribed to the type, NATS, and the e-mail of an
//     operacion.aprobada.
//  3. Claim: a replica takes a batch of due deliveries (FOR UPDATE SKIP
//     LOCKED on PostgreSQL, so replicas never take the same one) and
//     leases them for a while. Only the oldest pending delivery of each
//     (destination, subject) can be taken, so one entity's events reach
//     one destination one at a time, in commit order, even across
//     replicas and retries.
//  4. Send, then record the attempt: ENTREGADA, or the next attempt with
//     exponential backoff and jitter, or FALLIDA once the retry window
//     (24 h) is spent. NATS deliveries never give up: events wait out any
//     outage.
//
// A replica that dies mid-send leaves its lease to expire; another replica
// then sends again. Delivery is therefore at least once: receivers
// deduplicate by event id (webhook-id, Nats-Msg-Id, Message-ID).
package despacho

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/robfig/cron/v3"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/entrega"
	"github.com/banpro/factoring/ent/outboxevento"
	"github.com/banpro/factoring/ent/webhook"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/eventos"
	"github.com/banpro/factoring/internal/webhooks"
)

// Canal sends one delivery. The Entrega comes with its outbox event
// (Edges.Outbox) and, for a webhook, the webhook (Edges.Webhook).
type Canal interface {
	Entregar(ctx context.Context, e *ent.Entrega) Intento
}

// Intento is the outcome of one attempt.
type Intento struct {
	Status   int // HTTP status, 0 when none
	Duracion time.Duration
	// Err is nil when delivered.
	Err error
	// RetryAfter is the receiver's own delay (429, 503), 0 when none.
	RetryAfter time.Duration
	// Permanente ends the delivery FALLIDA at once (an inactive webhook,
	// an invalid recipient): retrying cannot help.
	Permanente bool
}

// Reintentos is the retry schedule: the n-th retry waits Base·2^(n-1),
// capped at a quarter of Ventana, with equal jitter (between half and all
// of it); a delivery whose next attempt would fall beyond Ventana from the
// start of its series ends FALLIDA. NATS retries are capped at 12·Base
// (a minute by default) and never end.
type Reintentos struct {
	Base    time.Duration
	Ventana time.Duration
}

func (r Reintentos) tope(c entrega.Canal) time.Duration {
	t := r.Ventana / 4
	if c == entrega.CanalNATS {
		t = min(t, 12*r.Base)
	}
	return max(t, r.Base)
}

// Espera is how long to wait before attempt n+1 after n failed attempts.
func (r Reintentos) Espera(c entrega.Canal, n int, retryAfter time.Duration) time.Duration {
	tope := r.tope(c)
	d := r.Base
	for i := 1; i < n && d < tope; i++ {
		d *= 2
	}
	d = min(d, tope)
	d = d/2 + rand.N(d/2+1)
	if retryAfter > d {
		d = min(retryAfter, tope)
	}
	return d
}

// Opciones configure New. Canales maps each channel to its sender; a
// channel left out is neither fanned out nor claimed by this replica, so
// every replica must be configured alike.
type Opciones struct {
	Clock   clock.Clock
	Logger  *slog.Logger
	Replica string // default hostname-pid-random
	Canales map[entrega.Canal]Canal
	// Reintentos: zero fields take the defaults (5 s, 24 h).
	Reintentos Reintentos
	// Intervalo between looks for work when idle (default 1 s).
	Intervalo time.Duration
	// Concurrencia bounds the sends in flight (default 16); a claim takes
	// four times as many, so a batch of slow receivers (4 timeouts in a
	// row) still ends within the lease.
	Concurrencia int
	// Arriendo is how long a claim lasts; a replica that dies mid-send
	// holds its deliveries this long (default 2 min, at least 3 times the
	// longest attempt).
	Arriendo time.Duration
	// Tareas are the periodic jobs this replica takes part in.
	Tareas   []Tarea
	Metricas *Metricas
}

// Despachador is one dispatcher replica.
type Despachador struct {
	db           *database.DB
	clock        clock.Clock
	log          *slog.Logger
	id           string
	canales      map[entrega.Canal]Canal
	activos      []entrega.Canal
	reintentos   Reintentos
	intervalo    time.Duration
	concurrencia int
	lote         int
	arriendo     time.Duration
	tareas       []tareaProgramada
	metricas     *Metricas
}

// New returns a dispatcher over db.
func New(db *database.DB, o Opciones) (*Despachador, error) {
	d := &Despachador{
		db: db, clock: o.Clock, log: o.Logger, id: o.Replica, canales: o.Canales,
		reintentos: o.Reintentos, intervalo: o.Intervalo, concurrencia: o.Concurrencia,
		arriendo: o.Arriendo, metricas: o.Metricas,
	}
	if d.clock == nil {
		d.clock = clock.System{}
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	if d.id == "" {
		host, _ := os.Hostname()
		d.id = fmt.Sprintf("%s-%d-%04x", host, os.Getpid(), rand.N(1<<16))
	}
	if d.reintentos.Base <= 0 {
		d.reintentos.Base = DefaultRetryBase
	}
	if d.reintentos.Ventana <= 0 {
		d.reintentos.Ventana = DefaultRetryVentana
	}
	if d.intervalo <= 0 {
		d.intervalo = DefaultIntervalo
	}
	if d.concurrencia <= 0 {
		d.concurrencia = DefaultConcurrencia
	}
	if d.arriendo <= 0 {
		d.arriendo = 2 * time.Minute
	}
	d.lote = 4 * d.concurrencia
	for _, c := range []entrega.Canal{entrega.CanalWEBHOOK, entrega.CanalNATS, entrega.CanalEMAIL} {
		if d.canales[c] != nil {
			d.activos = append(d.activos, c)
		}
	}
	for _, t := range o.Tareas {
		s, err := cron.ParseStandard(t.Cron)
		if err != nil {
			return nil, fmt.Errorf("tarea %s: cron %q: %w", t.Nombre, t.Cron, err)
		}
		d.tareas = append(d.tareas, tareaProgramada{Tarea: t, sched: s})
	}
	return d, nil
}

// Replica is this dispatcher's name in claims and scheduled runs.
func (d *Despachador) Replica() string { return d.id }

// Run dispatches until ctx ends, then waits for the sends in flight (each
// bounded by its channel's timeout) to be recorded. Errors are logged and
// retried: a database or broker outage delays events, never loses them.
func (d *Despachador) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, t := range d.tareas {
		wg.Go(func() { d.programar(ctx, t) })
	}
	d.log.Info("despachador de eventos iniciado", "replica", d.id, "canales", d.activos)
	for {
		aviso := eventos.Aviso() // before the round: a commit during it wakes the next wait
		trabajo, err := d.Ciclo(ctx)
		if ctx.Err() != nil {
			d.log.Info("despachador de eventos detenido", "replica", d.id)
			return nil
		}
		if err != nil {
			d.log.Error("despachador de eventos", "replica", d.id, "error", err)
		}
		if trabajo && err == nil {
			continue
		}
		espera := d.intervalo
		if err == nil {
			espera = d.esperaHastaVencimiento(ctx)
		}
		t := time.NewTimer(espera)
		select {
		case <-ctx.Done():
			t.Stop()
			d.log.Info("despachador de eventos detenido", "replica", d.id)
			return nil
		case <-aviso:
		case <-t.C:
		}
		t.Stop()
	}
}

// Ciclo runs one round: fan out the events waiting, then claim, send and
// record one batch of due deliveries. It reports whether it found work.
// Tests drive a dispatcher with it; Run loops over it.
func (d *Despachador) Ciclo(ctx context.Context) (bool, error) {
	n, err := d.Distribuir(ctx)
	if err != nil {
		return false, err
	}
	m, err := d.Entregar(ctx)
	return n+m > 0, err
}

// maxDistribuir bounds the events one fan-out transaction handles.
const maxDistribuir = 500

// Distribuir fans out up to 500 waiting events into deliveries, in id
// order, and returns how many events it handled. Fan-out is serialized
// across replicas: on PostgreSQL the events are read FOR UPDATE in id
// order, so a second replica waits for the first to commit and then finds
// only later events (SQLite has one writer anyway). The deliveries of one
// subject are therefore created in the order of its events.
func (d *Despachador) Distribuir(ctx context.Context) (int, error) {
	var n int
	err := d.db.WithTx(ctx, func(tx *ent.Tx) error {
		n = 0
		q := tx.OutboxEvento.Query().
			Where(outboxevento.DespachadoEnIsNil()).
			Order(outboxevento.ByID()).
			Limit(maxDistribuir)
		evs, err := database.LockQueue(d.db.Dialect, q).All(ctx)
		if err != nil || len(evs) == 0 {
			return err
		}
		var whs []*ent.Webhook
		if d.canales[entrega.CanalWEBHOOK] != nil {
			if whs, err = tx.Webhook.Query().Where(webhook.Activo(true)).Order(webhook.ByID()).All(ctx); err != nil {
				return err
			}
		}
		now := d.clock.Now()
		var rows []*ent.EntregaCreate
		nueva := func(ev *ent.OutboxEvento, c entrega.Canal, destino string) *ent.EntregaCreate {
			return tx.Entrega.Create().
				SetEventoSeq(ev.ID).SetEventoID(ev.EventoID).SetTipo(ev.Tipo).SetSujeto(ev.Sujeto).
				SetCanal(c).SetDestino(destino).SetEstado(entrega.EstadoPENDIENTE).
				SetFecha(now).SetProximoIntento(now).SetReintentosDesde(now)
		}
		ids := make([]int, len(evs))
		for i, ev := range evs {
			ids[i] = ev.ID
			if d.canales[entrega.CanalNATS] != nil {
				rows = append(rows, nueva(ev, entrega.CanalNATS, "nats"))
			}
			if d.canales[entrega.CanalEMAIL] != nil && ev.Tipo == string(eventos.OperacionAprobada) {
				rows = append(rows, nueva(ev, entrega.CanalEMAIL, "email"))
			}
			for _, w := range whs {
				if webhooks.Acepta(w.Tipos, ev.Tipo) {
					rows = append(rows, nueva(ev, entrega.CanalWEBHOOK, "webhook:"+strconv.Itoa(w.ID)).SetWebhookID(w.ID))
				}
			}
		}
		for len(rows) > 0 {
			k := min(len(rows), 200) // well under both dialects' bind-variable limits
			if err := tx.Entrega.CreateBulk(rows[:k]...).Exec(ctx); err != nil {
				return fmt.Errorf("crear entregas: %w", err)
			}
			rows = rows[k:]
		}
		if err := tx.OutboxEvento.Update().Where(outboxevento.IDIn(ids...)).SetDespachadoEn(now).Exec(ctx); err != nil {
			return err
		}
		n = len(evs)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("distribuir eventos: %w", err)
	}
	return n, nil
}

// cabeza keeps the deliveries with no earlier PENDIENTE delivery of the
// same subject to the same destination: the head of each queue.
func cabeza(s *entsql.Selector) {
	prev := entsql.Table(entrega.Table).As("anterior")
	s.Where(entsql.NotExists(
		entsql.Select(prev.C(entrega.FieldID)).From(prev).Where(entsql.And(
			entsql.ColumnsEQ(prev.C(entrega.FieldDestino), s.C(entrega.FieldDestino)),
			entsql.ColumnsEQ(prev.C(entrega.FieldSujeto), s.C(entrega.FieldSujeto)),
			entsql.EQ(prev.C(entrega.FieldEstado), entrega.EstadoPENDIENTE),
			entsql.ColumnsLT(prev.C(entrega.FieldEventoSeq), s.C(entrega.FieldEventoSeq)),
		)),
	))
}

// reclamar leases a batch of due deliveries to this replica and returns
// them with their event and webhook.
func (d *Despachador) reclamar(ctx context.Context) ([]*ent.Entrega, error) {
	if len(d.activos) == 0 {
		return nil, nil
	}
	var out []*ent.Entrega
	err := d.db.WithTx(ctx, func(tx *ent.Tx) error {
		now := d.clock.Now()
		q := tx.Entrega.Query().
			Where(
				entrega.EstadoEQ(entrega.EstadoPENDIENTE),
				entrega.CanalIn(d.activos...),
				entrega.ProximoIntentoLTE(now),
				entrega.Or(entrega.ReclamadaHastaIsNil(), entrega.ReclamadaHastaLT(now)),
				cabeza,
			).
			Order(entrega.ByProximoIntento(), entrega.ByID()).
			Limit(d.lote)
		if d.db.Dialect == dialect.Postgres {
			q = q.ForUpdate(entsql.WithLockAction(entsql.SkipLocked))
		}
		ids, err := q.IDs(ctx)
		if err != nil || len(ids) == 0 {
			out = nil
			return err
		}
		if err := tx.Entrega.Update().Where(entrega.IDIn(ids...)).
			SetReclamadaHasta(now.Add(d.arriendo)).SetReclamadaPor(d.id).Exec(ctx); err != nil {
			return err
		}
		out, err = tx.Entrega.Query().Where(entrega.IDIn(ids...)).
			WithOutbox().WithWebhook().Order(entrega.ByID()).All(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reclamar entregas: %w", err)
	}
	return out, nil
}

// Entregar claims one batch of due deliveries, sends them (up to
// Concurrencia at once: each is the head of its own queue, so they are
// independent) and records each attempt. It returns the batch size.
func (d *Despachador) Entregar(ctx context.Context) (int, error) {
	lote, err := d.reclamar(ctx)
	if err != nil || len(lote) == 0 {
		return 0, err
	}
	// Sends outlive ctx: a shutdown lets the attempts in flight finish
	// (each bounded by its channel's timeout) and records them, rather
	// than leaving them to a lease to expire.
	sendCtx := context.WithoutCancel(ctx)
	sem := make(chan struct{}, d.concurrencia)
	var wg sync.WaitGroup
	for _, e := range lote {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			in := d.canales[e.Canal].Entregar(sendCtx, e)
			if err := d.registrar(sendCtx, e, in); err != nil {
				d.log.Error("registrar intento de entrega", "entrega", e.ID, "error", err)
			}
		})
	}
	wg.Wait()
	return len(lote), nil
}

// registrar records attempt in of e, if this replica still holds its claim.
func (d *Despachador) registrar(ctx context.Context, e *ent.Entrega, in Intento) error {
	now := d.clock.Now()
	up := d.db.Client.Entrega.Update().
		Where(entrega.ID(e.ID), entrega.ReclamadaPor(d.id), entrega.EstadoEQ(entrega.EstadoPENDIENTE)).
		AddIntento(1).
		SetIntentadoEn(now).
		SetDuracionMs(int(in.Duracion.Milliseconds())).
		ClearReclamadaHasta().
		ClearReclamadaPor()
	if in.Status > 0 {
		up.SetStatusHTTP(in.Status)
	} else {
		up.ClearStatusHTTP()
	}
	resultado := "entregada"
	if in.Err == nil {
		up.SetEstado(entrega.EstadoENTREGADA).ClearProximoIntento().ClearError()
	} else {
		up.SetError(truncar(in.Err.Error(), 1000))
		// The window counts from the series' first attempt, not from when
		// the delivery was queued: one stuck behind an earlier delivery of
		// its subject has not been tried yet.
		desde := e.ReintentosDesde
		if e.IntentadoEn == nil || e.IntentadoEn.Before(desde) {
			desde = now
			up.SetReintentosDesde(desde)
		}
		prox := now.Add(d.reintentos.Espera(e.Canal, e.Intento+1, in.RetryAfter))
		if in.Permanente || (e.Canal != entrega.CanalNATS && prox.After(desde.Add(d.reintentos.Ventana))) {
			up.SetEstado(entrega.EstadoFALLIDA).ClearProximoIntento()
			resultado = "fallida"
		} else {
			up.SetProximoIntento(prox)
			resultado = "reintento"
		}
	}
	n, err := up.Save(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		// The lease ran out and another replica took the delivery: it
		// sends again (at least once) and its outcome is the one kept.
		d.log.Warn("entrega reclamada por otra réplica tras vencer el arriendo", "entrega", e.ID)
		return nil
	}
	d.metricas.intento(e.Canal, resultado)
	log := d.log.Debug
	if in.Err != nil {
		log = d.log.Warn
	}
	log("intento de entrega", "entrega", e.ID, "evento", e.EventoID, "tipo", e.Tipo, "destino", e.Destino,
		"intento", e.Intento+1, "resultado", resultado, "status", in.Status, "error", errText(in.Err))
	return nil
}

// esperaHastaVencimiento is how long an idle dispatcher sleeps: the poll
// interval, or less when a retry falls due sooner.
func (d *Despachador) esperaHastaVencimiento(ctx context.Context) time.Duration {
	if len(d.activos) == 0 {
		return d.intervalo
	}
	next, err := d.db.Client.Entrega.Query().
		Where(entrega.EstadoEQ(entrega.EstadoPENDIENTE), entrega.CanalIn(d.activos...), entrega.ProximoIntentoNotNil()).
		Order(entrega.ByProximoIntento()).
		First(ctx)
	if err != nil || next.ProximoIntento == nil {
		return d.intervalo
	}
	wait := next.ProximoIntento.Sub(d.clock.Now())
	if wait <= 0 || wait > d.intervalo {
		return d.intervalo
	}
	return wait + time.Millisecond
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func truncar(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
