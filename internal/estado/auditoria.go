package estado

import (
	"io"
	"slices"
	"strings"
)

// Entidad is the kind of entity an audit entry is about.
type Entidad string

// The kinds of entity the mutations change.
const (
	EntidadCliente   Entidad = "CLIENTE"
	EntidadFactura   Entidad = "FACTURA"
	EntidadOperacion Entidad = "OPERACION"
	EntidadDeudor    Entidad = "DEUDOR"
)

// TipoAuditoria is the kind of an audit entry (docs/dominio.md, "Audit
// trail"): one per mutation, and one per invoice the overdue job marks.
// Every name starts with its entity's kind, so TipoIntegracion maps it to
// the integration event's type mechanically.
type TipoAuditoria string

// The kinds of audit entry.
const (
	AudClienteCreado         TipoAuditoria = "CLIENTE_CREADO"
	AudClienteActualizado    TipoAuditoria = "CLIENTE_ACTUALIZADO"
	AudClienteActivado       TipoAuditoria = "CLIENTE_ACTIVADO"
	AudClienteSuspendido     TipoAuditoria = "CLIENTE_SUSPENDIDO"
	AudClienteBloqueado      TipoAuditoria = "CLIENTE_BLOQUEADO"
	AudClienteLineaAjustada  TipoAuditoria = "CLIENTE_LINEA_AJUSTADA"
	AudClienteConcentracion  TipoAuditoria = "CLIENTE_CONCENTRACION_FIJADA"
	AudFacturaRegistrada     TipoAuditoria = "FACTURA_REGISTRADA"
	AudFacturaAcuse          TipoAuditoria = "FACTURA_ACUSE_REGISTRADO"
	AudFacturaPagada         TipoAuditoria = "FACTURA_PAGADA"
	AudFacturaAnulada        TipoAuditoria = "FACTURA_ANULADA"
	AudFacturaVencida        TipoAuditoria = "FACTURA_VENCIDA"
	AudOperacionCreada       TipoAuditoria = "OPERACION_CREADA"
	AudOperacionAprobada     TipoAuditoria = "OPERACION_APROBADA"
	AudOperacionRechazada    TipoAuditoria = "OPERACION_RECHAZADA"
	AudOperacionDesembolsada TipoAuditoria = "OPERACION_DESEMBOLSADA"
	AudOperacionFinalizada   TipoAuditoria = "OPERACION_FINALIZADA"
	AudDeudorCreado          TipoAuditoria = "DEUDOR_CREADO"
	AudDeudorActualizado     TipoAuditoria = "DEUDOR_ACTUALIZADO"
	AudDeudorLineaFijada     TipoAuditoria = "DEUDOR_LINEA_FIJADA"
	AudDeudorBloqueado       TipoAuditoria = "DEUDOR_BLOQUEADO"
	AudDeudorActivado        TipoAuditoria = "DEUDOR_ACTIVADO"
)

var (
	entidadValues       = []string{"CLIENTE", "FACTURA", "OPERACION", "DEUDOR"}
	tipoAuditoriaValues = []string{
		"CLIENTE_CREADO", "CLIENTE_ACTUALIZADO", "CLIENTE_ACTIVADO", "CLIENTE_SUSPENDIDO", "CLIENTE_BLOQUEADO", "CLIENTE_LINEA_AJUSTADA",
		"CLIENTE_CONCENTRACION_FIJADA",
		"FACTURA_REGISTRADA", "FACTURA_ACUSE_REGISTRADO", "FACTURA_PAGADA", "FACTURA_ANULADA", "FACTURA_VENCIDA",
		"OPERACION_CREADA", "OPERACION_APROBADA", "OPERACION_RECHAZADA", "OPERACION_DESEMBOLSADA", "OPERACION_FINALIZADA",
		"DEUDOR_CREADO", "DEUDOR_ACTUALIZADO", "DEUDOR_LINEA_FIJADA", "DEUDOR_BLOQUEADO", "DEUDOR_ACTIVADO",
	}
)

// Values lists the kinds of entity (ent reads it for the enum).
func (Entidad) Values() []string { return slices.Clone(entidadValues) }

// Values lists the kinds of audit entry, by entity and in lifecycle order
// (ent reads it for the enum).
func (TipoAuditoria) Values() []string { return slices.Clone(tipoAuditoriaValues) }

// MarshalGQL writes the kind as a GraphQL enum value.
func (e Entidad) MarshalGQL(w io.Writer) { writeQuoted(w, string(e)) }

// UnmarshalGQL reads a GraphQL enum value.
func (e *Entidad) UnmarshalGQL(v any) error {
	return unmarshal(e, v, entidadValues, "EntidadAuditoria")
}

// MarshalGQL writes the kind as a GraphQL enum value.
func (e TipoAuditoria) MarshalGQL(w io.Writer) { writeQuoted(w, string(e)) }

// UnmarshalGQL reads a GraphQL enum value.
func (e *TipoAuditoria) UnmarshalGQL(v any) error {
	return unmarshal(e, v, tipoAuditoriaValues, "TipoEventoAuditoria")
}

// Entidad is the kind of entity an entry of this kind is about: the prefix
// of its name.
func (t TipoAuditoria) Entidad() Entidad {
	for _, e := range entidadValues {
		if strings.HasPrefix(string(t), e+"_") {
			return Entidad(e)
		}
	}
	panic("estado: tipo de auditoría sin entidad: " + string(t))
}

// TipoIntegracion is the type of the integration event (CloudEvents
// "type") that announces an entry of this kind: the entity in lower case,
// a dot, and the rest of the name in lower case ("CLIENTE_LINEA_AJUSTADA"
// is "cliente.linea_ajustada", "OPERACION_APROBADA" "operacion.aprobada").
func (t TipoAuditoria) TipoIntegracion() string {
	e := t.Entidad()
	return strings.ToLower(string(e)) + "." + strings.ToLower(strings.TrimPrefix(string(t), string(e)+"_"))
}

// auditoriaDeAccion is the audit entry each state action writes. (Holding,
// releasing and ceding invoices are part of an operación's mutation and are
// recorded in its entry.)
var auditoriaDeAccion = map[Accion]TipoAuditoria{
	ActivarCliente:       AudClienteActivado,
	SuspenderCliente:     AudClienteSuspendido,
	BloquearCliente:      AudClienteBloqueado,
	PagarFactura:         AudFacturaPagada,
	AnularFactura:        AudFacturaAnulada,
	VencerFactura:        AudFacturaVencida,
	AprobarOperacion:     AudOperacionAprobada,
	RechazarOperacion:    AudOperacionRechazada,
	DesembolsarOperacion: AudOperacionDesembolsada,
	FinalizarOperacion:   AudOperacionFinalizada,
	BloquearDeudor:       AudDeudorBloqueado,
	ActivarDeudor:        AudDeudorActivado,
	AceptarFactura:       AudFacturaAcuse,
	ReclamarFactura:      AudFacturaAcuse,
}

// AuditoriaDeAccion is the kind of audit entry that records action a.
func AuditoriaDeAccion(a Accion) TipoAuditoria {
	t, ok := auditoriaDeAccion[a]
	if !ok {
		panic("estado: acción sin tipo de auditoría: " + string(a))
	}
	return t
}

// accionSobreFacturas is what an operación's entry did to its invoices.
var accionSobreFacturas = map[TipoAuditoria]Accion{
	AudOperacionCreada:    RetenerFactura,
	AudOperacionAprobada:  CederFactura,
	AudOperacionRechazada: LiberarFactura,
}

// AccionSobreFacturas is the action an operación's mutation of kind t
// applied to every invoice it holds; false when it leaves them as they are.
func AccionSobreFacturas(t TipoAuditoria) (Accion, bool) {
	a, ok := accionSobreFacturas[t]
	return a, ok
}

// Hacia is the state action a leads to (every action leads to one state).
func (m Maquina[S]) Hacia(a Accion) S {
	t, ok := m.transiciones[a]
	if !ok {
		panic("estado: acción sin transición: " + string(a))
	}
	return t.Hacia
}

// auditoriaDeEvento is the audit entry of each operación event: the
// operación's own trail and the audit trail record one change twice.
var auditoriaDeEvento = map[TipoEvento]TipoAuditoria{
	EventoCreada:       AudOperacionCreada,
	EventoAprobada:     AudOperacionAprobada,
	EventoRechazada:    AudOperacionRechazada,
	EventoDesembolsada: AudOperacionDesembolsada,
	EventoFinalizada:   AudOperacionFinalizada,
}

// AuditoriaDe is the audit entry kind that records the same change as the
// operación event t.
func AuditoriaDe(t TipoEvento) TipoAuditoria {
	a, ok := auditoriaDeEvento[t]
	if !ok {
		panic("estado: evento sin tipo de auditoría: " + string(t))
	}
	return a
}
