package gqlserver

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/suscripciones"
)

// StreamLimits bound the subscription streams of one server process.
type StreamLimits struct {
	// SubscriptionsPerConnection is how many subscriptions one WebSocket
	// connection may hold at once; one more is refused with
	// SUBSCRIPTION_LIMIT_EXCEEDED (the connection stays). An SSE response
	// carries one. Default 20.
	SubscriptionsPerConnection int
	// ConnectionsPerSubject is how many streams (WebSocket connections and
	// SSE responses) one token subject may hold open; one more is refused:
	// closed with 4429, or HTTP 429 over SSE. Default 10.
	ConnectionsPerSubject int
}

// DefaultStreamLimits are the limits of a zero StreamLimits.
var DefaultStreamLimits = StreamLimits{SubscriptionsPerConnection: 20, ConnectionsPerSubject: 10}

func (l StreamLimits) orDefaults() StreamLimits {
	if l.SubscriptionsPerConnection <= 0 {
		l.SubscriptionsPerConnection = DefaultStreamLimits.SubscriptionsPerConnection
	}
	if l.ConnectionsPerSubject <= 0 {
		l.ConnectionsPerSubject = DefaultStreamLimits.ConnectionsPerSubject
	}
	return l
}

// Timing of the streams (variables so that tests can shorten them).
var (
	// keepAlive is how often a stream with nothing to say shows it is
	// alive: a WebSocket ping (the client must answer with a pong within
	// two intervals, or the connection is closed), an SSE comment line.
	keepAlive = 15 * time.Second
	// initTimeout is how long a WebSocket connection may take to send
	// connection_init (then 4408).
	initTimeout = 10 * time.Second
	// writeTimeout bounds one write to a stream: a client that does not
	// read for that long (its TCP window full) loses its connection.
	writeTimeout = 10 * time.Second
)

// TokenVerifier checks a bearer token (auth.Verifier in production).
type TokenVerifier interface {
	Verify(token string) (auth.Principal, error)
}

// streams is the process's registry of subscription streams: who holds
// how many, to enforce ConnectionsPerSubject and to end them all when the
// server shuts down.
type streams struct {
	limits StreamLimits
	log    *slog.Logger

	mu        sync.Mutex
	porSujeto map[string]int
	sesiones  map[*sesion]struct{}
	cerrado   bool
}

func newStreams(l StreamLimits, log *slog.Logger) *streams {
	return &streams{limits: l.orDefaults(), log: log, porSujeto: map[string]int{}, sesiones: map[*sesion]struct{}{}}
}

// abrir registers s under its subject, or refuses it: the subject holds
// as many streams as allowed (SUBSCRIPTION_LIMIT_EXCEEDED), or the server
// is shutting down (SERVICE_UNAVAILABLE).
func (r *streams) abrir(s *sesion) *apperror.Error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cerrado {
		return apperror.Errorf(apperror.Unavailable, "El servidor se está apagando; vuelva a conectarse en unos segundos.")
	}
	if r.porSujeto[s.sujeto] >= r.limits.ConnectionsPerSubject {
		return apperror.Errorf(apperror.SubscriptionLimit,
			"Ya tiene %d conexiones de suscripción abiertas, el máximo: cierre alguna.", r.limits.ConnectionsPerSubject)
	}
	r.porSujeto[s.sujeto]++
	r.sesiones[s] = struct{}{}
	return nil
}

// cerrar unregisters s, if it was registered, and stops its timer.
func (r *streams) cerrar(s *sesion) {
	s.detener()
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.sesiones[s]; !ok {
		return
	}
	delete(r.sesiones, s)
	if r.porSujeto[s.sujeto]--; r.porSujeto[s.sujeto] <= 0 {
		delete(r.porSujeto, s.sujeto)
	}
}

// terminarTodas refuses new streams and ends those open with c (the server
// is shutting down), then waits up to espera for their handlers to return.
func (r *streams) terminarTodas(c suscripciones.Cierre, espera time.Duration) {
	r.mu.Lock()
	r.cerrado = true
	todas := make([]*sesion, 0, len(r.sesiones))
	for s := range r.sesiones {
		todas = append(todas, s)
	}
	r.mu.Unlock()
	for _, s := range todas {
		s.Terminar(c)
	}
	limite := time.After(espera)
	for _, s := range todas {
		select {
		case <-s.hecha:
		case <-limite:
			return
		}
	}
}

// sesion is one stream (a WebSocket connection, an SSE response) as the
// hub and the registry see it: its subject, its subscription slots and how
// to end it.
type sesion struct {
	sujeto  string
	maxSubs int32
	subs    atomic.Int32

	once     sync.Once
	cierre   atomic.Pointer[suscripciones.Cierre]
	terminar func(suscripciones.Cierre) // the transport's way to end it

	mu    sync.Mutex
	timer *time.Timer // the token's expiry
	hecha chan struct{}
}

var _ suscripciones.Sesion = (*sesion)(nil)

func newSesion(sujeto string, maxSubs int, terminar func(suscripciones.Cierre)) *sesion {
	return &sesion{sujeto: sujeto, maxSubs: int32(maxSubs), terminar: terminar, hecha: make(chan struct{})}
}

// Reservar implements suscripciones.Sesion.
func (s *sesion) Reservar() (func(), error) {
	if n := s.subs.Add(1); n > s.maxSubs {
		s.subs.Add(-1)
		return nil, apperror.Errorf(apperror.SubscriptionLimit,
			"Esta conexión ya tiene %d suscripciones, el máximo: termine alguna o abra otra conexión.", s.maxSubs)
	}
	var once sync.Once
	return func() { once.Do(func() { s.subs.Add(-1) }) }, nil
}

// Terminar implements suscripciones.Sesion.
func (s *sesion) Terminar(c suscripciones.Cierre) {
	s.once.Do(func() {
		s.cierre.Store(&c)
		s.terminar(c)
	})
}

// motivo is why the stream was ended, nil when it was not.
func (s *sesion) motivo() *suscripciones.Cierre { return s.cierre.Load() }

// vencer ends the stream with 4401 when the token stops being accepted
// (zero: a stream no token stands behind, authentication off).
func (s *sesion) vencer(vence time.Time) {
	if vence.IsZero() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timer = time.AfterFunc(time.Until(vence), func() { s.Terminar(tokenVencido()) })
}

func (s *sesion) detener() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.timer != nil {
		s.timer.Stop()
	}
}

func tokenVencido() suscripciones.Cierre {
	return suscripciones.Cierre{Codigo: suscripciones.CodigoNoAutenticado,
		Err: apperror.Unauthenticatedf("El token venció: obtenga uno nuevo y vuelva a suscribirse.")}
}

func apagando() suscripciones.Cierre {
	return suscripciones.Cierre{Codigo: suscripciones.CodigoApagado,
		Err: apperror.Errorf(apperror.Unavailable, "El servidor se está apagando: vuelva a conectarse.")}
}

// razon is msg as a WebSocket close reason: at most 123 bytes (a control
// frame's payload is 125, two of them the code), cut at a character.
func razon(msg string) string {
	const max = 123
	if len(msg) <= max {
		return msg
	}
	cut := max - len("…")
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + "…"
}

// enStream marks the context of an operation that arrived on a stream
// (WebSocket or SSE).
type enStreamKey struct{}

func conStream(ctx context.Context) context.Context {
	return context.WithValue(ctx, enStreamKey{}, true)
}

func esStream(ctx context.Context) bool {
	v, _ := ctx.Value(enStreamKey{}).(bool)
	return v
}

// streamPolicy sends each kind of operation its way, before anything
// runs: subscriptions over a stream (WebSocket or SSE), queries and
// mutations over plain POST or GET, where each has its deadline, its
// request id, its HTTP status and (mutations) its Idempotency-Key.
type streamPolicy struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = streamPolicy{}

func (streamPolicy) ExtensionName() string                   { return "StreamPolicy" }
func (streamPolicy) Validate(graphql.ExecutableSchema) error { return nil }

func (streamPolicy) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	sub := oc.Operation.Operation == ast.Subscription
	switch stream := esStream(ctx); {
	case sub && !stream:
		return requestError(apperror.Validationf(
			"Las suscripciones se reciben por WebSocket (protocolo graphql-transport-ws) o por SSE (Accept: text/event-stream) en /graphql."), nil)
	case !sub && stream:
		return requestError(apperror.Validationf(
			"Por WebSocket y SSE solo se reciben suscripciones: envíe consultas y mutaciones por POST /graphql."), nil)
	}
	return nil
}
