package suscripciones

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"entgo.io/ent/dialect"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/migrate"
	"github.com/banpro/factoring/ent/outboxevento"
	"github.com/banpro/factoring/ent/predicate"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/eventos"
)

// lote bounds the outbox rows one read takes; a full batch is followed
// by another read at once.
const lote = 500

// ventanaInicial is how many ids below the newest the feed, when it
// starts, checks for rows not committed yet (see marcaInicial).
const ventanaInicial = 1000

// maxHuecos bounds the ranges of skipped ids the feed looks for one by
// one; past it, it reads from the lowest to the highest at once and
// leaves out the rows it already had.
const maxHuecos = 64

// alimentador is the hub's feed: one goroutine that waits for commits and
// reads the outbox rows it has not seen.
type alimentador struct {
	h      *Hub
	listo  chan struct{} // closed once listening and the watermark is known
	err    error         // why it could not start (read after listo)
	cancel context.CancelFunc
	hecho  chan struct{}

	// Owned by run's goroutine.
	visto      int     // the highest outbox id read
	huecos     []hueco // ids below visto not read yet, ascending
	vacioDesde time.Time
}

// hueco is a run of outbox ids skipped over: taken by transactions that
// had not committed when a higher id was read (or that rolled back).
type hueco struct {
	desde, hasta int // inclusive
	visto        time.Time
}

func (h *Hub) iniciar() *alimentador {
	ctx, cancel := context.WithCancel(context.Background())
	a := &alimentador{h: h, listo: make(chan struct{}), cancel: cancel, hecho: make(chan struct{})}
	go a.run(ctx)
	return a
}

// fuente wakes the feed when events commit.
type fuente interface {
	// iniciar starts listening: every commit after it returns is signalled.
	iniciar(ctx context.Context) error
	// senal is the channel of the next wake-up, taken before each read so
	// that a commit during the read wakes the next wait.
	senal() <-chan struct{}
	// fallo reports a lost listener (then iniciar again).
	fallo() <-chan error
	cerrar()
}

func (a *alimentador) run(ctx context.Context) {
	defer close(a.hecho)
	log := a.h.log
	var f fuente = avisoLocal{}
	if a.h.db.Dialect == dialect.Postgres {
		f = newEscucha(a.h.db)
	}
	defer f.cerrar()
	err := f.iniciar(ctx)
	if err == nil {
		err = a.marcaInicial(ctx)
	}
	if err != nil {
		log.Error("suscripciones: no se pudo iniciar la lectura de eventos", "error", err.Error())
		a.h.mu.Lock()
		a.err = apperror.Errorf(apperror.Unavailable, "No se pudo iniciar la suscripción; reintente en unos segundos.").WithCause(err)
		if a.h.feed == a {
			a.h.feed = nil
		}
		a.h.mu.Unlock()
		close(a.listo)
		return
	}
	close(a.listo)
	log.Info("suscripciones: lectura de eventos iniciada", "dialecto", a.h.db.Dialect, "desde", a.visto)
	defer log.Info("suscripciones: lectura de eventos detenida")
	espera := a.h.cfg.Sondeo
	t := time.NewTimer(espera)
	defer t.Stop()
	for {
		senal := f.senal()
		if err := a.leer(ctx); err != nil && ctx.Err() == nil {
			log.Warn("suscripciones: leer eventos", "error", err.Error())
		}
		if a.ocioso(false) {
			return
		}
		t.Reset(espera)
		select {
		case <-ctx.Done():
			return
		case <-senal:
		case <-t.C:
		case err := <-f.fallo():
			log.Warn("suscripciones: se perdió la conexión que escucha los eventos; reconectando", "error", err.Error())
			if !a.reconectar(ctx, f) {
				return
			}
		}
	}
}

// reconectar starts f again, with backoff, until it listens (true) or
// the feed has no reason to run (false). The read that follows catches up
// on whatever committed meanwhile.
func (a *alimentador) reconectar(ctx context.Context, f fuente) bool {
	pausa := 100 * time.Millisecond
	for {
		if a.ocioso(true) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(pausa):
		}
		err := f.iniciar(ctx)
		if err == nil {
			a.h.log.Info("suscripciones: escucha de eventos restablecida")
			return true
		}
		a.h.log.Warn("suscripciones: reconectar la escucha de eventos", "error", err.Error(), "pausa", pausa.String())
		pausa = min(2*pausa, 5*time.Second)
	}
}

// ocioso reports, and then records, that the feed should stop: no
// subscriber for Espera (at once when ahora is true: a feed that lost its
// database does not wait to reconnect for no one).
func (a *alimentador) ocioso(ahora bool) bool {
	h := a.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.feed != a {
		return true // Cerrar took it down
	}
	if len(h.subs) > 0 {
		a.vacioDesde = time.Time{}
		return false
	}
	if a.vacioDesde.IsZero() {
		a.vacioDesde = time.Now()
	}
	if ahora || time.Since(a.vacioDesde) >= h.cfg.Espera {
		h.feed = nil
		return true
	}
	return false
}

// marcaInicial sets the watermark at the newest committed row, and marks
// as skipped the ids below it, within ventanaInicial, that are not there:
// a transaction that took one of them may still commit.
func (a *alimentador) marcaInicial(ctx context.Context) error {
	ids, err := a.h.db.Client.OutboxEvento.Query().Order(ent.Desc(outboxevento.FieldID)).Limit(ventanaInicial).IDs(ctx)
	if err != nil {
		return fmt.Errorf("leer el último evento: %w", err)
	}
	if len(ids) == 0 {
		// A new table: its ids start right above its global id range's
		// start, and the first ones may still be in flight.
		if start := migrate.OutboxEventosTable.Annotation; start != nil && start.IncrementStart != nil {
			a.visto = *start.IncrementStart
		}
		return nil
	}
	slices.Reverse(ids)
	a.visto = ids[len(ids)-1]
	now := time.Now()
	for i := 1; i < len(ids); i++ {
		if ids[i] > ids[i-1]+1 {
			a.huecos = append(a.huecos, hueco{ids[i-1] + 1, ids[i] - 1, now})
		}
	}
	return nil
}

// leer reads the rows above the watermark and those skipped over, in id
// order, and hands the new ones to the hub.
func (a *alimentador) leer(ctx context.Context) error {
	a.expirar(time.Now())
	for {
		q := a.h.db.Client.OutboxEvento.Query().
			Where(a.pendientes()).
			Order(ent.Asc(outboxevento.FieldID)).
			Limit(lote).
			Select(outboxevento.FieldID, outboxevento.FieldCuerpo)
		rows, err := q.All(ctx)
		if err != nil {
			return err
		}
		now := time.Now()
		evs := make([]*Evento, 0, len(rows))
		for _, r := range rows {
			if !a.marcar(r.ID, now) {
				continue // already read: a read that spans several huecos
			}
			e, err := parseEvento(r.ID, r.Cuerpo)
			if err != nil {
				a.h.log.Error("suscripciones: evento ilegible", "id", r.ID, "error", err.Error())
				continue
			}
			evs = append(evs, e)
		}
		a.h.entregar(ctx, evs)
		if len(rows) < lote {
			return nil
		}
	}
}

// pendientes is the predicate of the rows not read yet: above the
// watermark, or in a hueco (when there are too many, every id from the
// lowest hueco up: marcar leaves out the rows read before).
func (a *alimentador) pendientes() predicate.OutboxEvento {
	preds := []predicate.OutboxEvento{outboxevento.IDGT(a.visto)}
	switch {
	case len(a.huecos) > maxHuecos:
		preds = append(preds, outboxevento.IDGTE(a.huecos[0].desde))
	default:
		for _, g := range a.huecos {
			preds = append(preds, outboxevento.And(outboxevento.IDGTE(g.desde), outboxevento.IDLTE(g.hasta)))
		}
	}
	return outboxevento.Or(preds...)
}

// marcar records that row id was read, and reports whether it is new.
// Ids skipped between the watermark and id become a hueco.
func (a *alimentador) marcar(id int, now time.Time) bool {
	if id > a.visto {
		if id > a.visto+1 && a.visto > 0 {
			a.huecos = append(a.huecos, hueco{a.visto + 1, id - 1, now})
		}
		a.visto = id
		return true
	}
	i := sort.Search(len(a.huecos), func(i int) bool { return a.huecos[i].hasta >= id })
	if i == len(a.huecos) || a.huecos[i].desde > id {
		return false
	}
	g := a.huecos[i]
	switch {
	case g.desde == id && g.hasta == id:
		a.huecos = slices.Delete(a.huecos, i, i+1)
	case g.desde == id:
		a.huecos[i].desde++
	case g.hasta == id:
		a.huecos[i].hasta--
	default:
		a.huecos[i].hasta = id - 1
		a.huecos = slices.Insert(a.huecos, i+1, hueco{id + 1, g.hasta, g.visto})
	}
	return true
}

// expirar forgets the huecos older than Rezagados: no transaction that
// enqueues events stays open that long, so theirs rolled back.
func (a *alimentador) expirar(now time.Time) {
	limite := now.Add(-a.h.cfg.Rezagados)
	a.huecos = slices.DeleteFunc(a.huecos, func(g hueco) bool { return g.visto.Before(limite) })
}

// avisoLocal wakes the feed when a transaction of this process commits
// events (SQLite: one process writes the database file).
type avisoLocal struct{}

func (avisoLocal) iniciar(context.Context) error { return nil }
func (avisoLocal) senal() <-chan struct{}        { return eventos.Aviso() }
func (avisoLocal) fallo() <-chan error           { return nil }
func (avisoLocal) cerrar()                       {}

// escucha holds a connection of the pool that LISTENs on the channel on
// which every transaction with events NOTIFYs at its commit, from any
// server process.
type escucha struct {
	db        *database.DB
	despierta chan struct{} // one wake-up waiting at most: notifications coalesce
	fallos    chan error
	detener   context.CancelFunc
	hecho     chan struct{}
}

func newEscucha(db *database.DB) *escucha {
	return &escucha{db: db, despierta: make(chan struct{}, 1), fallos: make(chan error, 1)}
}

func (e *escucha) senal() <-chan struct{} { return e.despierta }
func (e *escucha) fallo() <-chan error    { return e.fallos }

// iniciar takes a connection, LISTENs on it and waits for notifications
// on it in a goroutine of its own until it fails or cerrar.
func (e *escucha) iniciar(ctx context.Context) error {
	e.cerrar()
	ctx, cancel := context.WithCancel(ctx)
	conn, err := e.db.SQL.Conn(ctx)
	if err != nil {
		cancel()
		return fmt.Errorf("tomar una conexión para LISTEN: %w", err)
	}
	escuchando := make(chan error, 1)
	hecho := make(chan struct{})
	e.detener, e.hecho = cancel, hecho
	go func() {
		defer close(hecho)
		defer conn.Close()
		var iniciado bool
		var errListen error
		err := conn.Raw(func(dc any) error {
			sc, ok := dc.(*stdlib.Conn)
			if !ok {
				return fmt.Errorf("la conexión %T no es de pgx", dc)
			}
			pc := sc.Conn()
			if _, err := pc.Exec(ctx, "LISTEN "+eventos.CanalNotificacion); err != nil {
				errListen = err
				return driver.ErrBadConn
			}
			iniciado = true
			escuchando <- nil
			for {
				if _, err := pc.WaitForNotification(ctx); err != nil {
					if ctx.Err() == nil {
						select {
						case e.fallos <- err:
						default:
						}
					}
					// The connection may be half-read or closed: never back
					// to the pool, which would hand it out still listening.
					return driver.ErrBadConn
				}
				select {
				case e.despierta <- struct{}{}:
				default:
				}
			}
		})
		if !iniciado {
			switch {
			case errListen != nil:
				err = errListen
			case err == nil:
				err = errors.New("la conexión se cerró antes de escuchar")
			}
			escuchando <- err
		}
	}()
	if err := <-escuchando; err != nil {
		cancel()
		<-hecho
		return fmt.Errorf("LISTEN %s: %w", eventos.CanalNotificacion, err)
	}
	return nil
}

// cerrar stops listening and gives the connection up.
func (e *escucha) cerrar() {
	if e.detener != nil {
		e.detener()
		<-e.hecho
		e.detener, e.hecho = nil, nil
	}
	select { // a failure of the connection given up is old news
	case <-e.fallos:
	default:
	}
}
