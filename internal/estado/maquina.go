package estado

import (
	"slices"
	"strings"

	"github.com/banpro/factoring/internal/apperror"
)

// Accion names a domain action that moves an entity from one state to
// another, as the API calls it.
type Accion string

// The actions of the state machines (docs/dominio.md, "Cliente", "Factura",
// "Operación").
const (
	ActivarCliente   Accion = "activarCliente"
	SuspenderCliente Accion = "suspenderCliente"
	BloquearCliente  Accion = "bloquearCliente"

	RetenerFactura       Accion = "crearOperacion"    // an operación holds it
	LiberarFactura       Accion = "rechazarOperacion" // the operación was rejected
	CederFactura         Accion = "aprobarOperacion"  // the operación was approved
	PagarFactura         Accion = "pagarFactura"
	AnularFactura        Accion = "anularFactura"
	VencerFactura        Accion = "vencimiento" // the overdue job
	AprobarOperacion     Accion = "aprobarOperacion"
	RechazarOperacion    Accion = "rechazarOperacion"
	DesembolsarOperacion Accion = "desembolsarOperacion"
	FinalizarOperacion   Accion = "finalizarOperacion"

	BloquearDeudor Accion = "bloquearDeudor"
	ActivarDeudor  Accion = "activarDeudor"

	// The two acuses registrarAcuseFactura records.
	AceptarFactura  Accion = "registrarAcuseFactura(ACEPTADA)"
	ReclamarFactura Accion = "registrarAcuseFactura(RECLAMADA)"
)

// Transicion is what an action allows: the states it may start from and
// the state it leads to.
type Transicion[S ~string] struct {
	Desde []S
	Hacia S
}

// Maquina is a state machine as data: each action with its transition.
type Maquina[S ~string] struct {
	entidad      string // "el cliente", "la factura", "la operación"
	transiciones map[Accion]Transicion[S]
}

// Clientes is the cliente's state machine.
var Clientes = Maquina[Cliente]{
	entidad: "el cliente",
	transiciones: map[Accion]Transicion[Cliente]{
		ActivarCliente:   {Desde: []Cliente{ClientePendiente, ClienteSuspendido}, Hacia: ClienteActivo},
		SuspenderCliente: {Desde: []Cliente{ClienteActivo}, Hacia: ClienteSuspendido},
		BloquearCliente:  {Desde: []Cliente{ClientePendiente, ClienteActivo, ClienteSuspendido}, Hacia: ClienteBloqueado},
	},
}

// Facturas is the factura's state machine.
var Facturas = Maquina[Factura]{
	entidad: "la factura",
	transiciones: map[Accion]Transicion[Factura]{
		RetenerFactura: {Desde: []Factura{FacturaDisponible}, Hacia: FacturaEnProceso},
		LiberarFactura: {Desde: []Factura{FacturaEnProceso}, Hacia: FacturaDisponible},
		CederFactura:   {Desde: []Factura{FacturaEnProceso}, Hacia: FacturaCedida},
		PagarFactura:   {Desde: []Factura{FacturaDisponible, FacturaCedida, FacturaVencida}, Hacia: FacturaPagada},
		AnularFactura:  {Desde: []Factura{FacturaDisponible}, Hacia: FacturaAnulada},
		VencerFactura:  {Desde: []Factura{FacturaDisponible, FacturaCedida}, Hacia: FacturaVencida},
	},
}

// Operaciones is the operación's state machine (creation starts it in
// PENDIENTE).
var Operaciones = Maquina[Operacion]{
	entidad: "la operación",
	transiciones: map[Accion]Transicion[Operacion]{
		AprobarOperacion:     {Desde: []Operacion{OperacionPendiente}, Hacia: OperacionAprobada},
		RechazarOperacion:    {Desde: []Operacion{OperacionPendiente}, Hacia: OperacionRechazada},
		DesembolsarOperacion: {Desde: []Operacion{OperacionAprobada}, Hacia: OperacionDesembolsada},
		FinalizarOperacion:   {Desde: []Operacion{OperacionAprobada, OperacionDesembolsada}, Hacia: OperacionFinalizada},
	},
}

// Deudores is the deudor's state machine (it is created ACTIVO, on first
// sight of its RUT in registrarFactura).
var Deudores = Maquina[Deudor]{
	entidad: "el deudor",
	transiciones: map[Accion]Transicion[Deudor]{
		BloquearDeudor: {Desde: []Deudor{DeudorActivo}, Hacia: DeudorBloqueado},
		ActivarDeudor:  {Desde: []Deudor{DeudorBloqueado}, Hacia: DeudorActivo},
	},
}

// Acuses is the machine of a factura's acuse de recibo: the deudor accepts
// it or claims against it once, from PENDIENTE; both are final, so a claim
// after an acceptance (or the other way round) is a CONFLICT.
var Acuses = Maquina[Acuse]{
	entidad: "el acuse de la factura",
	transiciones: map[Accion]Transicion[Acuse]{
		AceptarFactura:  {Desde: []Acuse{AcusePendiente}, Hacia: AcuseAceptada},
		ReclamarFactura: {Desde: []Acuse{AcusePendiente}, Hacia: AcuseReclamada},
	},
}

// AccionDeAcuse is the action that records an acuse of state e; false for
// PENDIENTE, which no action leads to.
func AccionDeAcuse(e Acuse) (Accion, bool) {
	for a, t := range Acuses.transiciones {
		if t.Hacia == e {
			return a, true
		}
	}
	return "", false
}

// OperacionActiva reports whether an operación in state e is still open:
// from its creation until a final state (RECHAZADA, FINALIZADA), the states
// no action leaves. An open operación holds its invoices, so none of them
// may join another one.
func OperacionActiva(e Operacion) bool { return !Operaciones.Final(e) }

// OperacionOcupaLinea reports whether an operación in state e holds part of
// its cliente's credit line: approval takes montoTotalFacturas from it and
// finalization gives it back, so an open operación holds it once it is past
// approval (APROBADA, DESEMBOLSADA).
func OperacionOcupaLinea(e Operacion) bool {
	return OperacionActiva(e) && !Operaciones.Puede(AprobarOperacion, e)
}

// eventos is the event each transition of an operación writes.
var eventos = map[Accion]TipoEvento{
	AprobarOperacion:     EventoAprobada,
	RechazarOperacion:    EventoRechazada,
	DesembolsarOperacion: EventoDesembolsada,
	FinalizarOperacion:   EventoFinalizada,
}

// EventoDe is the event that records action a of the operación's machine.
func EventoDe(a Accion) TipoEvento {
	t, ok := eventos[a]
	if !ok {
		panic("estado: acción sin evento: " + string(a))
	}
	return t
}

// AccionDe is the action an event records; false for CREADA, which records
// the creation, not a transition.
func AccionDe(t TipoEvento) (Accion, bool) {
	for a, e := range eventos {
		if e == t {
			return a, true
		}
	}
	return "", false
}

// Puede reports whether action a is allowed from state actual.
func (m Maquina[S]) Puede(a Accion, actual S) bool {
	t, ok := m.transiciones[a]
	return ok && slices.Contains(t.Desde, actual)
}

// Desde lists the states action a may start from.
func (m Maquina[S]) Desde(a Accion) []S {
	t, ok := m.transiciones[a]
	if !ok {
		panic("estado: acción sin transición: " + string(a))
	}
	return slices.Clone(t.Desde)
}

// Final reports whether s is a final state: no action leaves it.
func (m Maquina[S]) Final(s S) bool {
	for _, t := range m.transiciones {
		if slices.Contains(t.Desde, s) {
			return false
		}
	}
	return true
}

// Siguiente is the pure check of the machine: the state action a leads to
// from actual, or a CONFLICT that names the current state and the states
// the action is allowed from.
func (m Maquina[S]) Siguiente(a Accion, actual S) (S, error) {
	t, ok := m.transiciones[a]
	if !ok {
		panic("estado: acción sin transición: " + string(a))
	}
	if !slices.Contains(t.Desde, actual) {
		desde := make([]string, len(t.Desde))
		for i, s := range t.Desde {
			desde[i] = string(s)
		}
		return actual, apperror.Conflictf("No se puede ejecutar %s: %s está en estado %s (se permite desde %s).",
			a, m.entidad, actual, strings.Join(desde, " o "))
	}
	return t.Hacia, nil
}

// Acciones lists the machine's actions (tests walk every pair).
func (m Maquina[S]) Acciones() []Accion {
	out := make([]Accion, 0, len(m.transiciones))
	for a := range m.transiciones {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}
