// Package auditoria is the one seam through which every mutation records
// itself in the audit trail (docs/dominio.md, "Audit trail"): inside its
// own transaction, after its writes, a mutation calls Registrar with an
// Entrada that says what kind of change it made (tipo), to which entity,
// the state before and after, and the old and new value of every field it
// changed. Registrar adds who (the actor), under which request (request id
// and correlation id) and when (the transaction's one clock reading), and
// appends the EventoAuditoria row. The entry commits or rolls back with the
// change it records.
//
// An Entrada carries everything an integration event about the change
// needs too (the entity's kind and id, a tipo that maps to the event's
// type through TipoIntegracion, the detalle and the entity as the mutation
// left it), so events out can be enqueued from Registrar, in the same
// transaction.
//
// The package is domain-level: it imports ent and the shared packages,
// never GraphQL or HTTP.
package auditoria

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"time"

	"github.com/shopspring/decimal"
	"go.opentelemetry.io/otel/trace"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/eventos"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/money"
	"github.com/banpro/factoring/internal/requestid"
)

// Entrada is one audit entry as the mutation that writes it describes it.
type Entrada struct {
	// Tipo is the kind of change; it names the entity kind too.
	Tipo estado.TipoAuditoria
	// EntidadID is the id of the cliente, factura, operación or deudor
	// changed.
	EntidadID int
	// EstadoAnterior and EstadoNuevo are the entity's state before and
	// after: both nil when the change left the state alone, the former nil
	// when it created the entity.
	EstadoAnterior, EstadoNuevo *string
	// Cambios holds the old and new value of every field that changed.
	Cambios Cambios
	// Contexto is what else the change did or decided on, beside its own
	// fields (the invoices an operación moved, the line it took): it goes
	// into detalle next to "cambios".
	Contexto map[string]any
	// Registro is the entity as the mutation left it (*ent.Cliente,
	// *ent.Factura, *ent.Operacion or *ent.Deudor), for the integration
	// event's data.
	// It is not stored.
	Registro any
	// FacturaIDs are an operación's invoices, for its integration event
	// (operación entries only). Not stored apart from the detalle.
	FacturaIDs []int
	// Fecha is when the change happened: Registrar sets it.
	Fecha time.Time
}

// Cambio is the old and new value of one field, as the API renders them:
// amounts as strings with two decimals, dates as YYYY-MM-DD, instants in
// RFC 3339 UTC, ids as the API's opaque ids; nil for no value.
type Cambio struct {
	Anterior any `json:"anterior"`
	Nuevo    any `json:"nuevo"`
}

// Cambios maps a field, named as in the API, to its change.
type Cambios map[string]Cambio

// Detalle is the entry's detalle: {"cambios": {...}} and the context.
func (e Entrada) Detalle() map[string]any {
	d := make(map[string]any, len(e.Contexto)+1)
	maps.Copy(d, e.Contexto)
	cambios := make(map[string]any, len(e.Cambios))
	for k, c := range e.Cambios {
		cambios[k] = map[string]any{"anterior": c.Anterior, "nuevo": c.Nuevo}
	}
	d["cambios"] = cambios
	return d
}

// Con returns e with key set to v in its context.
func (e Entrada) Con(key string, v any) Entrada {
	c := make(map[string]any, len(e.Contexto)+1)
	maps.Copy(c, e.Contexto)
	c[key] = v
	e.Contexto = c
	return e
}

// Cliente describes a change of kind tipo that took a cliente from antes
// (nil when it created it) to despues.
func Cliente(tipo estado.TipoAuditoria, antes, despues *ent.Cliente) Entrada {
	e := Entrada{Tipo: tipo, EntidadID: despues.ID, Registro: despues, Cambios: diff(snapCliente(antes), snapCliente(despues))}
	var anterior estado.Cliente
	if antes != nil {
		anterior = antes.Estado
	}
	e.EstadoAnterior, e.EstadoNuevo = estados(antes != nil, anterior, despues.Estado)
	return e
}

// Factura describes a change of kind tipo that took a factura from antes
// (nil when it registered it) to despues.
func Factura(tipo estado.TipoAuditoria, antes, despues *ent.Factura) Entrada {
	e := Entrada{Tipo: tipo, EntidadID: despues.ID, Registro: despues, Cambios: diff(snapFactura(antes), snapFactura(despues))}
	var anterior estado.Factura
	if antes != nil {
		anterior = antes.Estado
	}
	e.EstadoAnterior, e.EstadoNuevo = estados(antes != nil, anterior, despues.Estado)
	return e
}

// Operacion describes a change of kind tipo that took an operación from
// antes (nil when it created it) to despues.
func Operacion(tipo estado.TipoAuditoria, antes, despues *ent.Operacion) Entrada {
	e := Entrada{Tipo: tipo, EntidadID: despues.ID, Registro: despues, Cambios: diff(snapOperacion(antes), snapOperacion(despues))}
	var anterior estado.Operacion
	if antes != nil {
		anterior = antes.Estado
	}
	e.EstadoAnterior, e.EstadoNuevo = estados(antes != nil, anterior, despues.Estado)
	return e
}

// Deudor describes a change of kind tipo that took a deudor from antes
// (nil when it created it) to despues.
func Deudor(tipo estado.TipoAuditoria, antes, despues *ent.Deudor) Entrada {
	e := Entrada{Tipo: tipo, EntidadID: despues.ID, Registro: despues, Cambios: diff(snapDeudor(antes), snapDeudor(despues))}
	var anterior estado.Deudor
	if antes != nil {
		anterior = antes.Estado
	}
	e.EstadoAnterior, e.EstadoNuevo = estados(antes != nil, anterior, despues.Estado)
	return e
}

// estados are an entry's states: from nothing to nuevo at creation, from
// anterior to nuevo when they differ, none when the state did not change.
func estados[S ~string](existia bool, anterior, nuevo S) (*string, *string) {
	n := string(nuevo)
	switch {
	case !existia:
		return nil, &n
	case anterior != nuevo:
		a := string(anterior)
		return &a, &n
	default:
		return nil, nil
	}
}

// Registrar appends the entries to the audit trail in tx, all dated fecha
// (the transaction's one clock reading), by the actor of ctx (the
// authenticated subject; auth.Anonimo with authentication off; auth.Sistema
// for jobs and commands), under the request of ctx: its request id (a new
// one, shared by these entries, outside a request) and the caller's
// correlation id, if any.
func Registrar(ctx context.Context, tx *ent.Tx, fecha time.Time, entradas ...Entrada) error {
	if len(entradas) == 0 {
		return nil
	}
	reqID := requestid.FromContext(ctx)
	if reqID == "" {
		reqID = requestid.New()
	}
	var corr *string
	if c := requestid.Correlation(ctx); c != "" {
		corr = &c
	}
	actor := auth.Actor(ctx)
	// The trace of the request (or job) that made the change, when tracing
	// is on: the entry then leads to its spans and log lines.
	var traceID *string
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		id := sc.TraceID().String()
		traceID = &id
	}
	for start := 0; start < len(entradas); start += bulkSize {
		batch := entradas[start:min(start+bulkSize, len(entradas))]
		creates := make([]*ent.EventoAuditoriaCreate, len(batch))
		for i := range batch {
			e := &batch[i]
			e.Fecha = fecha
			kind := e.Tipo.Entidad()
			c := tx.EventoAuditoria.Create().
				SetEntidad(kind).
				SetEntidadID(e.EntidadID).
				SetTipo(e.Tipo).
				SetFecha(fecha).
				SetNillableEstadoAnterior(e.EstadoAnterior).
				SetNillableEstadoNuevo(e.EstadoNuevo).
				SetRequestID(reqID).
				SetNillableCorrelationID(corr).
				SetNillableTraceID(traceID).
				SetActor(actor).
				SetDetalle(e.Detalle())
			switch kind {
			case estado.EntidadCliente:
				c.SetClienteID(e.EntidadID)
			case estado.EntidadFactura:
				c.SetFacturaID(e.EntidadID)
			case estado.EntidadOperacion:
				c.SetOperacionID(e.EntidadID)
			case estado.EntidadDeudor:
				c.SetDeudorID(e.EntidadID)
			}
			creates[i] = c
		}
		if err := tx.EventoAuditoria.CreateBulk(creates...).Exec(ctx); err != nil {
			return fmt.Errorf("registrar auditoría %s: %w", batch[0].Tipo, err)
		}
	}
	// The integration events go out of the same seam, in the same
	// transaction: a change has its event exactly when it has its entry.
	evts := make([]eventos.Event, 0, len(entradas))
	for _, e := range entradas {
		ev, err := e.evento()
		if err != nil {
			return err
		}
		evts = append(evts, ev)
	}
	return eventos.Enqueue(ctx, tx, evts...)
}

// evento is the integration event that announces e: its type is the
// entry's tipo mapped by TipoIntegracion, its data built from the entity
// as the mutation left it.
func (e Entrada) evento() (eventos.Event, error) {
	tipo := eventos.Tipo(e.Tipo.TipoIntegracion())
	switch r := e.Registro.(type) {
	case *ent.Cliente:
		var extra map[string]any
		// A changed line names the one before; a new cliente had none.
		if c, ok := e.Cambios["lineaCredito"]; ok && c.Anterior != nil {
			extra = map[string]any{"linea_credito_anterior": c.Anterior}
		}
		return eventos.Cliente(tipo, r, extra, e.Fecha), nil
	case *ent.Factura:
		return eventos.Factura(tipo, r, e.Fecha), nil
	case *ent.Operacion:
		return eventos.Operacion(tipo, r, e.FacturaIDs, e.Fecha), nil
	case *ent.Deudor:
		return eventos.Deudor(tipo, r, e.Fecha), nil
	default:
		return eventos.Event{}, fmt.Errorf("auditoría %s: entidad %T sin evento de integración", e.Tipo, e.Registro)
	}
}

// bulkSize bounds the rows of one INSERT: SQLite allows 32,766 bound
// parameters per statement, and an entry binds fewer than 16.
const bulkSize = 1000

// snapshot is an entity's fields as the API renders them.
type snapshot map[string]any

// diff lists the fields whose value differs between antes and despues
// (antes nil: every field despues has a value for).
func diff(antes, despues snapshot) Cambios {
	out := Cambios{}
	for k, nuevo := range despues {
		anterior := antes[k]
		if nuevo == nil && anterior == nil || reflect.DeepEqual(anterior, nuevo) {
			continue
		}
		out[k] = Cambio{Anterior: anterior, Nuevo: nuevo}
	}
	return out
}

func snapCliente(c *ent.Cliente) snapshot {
	if c == nil {
		return nil
	}
	return snapshot{
		"rut":             c.Rut,
		"razonSocial":     c.RazonSocial,
		"giro":            opt(c.Giro),
		"direccion":       opt(c.Direccion),
		"telefono":        opt(c.Telefono),
		"email":           c.Email,
		"lineaCredito":    money.String(c.LineaCredito),
		"lineaDisponible": money.String(c.LineaDisponible),
		"estado":          string(c.Estado),
		"motivoEstado":    opt(c.MotivoEstado),
		// nil: the configured default, which only the resolver knows.
		"concentracionMaxima": optMoney(c.ConcentracionMaxima),
	}
}

func snapFactura(f *ent.Factura) snapshot {
	if f == nil {
		return nil
	}
	return snapshot{
		"clienteId":         gid.Encode(f.ClienteID),
		"numeroFactura":     f.NumeroFactura,
		"deudorId":          gid.Encode(f.DeudorID),
		"rutDeudor":         f.RutDeudor,
		"razonSocialDeudor": f.RazonSocialDeudor,
		"montoTotal":        money.String(f.MontoTotal),
		"fechaEmision":      fecha(f.FechaEmision),
		"fechaVencimiento":  fecha(f.FechaVencimiento),
		"fechaRecepcion":    fecha(f.FechaRecepcion),
		"estado":            string(f.Estado),
		"estadoAcuse":       string(f.EstadoAcuse),
		"motivoAcuse":       opt(f.MotivoAcuse),
		"motivoAnulacion":   opt(f.MotivoAnulacion),
	}
}

func snapDeudor(d *ent.Deudor) snapshot {
	if d == nil {
		return nil
	}
	return snapshot{
		"rut":             d.Rut,
		"razonSocial":     d.RazonSocial,
		"estado":          string(d.Estado),
		"lineaExposicion": optMoney(d.LineaExposicion),
		"motivoEstado":    opt(d.MotivoEstado),
	}
}

func snapOperacion(o *ent.Operacion) snapshot {
	if o == nil {
		return nil
	}
	return snapshot{
		"clienteId":          gid.Encode(o.ClienteID),
		"fechaSolicitud":     instante(&o.FechaSolicitud),
		"fechaAprobacion":    instante(o.FechaAprobacion),
		"fechaDesembolso":    instante(o.FechaDesembolso),
		"fechaFinalizacion":  instante(o.FechaFinalizacion),
		"montoTotalFacturas": money.String(o.MontoTotalFacturas),
		"tasaDescuento":      money.String(o.TasaDescuento),
		"diasDescuento":      o.DiasDescuento,
		"montoDescuento":     money.String(o.MontoDescuento),
		"montoADesembolsar":  money.String(o.MontoADesembolsar),
		"estado":             string(o.Estado),
		"motivoRechazo":      opt(o.MotivoRechazo),
	}
}

// opt renders an optional text: nil when absent.
func opt(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// optMoney renders an optional amount: nil when absent.
func optMoney(d *decimal.Decimal) any {
	if d == nil {
		return nil
	}
	return money.String(*d)
}

func fecha(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func instante(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format(time.RFC3339Nano)
}
