package suscripciones

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/database"
)

// Config tunes a Hub. Zero values take the defaults.
type Config struct {
	// Buffer is how many events may wait for one subscriber that has not
	// read them; one more drops it (ConsumidorLento). Default 256.
	Buffer int
	// Activas counts the subscriptions open (factoring_subscriptions_active);
	// nil counts nothing.
	Activas Medidor
	Logger  *slog.Logger
	// Rezagados is how long the feed looks for an outbox id it skipped over
	// (a transaction that took its id before another and committed after
	// it, or one that rolled back): longer than any transaction that
	// enqueues events lasts. Default 2 min.
	Rezagados time.Duration
	// Sondeo is how often the feed reads the outbox without being woken:
	// a safety net for a lost notification. Default 5 s.
	Sondeo time.Duration
	// Espera is how long the feed keeps running after its last subscriber
	// left, so that a client that reconnects finds it running. Default 30 s.
	Espera time.Duration
}

// Defaults of Config.
const (
	DefaultBuffer    = 256
	DefaultRezagados = 2 * time.Minute
	DefaultSondeo    = 5 * time.Second
	DefaultEspera    = 30 * time.Second
)

// Medidor is a gauge (prometheus.Gauge is one).
type Medidor interface {
	Inc()
	Dec()
}

type sinMedidor struct{}

func (sinMedidor) Inc() {}
func (sinMedidor) Dec() {}

// Hub hands the events that commit to the subscriptions of this process.
// Its feed runs only while someone is subscribed (and Espera after).
type Hub struct {
	db  *database.DB
	cfg Config
	log *slog.Logger

	mu   sync.Mutex
	subs map[*suscriptor]struct{}
	// nuevos wait for the feed's next read: they are registered once it
	// has read everything committed before they arrived (see registrar).
	nuevos  []*suscriptor
	llegada chan struct{} // wakes the feed when one arrives
	feed    *alimentador
	cerrado bool
}

// suscriptor is one subscription: its buffer (the channel the resolver
// returns) and its filter.
type suscriptor struct {
	ch      chan *Evento
	filtro  filtro
	sesion  Sesion
	liberar func()
	// listo is closed when the subscriber is registered, or err says why
	// it will not be.
	listo chan struct{}
	err   error
}

// maxEsperaRegistro bounds how long Suscribir waits for the feed to
// register a subscriber (the database does not answer).
const maxEsperaRegistro = 15 * time.Second

// New builds the hub of db's events.
func New(db *database.DB, cfg Config) *Hub {
	if cfg.Buffer <= 0 {
		cfg.Buffer = DefaultBuffer
	}
	if cfg.Activas == nil {
		cfg.Activas = sinMedidor{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Rezagados <= 0 {
		cfg.Rezagados = DefaultRezagados
	}
	if cfg.Sondeo <= 0 {
		cfg.Sondeo = DefaultSondeo
	}
	if cfg.Espera <= 0 {
		cfg.Espera = DefaultEspera
	}
	return &Hub{db: db, cfg: cfg, log: cfg.Logger, subs: map[*suscriptor]struct{}{}, llegada: make(chan struct{}, 1)}
}

// Suscribir subscribes to the events f accepts that commit from now on:
// every one of them, and none that committed before the call, is sent on
// the returned channel, in the order of the outbox, until ctx ends (the
// channel is then closed). A subscriber that leaves Config.Buffer events
// unread is dropped: its channel is closed and its stream's Sesion (in
// ctx) is ended with ConsumidorLento.
//
// Errors: VALIDATION_ERROR (a filter that names an unknown type, or an id
// of the wrong kind; fields tipos, clienteId, operacionId),
// SUBSCRIPTION_LIMIT_EXCEEDED (the stream's session has no slot left),
// SERVICE_UNAVAILABLE (the feed cannot reach the database, or the server
// is shutting down).
func (h *Hub) Suscribir(ctx context.Context, f Filtro) (<-chan *Evento, error) {
	fc, err := f.compilar()
	if err != nil {
		return nil, err
	}
	s := &suscriptor{ch: make(chan *Evento, h.cfg.Buffer), filtro: fc, sesion: SesionDe(ctx), liberar: func() {},
		listo: make(chan struct{})}
	if s.sesion != nil {
		if s.liberar, err = s.sesion.Reservar(); err != nil {
			return nil, err
		}
	}
	if err := h.agregar(s); err != nil {
		s.liberar()
		return nil, err
	}
	t := time.NewTimer(maxEsperaRegistro)
	defer t.Stop()
	select {
	case <-s.listo:
		if s.err != nil {
			return nil, s.err // rechazarNuevos unregistered it
		}
	case <-ctx.Done():
		h.quitar(s)
		return nil, ctx.Err()
	case <-t.C:
		h.quitar(s)
		return nil, apperror.Errorf(apperror.Unavailable, "No se pudo iniciar la suscripción; reintente en unos segundos.")
	}
	context.AfterFunc(ctx, func() { h.quitar(s) })
	return s.ch, nil
}

// agregar queues s for the feed's next read and starts the feed if it is
// not running.
func (h *Hub) agregar(s *suscriptor) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cerrado {
		return apperror.Errorf(apperror.Unavailable, "El servidor se está apagando; suscríbase de nuevo en unos segundos.")
	}
	h.nuevos = append(h.nuevos, s)
	h.cfg.Activas.Inc()
	if h.feed == nil {
		h.feed = h.iniciar()
	}
	select {
	case h.llegada <- struct{}{}:
	default:
	}
	return nil
}

// tomarNuevos returns the subscribers waiting now: the feed's read that
// starts next will register them (registrar).
func (h *Hub) tomarNuevos() []*suscriptor {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.nuevos)
}

// registrar registers subs, taken by tomarNuevos before a read whose
// results were all handed out: every event committed before they arrived
// went to the subscribers of before, and every later one goes to them too.
func (h *Hub) registrar(subs []*suscriptor) {
	if len(subs) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range subs {
		i := slices.Index(h.nuevos, s)
		if i < 0 {
			continue // left meanwhile
		}
		h.nuevos = slices.Delete(h.nuevos, i, i+1)
		h.subs[s] = struct{}{}
		close(s.listo)
	}
}

// rechazarNuevosLocked fails every subscriber waiting with err (the feed
// could not start; the server shuts down) and unregisters it. h.mu is
// held.
func (h *Hub) rechazarNuevosLocked(err error) {
	for _, s := range h.nuevos {
		s.err = err
		close(s.listo)
		close(s.ch)
		s.liberar()
		h.cfg.Activas.Dec()
	}
	h.nuevos = nil
}

// quitar unregisters s, if it still is, and closes its channel.
func (h *Hub) quitar(s *suscriptor) {
	h.mu.Lock()
	_, ok := h.subs[s]
	if ok {
		delete(h.subs, s)
		close(s.ch)
	} else if i := slices.Index(h.nuevos, s); i >= 0 {
		h.nuevos = slices.Delete(h.nuevos, i, i+1)
		close(s.ch)
		ok = true
	}
	h.mu.Unlock()
	if ok {
		s.liberar()
		h.cfg.Activas.Dec()
	}
}

// entregar hands evs, in order, to every subscriber whose filter accepts
// them, and drops those whose buffer is full.
func (h *Hub) entregar(evs []*Evento) {
	if len(evs) == 0 {
		return
	}
	var caidos []*suscriptor
	h.mu.Lock()
	for _, e := range evs {
		for s := range h.subs {
			if !s.filtro.acepta(e) {
				continue
			}
			select {
			case s.ch <- e:
			default:
				delete(h.subs, s)
				close(s.ch)
				caidos = append(caidos, s)
			}
		}
	}
	h.mu.Unlock()
	for _, s := range caidos {
		s.liberar()
		h.cfg.Activas.Dec()
		h.log.Warn("suscripción cerrada: consumidor lento", "buffer", h.cfg.Buffer)
		if s.sesion != nil {
			s.sesion.Terminar(ConsumidorLento(h.cfg.Buffer))
		}
	}
}

// Activas is how many subscriptions are open on this hub.
func (h *Hub) Activas() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs) + len(h.nuevos)
}

// Cerrar stops the feed and closes every subscription (the server is
// shutting down): their streams end as their transports end them. Later
// subscriptions fail with SERVICE_UNAVAILABLE.
func (h *Hub) Cerrar() {
	h.mu.Lock()
	h.cerrado = true
	subs := h.subs
	h.subs = map[*suscriptor]struct{}{}
	h.rechazarNuevosLocked(apperror.Errorf(apperror.Unavailable, "El servidor se está apagando; suscríbase de nuevo en unos segundos."))
	for s := range subs {
		close(s.ch)
	}
	feed := h.feed
	h.feed = nil
	h.mu.Unlock()
	for s := range subs {
		s.liberar()
		h.cfg.Activas.Dec()
	}
	if feed != nil {
		feed.cancel()
		<-feed.hecho
	}
}
