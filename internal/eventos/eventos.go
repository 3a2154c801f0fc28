// Package eventos is the outbox side of the integration events: the closed
// catalogue of event types, the CloudEvents 1.0 envelope every consumer
// (NATS, webhooks, e-mail) receives, and Enqueue, which records events in
// the caller's transaction so that an event exists exactly when its change
// committed.
//
// Delivery is package despacho's job. The order it keeps is the order of
// the outbox ids per subject, which is commit order as long as a mutation
// enqueues while it holds the row lock of the entity the event is about
// (every domain mutation locks its rows first; see Enqueue).
package eventos

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/requestid"
)

// Tipo is an event type of the catalogue, "<entity>.<what happened>".
type Tipo string

// The catalogue. It is closed: Enqueue refuses any other type, and webhook
// subscriptions may name only these (or "*").
const (
	ClienteCreado        Tipo = "cliente.creado"
	ClienteActualizado   Tipo = "cliente.actualizado"
	ClienteActivado      Tipo = "cliente.activado"
	ClienteSuspendido    Tipo = "cliente.suspendido"
	ClienteBloqueado     Tipo = "cliente.bloqueado"
	ClienteLineaAjustada Tipo = "cliente.linea_ajustada"
	// ClienteConcentracionFijada: its concentracionMaxima changed.
	ClienteConcentracionFijada Tipo = "cliente.concentracion_fijada"

	FacturaRegistrada Tipo = "factura.registrada"
	// FacturaAcuseRegistrado: its deudor accepted it or claimed against it.
	FacturaAcuseRegistrado Tipo = "factura.acuse_registrado"
	FacturaPagada          Tipo = "factura.pagada"
	FacturaAnulada         Tipo = "factura.anulada"
	FacturaVencida         Tipo = "factura.vencida"
	// Collections: a payment that leaves a saldo (the one that covers it is
	// factura.pagada), and the recourse's steps.
	FacturaPagoRegistrado     Tipo = "factura.pago_registrado"
	FacturaRecompraExigida    Tipo = "factura.recompra_exigida"
	FacturaRecompraRegistrada Tipo = "factura.recompra_registrada"
	FacturaRecompraCompensada Tipo = "factura.recompra_compensada"

	OperacionCreada       Tipo = "operacion.creada"
	OperacionAprobada     Tipo = "operacion.aprobada"
	OperacionRechazada    Tipo = "operacion.rechazada"
	OperacionDesembolsada Tipo = "operacion.desembolsada"
	OperacionFinalizada   Tipo = "operacion.finalizada"

	DeudorCreado      Tipo = "deudor.creado"
	DeudorActualizado Tipo = "deudor.actualizado"
	// DeudorLineaFijada: its lineaExposicion was set or removed.
	DeudorLineaFijada Tipo = "deudor.linea_fijada"
	DeudorBloqueado   Tipo = "deudor.bloqueado"
	DeudorActivado    Tipo = "deudor.activado"
)

// Todos is the catalogue in a stable order.
var Todos = []Tipo{
	ClienteCreado, ClienteActualizado, ClienteActivado, ClienteSuspendido, ClienteBloqueado, ClienteLineaAjustada,
	ClienteConcentracionFijada,
	FacturaRegistrada, FacturaAcuseRegistrado, FacturaPagada, FacturaAnulada, FacturaVencida,
	FacturaPagoRegistrado, FacturaRecompraExigida, FacturaRecompraRegistrada, FacturaRecompraCompensada,
	OperacionCreada, OperacionAprobada, OperacionRechazada, OperacionDesembolsada, OperacionFinalizada,
	DeudorCreado, DeudorActualizado, DeudorLineaFijada, DeudorBloqueado, DeudorActivado,
}

// Comodin subscribes a webhook to every type.
const Comodin = "*"

// Valido reports whether s names a type of the catalogue.
func Valido(s string) bool { return slices.Contains(Todos, Tipo(s)) }

// Source is the CloudEvents source of every event.
const Source = "factoring"

// ContentType is the datacontenttype of every event.
const ContentType = "application/json"

// Sobre is the CloudEvents 1.0 envelope in JSON structured mode, plus the
// requestid extension: the body of every NATS message, webhook POST and
// the input of the e-mail.
type Sobre struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            Tipo            `json:"type"`
	Subject         string          `json:"subject"`
	Time            time.Time       `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	RequestID       string          `json:"requestid"`
	Data            json.RawMessage `json:"data"`
}

// Event is one event to record: its type, the global id of the entity it is
// about and its data. Enqueue fills in the rest of the envelope.
type Event struct {
	Tipo Tipo
	// Sujeto is the GraphQL global id of the entity (gid.Encode).
	Sujeto string
	// Datos is the event's data. Enqueue adds event_id, type and request_id
	// to it, as the seed's payload has them.
	Datos map[string]any
	// Fecha is when it happened; zero means now. Services pass their clock.
	Fecha time.Time
}

// Enqueue records evts in tx, the mutation's own transaction: they are
// delivered only if it commits, and they are lost with it if it rolls back.
// It must run while tx holds the row lock of each event's entity (after the
// locking read or the UPDATE), so that two transactions about one entity
// record their events in commit order.
//
// The request id comes from ctx (requestid); outside a request (a command,
// a job) a new UUID stands in, as for the audit trail. An unknown type or an
// empty subject is a programming error and fails the transaction.
func Enqueue(ctx context.Context, tx *ent.Tx, evts ...Event) error {
	if len(evts) == 0 {
		return nil
	}
	reqID := requestid.FromContext(ctx)
	if reqID == "" {
		reqID = uuid.NewString()
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	rows := make([]*ent.OutboxEventoCreate, len(evts))
	for i, e := range evts {
		sobre, err := Envolver(e, reqID, now)
		if err != nil {
			return err
		}
		cuerpo, err := json.Marshal(sobre)
		if err != nil {
			return fmt.Errorf("evento %s: serializar: %w", e.Tipo, err)
		}
		rows[i] = tx.OutboxEvento.Create().
			SetEventoID(sobre.ID).
			SetTipo(string(sobre.Type)).
			SetSujeto(sobre.Subject).
			SetFecha(sobre.Time).
			SetRequestID(reqID).
			SetCuerpo(string(cuerpo))
	}
	for start := 0; start < len(rows); start += bulkSize {
		if err := tx.OutboxEvento.CreateBulk(rows[start:min(start+bulkSize, len(rows))]...).Exec(ctx); err != nil {
			return fmt.Errorf("registrar eventos de integración: %w", err)
		}
	}
	if tx.Dialect() == dialect.Postgres {
		// Delivered to every LISTEN session when tx commits, and never if
		// it rolls back: the subscription feeds of every server process
		// (package suscripciones) wake up and read the new rows. Several
		// NOTIFYs of one transaction reach a listener as one.
		if _, err := tx.ExecContext(ctx, "NOTIFY "+CanalNotificacion); err != nil {
			return fmt.Errorf("avisar de los eventos de integración: %w", err)
		}
	}
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Commit(ctx, tx)
			if err == nil {
				Avisar()
			}
			return err
		})
	})
	return nil
}

// CanalNotificacion is the PostgreSQL notification channel on which a
// transaction that recorded events announces them, at its commit.
const CanalNotificacion = "factoring_eventos"

// bulkSize bounds the rows of one INSERT: SQLite allows 32,766 bound
// parameters per statement, and an outbox row binds fewer than 10.
const bulkSize = 1000

// Envolver builds e's envelope under request reqID: a new time-ordered
// UUID, e.Fecha or now, and data with event_id, type and request_id.
func Envolver(e Event, reqID string, now time.Time) (Sobre, error) {
	if !Valido(string(e.Tipo)) {
		return Sobre{}, fmt.Errorf("tipo de evento desconocido %q", e.Tipo)
	}
	if strings.TrimSpace(e.Sujeto) == "" {
		return Sobre{}, fmt.Errorf("evento %s sin sujeto", e.Tipo)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Sobre{}, err
	}
	fecha := e.Fecha
	if fecha.IsZero() {
		fecha = now
	}
	datos := make(map[string]any, len(e.Datos)+3)
	for k, v := range e.Datos {
		datos[k] = v
	}
	datos["event_id"] = id.String()
	datos["type"] = string(e.Tipo)
	datos["request_id"] = reqID
	raw, err := json.Marshal(datos)
	if err != nil {
		return Sobre{}, fmt.Errorf("evento %s: datos: %w", e.Tipo, err)
	}
	return Sobre{
		SpecVersion:     "1.0",
		ID:              id.String(),
		Source:          Source,
		Type:            e.Tipo,
		Subject:         e.Sujeto,
		Time:            fecha.UTC(),
		DataContentType: ContentType,
		RequestID:       reqID,
		Data:            raw,
	}, nil
}

// aviso is closed and replaced whenever a transaction with events commits
// in this process, so the dispatchers (and, on SQLite, the subscription
// feed) waiting on it start at once instead of at their next poll.
var aviso = struct {
	sync.Mutex
	ch chan struct{}
}{ch: make(chan struct{})}

// Avisar wakes every dispatcher of this process.
func Avisar() {
	aviso.Lock()
	close(aviso.ch)
	aviso.ch = make(chan struct{})
	aviso.Unlock()
}

// Aviso returns a channel closed at the next Avisar.
func Aviso() <-chan struct{} {
	aviso.Lock()
	defer aviso.Unlock()
	return aviso.ch
}
