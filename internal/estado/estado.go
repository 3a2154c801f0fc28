// Package estado holds the domain's vocabulary of states and event types:
// the estados of clientes, facturas, operaciones and deudores, the acuse de
// recibo of a factura, the tipos of an operación's events and those of the
// audit trail, with the state machines as data and which audit tipo records
// each action.
//
// The ent schema stores these types and gqlgen binds them to the GraphQL enums
// EstadoCliente, EstadoFactura, EstadoOperacion, EstadoDeudor, EstadoAcuse,
// TipoEventoOperacion, TipoEventoAuditoria and EntidadAuditoria, so a state
// has one Go type from the database to the wire. The package imports only the standard library.
package estado

import (
	"fmt"
	"io"
	"slices"
	"strconv"
)

// Cliente is the state of a cliente (docs/dominio.md, "Cliente").
type Cliente string

// The states of a cliente.
const (
	ClientePendiente  Cliente = "PENDIENTE"
	ClienteActivo     Cliente = "ACTIVO"
	ClienteSuspendido Cliente = "SUSPENDIDO"
	ClienteBloqueado  Cliente = "BLOQUEADO"
)

// Factura is the state of a factura (docs/dominio.md, "Factura").
type Factura string

// The states of a factura.
const (
	FacturaDisponible Factura = "DISPONIBLE"
	FacturaEnProceso  Factura = "EN_PROCESO"
	FacturaCedida     Factura = "CEDIDA"
	FacturaPagada     Factura = "PAGADA"
	FacturaVencida    Factura = "VENCIDA"
	FacturaAnulada    Factura = "ANULADA"
)

// Operacion is the state of an operación de cesión (docs/dominio.md,
// "Operación").
type Operacion string

// The states of an operación.
const (
	OperacionPendiente    Operacion = "PENDIENTE"
	OperacionAprobada     Operacion = "APROBADA"
	OperacionRechazada    Operacion = "RECHAZADA"
	OperacionDesembolsada Operacion = "DESEMBOLSADA"
	OperacionFinalizada   Operacion = "FINALIZADA"
)

// Deudor is the state of a deudor (docs/dominio.md, "Deudor"): a BLOQUEADO
// deudor's facturas cannot be ceded.
type Deudor string

// The states of a deudor.
const (
	DeudorActivo    Deudor = "ACTIVO"
	DeudorBloqueado Deudor = "BLOQUEADO"
)

// Acuse is the state of a factura's acuse de recibo (Ley 19.983): whether
// its deudor accepted it, claimed against it, or has not said yet
// (docs/dominio.md, "Acceptance of the invoice").
type Acuse string

// The states of an acuse.
const (
	AcusePendiente Acuse = "PENDIENTE"
	AcuseAceptada  Acuse = "ACEPTADA"
	AcuseReclamada Acuse = "RECLAMADA"
)

// TipoEvento is the kind of an OperacionEvento: one per state change.
type TipoEvento string

// The kinds of operation events.
const (
	EventoCreada       TipoEvento = "CREADA"
	EventoAprobada     TipoEvento = "APROBADA"
	EventoRechazada    TipoEvento = "RECHAZADA"
	EventoDesembolsada TipoEvento = "DESEMBOLSADA"
	EventoFinalizada   TipoEvento = "FINALIZADA"
)

var (
	clienteValues    = []string{"PENDIENTE", "ACTIVO", "SUSPENDIDO", "BLOQUEADO"}
	facturaValues    = []string{"DISPONIBLE", "EN_PROCESO", "CEDIDA", "PAGADA", "VENCIDA", "ANULADA"}
	operacionValues  = []string{"PENDIENTE", "APROBADA", "RECHAZADA", "DESEMBOLSADA", "FINALIZADA"}
	tipoEventoValues = []string{"CREADA", "APROBADA", "RECHAZADA", "DESEMBOLSADA", "FINALIZADA"}
	deudorValues     = []string{"ACTIVO", "BLOQUEADO"}
	acuseValues      = []string{"PENDIENTE", "ACEPTADA", "RECLAMADA"}
)

// Values lists the states, in lifecycle order (ent reads it for the enum).
func (Cliente) Values() []string { return slices.Clone(clienteValues) }

// Values lists the states, in lifecycle order (ent reads it for the enum).
func (Factura) Values() []string { return slices.Clone(facturaValues) }

// Values lists the states, in lifecycle order (ent reads it for the enum).
func (Operacion) Values() []string { return slices.Clone(operacionValues) }

// Values lists the event kinds, in lifecycle order (ent reads it for the enum).
func (TipoEvento) Values() []string { return slices.Clone(tipoEventoValues) }

// Values lists the states (ent reads it for the enum).
func (Deudor) Values() []string { return slices.Clone(deudorValues) }

// Values lists the states, in lifecycle order (ent reads it for the enum).
func (Acuse) Values() []string { return slices.Clone(acuseValues) }

// MarshalGQL writes the state as a GraphQL enum value.
func (e Cliente) MarshalGQL(w io.Writer) { writeQuoted(w, string(e)) }

// MarshalGQL writes the state as a GraphQL enum value.
func (e Factura) MarshalGQL(w io.Writer) { writeQuoted(w, string(e)) }

// MarshalGQL writes the state as a GraphQL enum value.
func (e Operacion) MarshalGQL(w io.Writer) { writeQuoted(w, string(e)) }

// MarshalGQL writes the kind as a GraphQL enum value.
func (e TipoEvento) MarshalGQL(w io.Writer) { writeQuoted(w, string(e)) }

// MarshalGQL writes the state as a GraphQL enum value.
func (e Deudor) MarshalGQL(w io.Writer) { writeQuoted(w, string(e)) }

// MarshalGQL writes the state as a GraphQL enum value.
func (e Acuse) MarshalGQL(w io.Writer) { writeQuoted(w, string(e)) }

// UnmarshalGQL reads a GraphQL enum value.
func (e *Cliente) UnmarshalGQL(v any) error { return unmarshal(e, v, clienteValues, "EstadoCliente") }

// UnmarshalGQL reads a GraphQL enum value.
func (e *Factura) UnmarshalGQL(v any) error { return unmarshal(e, v, facturaValues, "EstadoFactura") }

// UnmarshalGQL reads a GraphQL enum value.
func (e *Operacion) UnmarshalGQL(v any) error {
	return unmarshal(e, v, operacionValues, "EstadoOperacion")
}

// UnmarshalGQL reads a GraphQL enum value.
func (e *TipoEvento) UnmarshalGQL(v any) error {
	return unmarshal(e, v, tipoEventoValues, "TipoEventoOperacion")
}

// UnmarshalGQL reads a GraphQL enum value.
func (e *Deudor) UnmarshalGQL(v any) error { return unmarshal(e, v, deudorValues, "EstadoDeudor") }

// UnmarshalGQL reads a GraphQL enum value.
func (e *Acuse) UnmarshalGQL(v any) error { return unmarshal(e, v, acuseValues, "EstadoAcuse") }

func writeQuoted(w io.Writer, s string) {
	_, _ = io.WriteString(w, strconv.Quote(s))
}

func unmarshal[T ~string](dst *T, v any, values []string, enum string) error {
	s, ok := v.(string)
	if !ok || !slices.Contains(values, s) {
		return fmt.Errorf("%v no es un valor de %s", v, enum)
	}
	*dst = T(s)
	return nil
}
