// Package suscripciones feeds GraphQL subscriptions (Subscription.eventos)
// with the integration events that committed, read from the outbox
// (outbox_eventos) that every mutation writes in its own transaction.
//
// One Hub per server process. While anyone is subscribed it runs one feed:
// on PostgreSQL a connection of its own LISTENs on the channel every
// transaction with events NOTIFYs at its commit (package eventos), so a
// commit made through any server process wakes the feed of every other;
// on SQLite the feed wakes when a transaction of this process commits
// (eventos.Aviso). Either way it then reads the rows it has not seen, in id
// order, and hands each event to the subscribers whose filter accepts it.
// Only committed rows are ever read, so an event is never seen before its
// transaction commits, and never if it rolls back.
//
// Order: outbox ids are taken at insert, so a transaction may commit a
// lower id after another committed a higher one. The feed remembers the
// ids it skipped over and looks for them again at every wake for a while
// (Config.Rezagados), so none is lost; events of one entity are enqueued
// under its row lock, so their ids grow in commit order and reach a
// subscriber in that order.
//
// Memory is bounded per subscriber: each has a buffer of Config.Buffer
// events. The feed hands events out half a buffer at a time and lets the
// subscribers catch up in between, so a burst reaches a consumer that
// reads at its own pace; a subscriber whose buffer stays more than half
// full for Config.Gracia (a consumer that does not read) is dropped, its
// stream ended with CodigoConsumidorLento, and no event is held for it.
//
// It imports neither GraphQL nor HTTP: the transports (internal/gqlserver)
// hand each subscription its stream's Sesion in the context, and the
// resolver (graph) calls Suscribir.
package suscripciones

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/eventos"
	"github.com/banpro/factoring/internal/gid"
)

// Evento is one committed integration event, as a subscriber receives it:
// the fields of its CloudEvents envelope. It is shared by every subscriber
// that receives it: read it, never change it.
type Evento struct {
	// Seq is the outbox row's id: the order of the feed.
	Seq       int
	ID        string
	Tipo      string
	Sujeto    string
	Fecha     time.Time
	RequestID string
	// Datos is the envelope's data (ids are global ids, amounts strings
	// with two decimals).
	Datos map[string]any

	clienteID, operacionID string
}

// parseEvento reads an outbox row's body, the envelope as it was enqueued.
func parseEvento(seq int, cuerpo string) (*Evento, error) {
	var sobre eventos.Sobre
	if err := json.Unmarshal([]byte(cuerpo), &sobre); err != nil {
		return nil, fmt.Errorf("evento %d: sobre: %w", seq, err)
	}
	dec := json.NewDecoder(strings.NewReader(string(sobre.Data)))
	dec.UseNumber()
	var datos map[string]any
	if err := dec.Decode(&datos); err != nil {
		return nil, fmt.Errorf("evento %d: data: %w", seq, err)
	}
	e := &Evento{
		Seq: seq, ID: sobre.ID, Tipo: string(sobre.Type), Sujeto: sobre.Subject,
		Fecha: sobre.Time, RequestID: sobre.RequestID, Datos: datos,
	}
	e.clienteID, _ = datos["cliente_id"].(string)
	e.operacionID, _ = datos["operacion_id"].(string)
	return e, nil
}

// Filtro chooses the events a subscription receives. Empty fields do not
// filter; given fields must all match.
type Filtro struct {
	// Tipos are event types of the catalogue; nil means every type.
	Tipos []string
	// ClienteID (a cliente's database id) keeps the events whose data
	// names that cliente (cliente_id): its own, and those of its facturas
	// and operaciones.
	ClienteID *int
	// OperacionID (an operación's database id) keeps that operación's
	// events.
	OperacionID *int
}

// maxTipos bounds Filtro.Tipos: far above the catalogue, so that a list of
// every type fits, repeated or not.
const maxTipos = 100

// filtro is a validated Filtro, ready to test events.
type filtro struct {
	tipos       map[string]bool // nil: every type
	clienteID   string          // global id; "" does not filter
	operacionID string
}

// compilar validates f: every type known, the ids of the right kind. It
// returns a VALIDATION_ERROR naming the argument to blame.
func (f Filtro) compilar() (filtro, error) {
	var out filtro
	if f.Tipos != nil {
		switch {
		case len(f.Tipos) == 0:
			return out, apperror.Invalid("tipos", "Indique al menos un tipo, u omita tipos para recibirlos todos.")
		case len(f.Tipos) > maxTipos:
			return out, apperror.Invalid("tipos", fmt.Sprintf("Indique a lo más %d tipos.", maxTipos))
		}
		out.tipos = make(map[string]bool, len(f.Tipos))
		var desconocidos []string
		for _, t := range f.Tipos {
			if !eventos.Valido(t) {
				desconocidos = append(desconocidos, fmt.Sprintf("%q", truncar(t, 64)))
				continue
			}
			out.tipos[t] = true
		}
		if len(desconocidos) > 0 {
			return out, apperror.Invalid("tipos", fmt.Sprintf("Tipo de evento desconocido: %s. Los tipos son: %s.",
				strings.Join(desconocidos, ", "), catalogo()))
		}
	}
	var err error
	if out.clienteID, err = idDe(f.ClienteID, "Cliente", "clienteId", "un cliente"); err != nil {
		return out, err
	}
	if out.operacionID, err = idDe(f.OperacionID, "Operacion", "operacionId", "una operación"); err != nil {
		return out, err
	}
	return out, nil
}

// idDe is id's global id when it is one of a tipo entity; nil is "".
func idDe(id *int, tipo, campo, nombre string) (string, error) {
	if id == nil {
		return "", nil
	}
	g := gid.Encode(*id)
	if _, t, ok := gid.Decode(g); !ok || t != tipo {
		return "", apperror.Invalid(campo, "No es el ID de "+nombre+".")
	}
	return g, nil
}

func catalogo() string {
	s := make([]string, len(eventos.Todos))
	for i, t := range eventos.Todos {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

func truncar(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// acepta reports whether e passes the filter.
func (f filtro) acepta(e *Evento) bool {
	return (f.tipos == nil || f.tipos[e.Tipo]) &&
		(f.clienteID == "" || f.clienteID == e.clienteID) &&
		(f.operacionID == "" || f.operacionID == e.operacionID)
}

// Close codes of a WebSocket stream that ends early, in the 4000–4999
// range the protocol leaves to applications, after HTTP's statuses where
// one fits (graphql-ws's own codes are the same where they overlap: 4400,
// 4401, 4408, 4429).
const (
	// CodigoSolicitudInvalida: a message the server cannot read (a
	// connection_init whose payload is no object, a message that is not
	// of the protocol, or not expected then).
	CodigoSolicitudInvalida = 4400
	// CodigoNoAutenticado: no token, an invalid one, or one that expired
	// (then during the connection too): get a new token and connect again.
	CodigoNoAutenticado = 4401
	// CodigoInicioVencido: no connection_init within the time allowed.
	CodigoInicioVencido = 4408
	// CodigoConsumidorLento: the client left more than half of its
	// buffer of events unread for too long (Config.Gracia); whatever it
	// shows may be stale: connect again and re-read it.
	CodigoConsumidorLento = 4413
	// CodigoDemasiadasConexiones: the token's subject has as many
	// subscription connections open as allowed.
	CodigoDemasiadasConexiones = 4429
	// CodigoApagado: the server is shutting down; connect again (to
	// another replica).
	CodigoApagado = 1001
)

// Cierre is why a stream ends before its client ends it: the WebSocket
// close code, and the error an SSE stream sends as its last event (its
// message is also the WebSocket close reason).
type Cierre struct {
	Codigo int
	Err    *apperror.Error
}

// ConsumidorLento is the Cierre of a subscriber dropped because it left
// its buffer of n events more than half full for too long.
func ConsumidorLento(n int) Cierre {
	return Cierre{Codigo: CodigoConsumidorLento, Err: apperror.Errorf(apperror.SubscriptionLimit,
		"Consumidor lento: más de %d eventos sin leer. Suscríbase de nuevo y relea el estado.", n/2)}
}

// Sesion is a subscription stream's transport (a WebSocket connection, an
// SSE response), as the hub sees it.
type Sesion interface {
	// Reservar takes one of the stream's subscription slots, or fails
	// with SUBSCRIPTION_LIMIT_EXCEEDED; liberar gives the slot back.
	Reservar() (liberar func(), err error)
	// Terminar ends the whole stream with c, at most once; later calls do
	// nothing.
	Terminar(c Cierre)
}

type sesionKey struct{}

// ConSesion returns ctx carrying s: the transports put their stream's
// session in the context every subscription of the stream runs under.
func ConSesion(ctx context.Context, s Sesion) context.Context {
	return context.WithValue(ctx, sesionKey{}, s)
}

// SesionDe returns the session in ctx, if any.
func SesionDe(ctx context.Context) Sesion {
	s, _ := ctx.Value(sesionKey{}).(Sesion)
	return s
}
