package suscripciones

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/database"
)

// Config tunes a Hub. Zero values take the defaults.
type Config struct {
	// Buffer is how many events may wait for one subscriber that has not
	// read them. The feed hands events out half a buffer at a time and
	// waits for subscribers that are behind; one whose buffer stays more
	// than half full for Gracia is dropped (ConsumidorLento). Default 256.
	Buffer int
	// Gracia is how long a subscriber may keep its buffer more than half
	// full before it is dropped. Default 2 s.
	Gracia time.Duration
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
	DefaultGracia    = 2 * time.Second
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

	mu      sync.Mutex
	subs    map[*suscriptor]struct{}
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
}

// maxEsperaInicio bounds how long Suscribir waits for a feed that starts
// (the database does not answer).
const maxEsperaInicio = 15 * time.Second

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
	if cfg.Gracia <= 0 {
		cfg.Gracia = DefaultGracia
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
	return &Hub{db: db, cfg: cfg, log: cfg.Logger, subs: map[*suscriptor]struct{}{}}
}

// Suscribir subscribes to the events f accepts: every one that commits
// once the subscription is in place (when Suscribir returns) is sent on
// the returned channel, in the order of the outbox, until ctx ends (the
// channel is then closed); one that committed while it was being set up
// may be sent too. A subscriber that keeps more than half of Config.Buffer
// events unread for Config.Gracia is dropped: its channel is closed and
// its stream's Sesion (in ctx) is ended with ConsumidorLento.
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
	s := &suscriptor{ch: make(chan *Evento, h.cfg.Buffer), filtro: fc, sesion: SesionDe(ctx), liberar: func() {}}
	if s.sesion != nil {
		if s.liberar, err = s.sesion.Reservar(); err != nil {
			return nil, err
		}
	}
	feed, err := h.agregar(s)
	if err != nil {
		s.liberar()
		return nil, err
	}
	// A feed that starts takes its watermark after it listens: what
	// commits after that reaches s, and Suscribir returns only then.
	t := time.NewTimer(maxEsperaInicio)
	defer t.Stop()
	select {
	case <-feed.listo:
		if feed.err != nil {
			h.quitar(s)
			return nil, feed.err
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

// agregar registers s, from now on handed every event the feed reads,
// and starts the feed if it is not running.
func (h *Hub) agregar(s *suscriptor) (*alimentador, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cerrado {
		return nil, apperror.Errorf(apperror.Unavailable, "El servidor se está apagando; suscríbase de nuevo en unos segundos.")
	}
	h.subs[s] = struct{}{}
	h.cfg.Activas.Inc()
	if h.feed == nil {
		h.feed = h.iniciar()
	}
	return h.feed, nil
}

// quitar unregisters s, if it still is, and closes its channel.
func (h *Hub) quitar(s *suscriptor) {
	h.mu.Lock()
	_, ok := h.subs[s]
	if ok {
		delete(h.subs, s)
		close(s.ch)
	}
	h.mu.Unlock()
	if ok {
		s.liberar()
		h.cfg.Activas.Dec()
	}
}

// entregar hands evs, in order, to every subscriber whose filter accepts
// them, in steps of half a buffer. After each step it lets the
// subscribers catch up: it waits while any buffer is more than half full,
// and drops those still so after Gracia (slow consumers). A subscriber
// that reads keeps up with any burst, at its own pace; one that stopped
// reading holds the feed up once, for Gracia.
func (h *Hub) entregar(ctx context.Context, evs []*Evento) {
	paso := max(1, h.cfg.Buffer/2)
	for len(evs) > 0 {
		n := min(paso, len(evs))
		h.repartir(evs[:n])
		evs = evs[n:]
		h.esperarConsumidores(ctx)
	}
}

// repartir sends evs to the subscribers that accept them; a buffer that
// is full (esperarConsumidores keeps them at most half full between steps,
// so only a buffer smaller than a step) drops its subscriber.
func (h *Hub) repartir(evs []*Evento) {
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
				caidos = append(caidos, h.soltarLocked(s))
			}
		}
	}
	h.mu.Unlock()
	h.lentos(caidos)
}

// esperarConsumidores waits while a subscriber's buffer is more than half
// full, up to Gracia; then drops those that still are.
func (h *Hub) esperarConsumidores(ctx context.Context) {
	mitad := h.cfg.Buffer / 2
	atrasados := func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		for s := range h.subs {
			if len(s.ch) > mitad {
				return true
			}
		}
		return false
	}
	if !atrasados() {
		return
	}
	limite := time.Now().Add(h.cfg.Gracia)
	pausa := 100 * time.Microsecond
	for time.Now().Before(limite) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(pausa):
		}
		if !atrasados() {
			return
		}
		pausa = min(2*pausa, 10*time.Millisecond)
	}
	var caidos []*suscriptor
	h.mu.Lock()
	for s := range h.subs {
		if len(s.ch) > mitad {
			caidos = append(caidos, h.soltarLocked(s))
		}
	}
	h.mu.Unlock()
	h.lentos(caidos)
}

// soltarLocked unregisters s and closes its channel; h.mu is held. The
// caller ends its stream (lentos).
func (h *Hub) soltarLocked(s *suscriptor) *suscriptor {
	delete(h.subs, s)
	close(s.ch)
	return s
}

// lentos ends the streams of subscribers dropped as slow consumers.
func (h *Hub) lentos(caidos []*suscriptor) {
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
	return len(h.subs)
}

// Cerrar stops the feed and closes every subscription (the server is
// shutting down): their streams end as their transports end them. Later
// subscriptions fail with SERVICE_UNAVAILABLE.
func (h *Hub) Cerrar() {
	h.mu.Lock()
	h.cerrado = true
	subs := h.subs
	h.subs = map[*suscriptor]struct{}{}
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
