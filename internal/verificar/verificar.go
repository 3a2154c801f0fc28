// Package verificar checks the domain's invariants (docs/dominio.md,
// "Invariants") over a whole database and reports every violation it finds:
//
//  1. For every cliente, 0 <= lineaDisponible <= lineaCredito and
//     lineaCredito − lineaDisponible = Σ montoTotalFacturas of its
//     operaciones APROBADA or DESEMBOLSADA (estado.OperacionOcupaLinea).
//  2. A factura is held by at most one open operación (PENDIENTE, APROBADA
//     or DESEMBOLSADA: estado.OperacionActiva), and is EN_PROCESO exactly
//     when that operación is PENDIENTE.
//  3. The events of every operación, in order, replay its state history
//     from CREADA: one event per state change, each one's estadoAnterior
//     the previous one's estadoNuevo, the last one's estadoNuevo the
//     operación's state.
//  5. Every committed change has its audit entry: every cliente, factura,
//     operación and deudor has exactly one creation entry, its first; its
//     state is the estadoNuevo of its latest entry that changed it (for a
//     factura, an operación that held, ceded or released it counts: its
//     entry records that); a cliente's lineaCredito is the new line of its
//     latest entry that set one (its creation or an adjustment), and a
//     deudor's lineaExposicion likewise (none when no entry set one); and an
//     operación's entries mirror its events one by one. "Latest" is by id:
//     entries about one row are written while the row is locked, so their
//     ids follow the order in which they committed.
//  6. Every factura's deudor is the one of its rutDeudor; and each deudor's
//     exposure, as the approval computes it (internal/deudores), equals the
//     unpaid amount of its facturas held by operaciones APROBADA or
//     DESEMBOLSADA, recomputed here from the rows.
//
// It also checks that each operación's amounts agree with its invoices.
// `factoring verificar` and the concurrency tests run it.
package verificar

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/shopspring/decimal"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/eventoauditoria"
	"github.com/banpro/factoring/ent/operacionevento"
	"github.com/banpro/factoring/internal/deudores"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/money"
)

// Violation is one broken invariant.
type Violation struct {
	Invariante int    // 1, 2, 3, 5 or 6 as numbered above; 0 for amount consistency
	Entidad    string // the opaque ID of the entity at fault
	Detalle    string
}

func (v Violation) String() string {
	return fmt.Sprintf("invariante %d: %s: %s", v.Invariante, v.Entidad, v.Detalle)
}

// Report is the result of a run.
type Report struct {
	Clientes, Facturas, Operaciones, Eventos, Deudores int
	// Auditoria counts the audit trail's entries.
	Auditoria  int
	Violations []Violation
}

// Run reads the database (in one read-only pass per table) and checks every
// invariant. It reads everything into memory: at the sizes a factoring
// company reaches (hundreds of thousands of rows) that is a few tens of MB.
func Run(ctx context.Context, client *ent.Client) (Report, error) {
	var r Report
	clientes, err := client.Cliente.Query().All(ctx)
	if err != nil {
		return r, fmt.Errorf("leer clientes: %w", err)
	}
	facturas, err := client.Factura.Query().All(ctx)
	if err != nil {
		return r, fmt.Errorf("leer facturas: %w", err)
	}
	ops, err := client.Operacion.Query().All(ctx)
	if err != nil {
		return r, fmt.Errorf("leer operaciones: %w", err)
	}
	links, err := client.OperacionFactura.Query().All(ctx)
	if err != nil {
		return r, fmt.Errorf("leer facturas de operaciones: %w", err)
	}
	eventos, err := client.OperacionEvento.Query().
		Order(ent.Asc(operacionevento.FieldOperacionID), ent.Asc(operacionevento.FieldFecha), ent.Asc(operacionevento.FieldID)).
		All(ctx)
	if err != nil {
		return r, fmt.Errorf("leer eventos: %w", err)
	}
	deudoresDB, err := client.Deudor.Query().All(ctx)
	if err != nil {
		return r, fmt.Errorf("leer deudores: %w", err)
	}
	exposiciones, err := deudores.TodasLasExposiciones(ctx, client)
	if err != nil {
		return r, err
	}
	auditoria, err := client.EventoAuditoria.Query().Order(ent.Asc(eventoauditoria.FieldID)).All(ctx)
	if err != nil {
		return r, fmt.Errorf("leer la auditoría: %w", err)
	}
	r.Clientes, r.Facturas, r.Operaciones, r.Eventos = len(clientes), len(facturas), len(ops), len(eventos)
	r.Deudores = len(deudoresDB)
	r.Auditoria = len(auditoria)

	opByID := make(map[int]*ent.Operacion, len(ops))
	for _, o := range ops {
		opByID[o.ID] = o
	}
	facturaByID := make(map[int]*ent.Factura, len(facturas))
	for _, f := range facturas {
		facturaByID[f.ID] = f
	}
	facturasDe := make(map[int][]int) // operación -> facturas
	holders := make(map[int][]int)    // factura -> active operaciones
	for _, l := range links {
		facturasDe[l.OperacionID] = append(facturasDe[l.OperacionID], l.FacturaID)
		if estado.OperacionActiva(opByID[l.OperacionID].Estado) {
			holders[l.FacturaID] = append(holders[l.FacturaID], l.OperacionID)
		}
	}
	add := func(inv int, id int, format string, args ...any) {
		r.Violations = append(r.Violations, Violation{Invariante: inv, Entidad: gid.Encode(id), Detalle: fmt.Sprintf(format, args...)})
	}

	// 1. The credit line.
	exposicion := make(map[int]decimal.Decimal)
	for _, o := range ops {
		if estado.OperacionOcupaLinea(o.Estado) {
			exposicion[o.ClienteID] = exposicion[o.ClienteID].Add(o.MontoTotalFacturas)
		}
	}
	for _, c := range clientes {
		if c.LineaDisponible.IsNegative() || c.LineaDisponible.GreaterThan(c.LineaCredito) {
			add(1, c.ID, "lineaDisponible %s fuera de [0, lineaCredito %s]", money.String(c.LineaDisponible), money.String(c.LineaCredito))
		}
		if usada := c.LineaCredito.Sub(c.LineaDisponible); !usada.Equal(exposicion[c.ID]) {
			add(1, c.ID, "línea utilizada %s distinta de lo expuesto en operaciones APROBADA o DESEMBOLSADA %s",
				money.String(usada), money.String(exposicion[c.ID]))
		}
	}

	// 2. Who holds each factura.
	for _, f := range facturas {
		h := holders[f.ID]
		if len(h) > 1 {
			// Which state it should be in is undefined then: one violation.
			add(2, f.ID, "retenida por %d operaciones activas a la vez: %v", len(h), gid.EncodeAll(h))
			continue
		}
		pendiente := len(h) == 1 && opByID[h[0]].Estado == estado.OperacionPendiente
		if (f.Estado == estado.FacturaEnProceso) != pendiente {
			add(2, f.ID, "estado %s pero %s", f.Estado, map[bool]string{true: "una operación PENDIENTE la retiene", false: "ninguna operación PENDIENTE la retiene"}[pendiente])
		}
	}

	// 3. Event histories, and the amounts of every operación.
	eventosDe := make(map[int][]*ent.OperacionEvento)
	for _, e := range eventos {
		eventosDe[e.OperacionID] = append(eventosDe[e.OperacionID], e)
	}
	for _, o := range ops {
		if msg := replay(eventosDe[o.ID], o.Estado); msg != "" {
			add(3, o.ID, "%s", msg)
		}
		total := decimal.Zero
		for _, fid := range facturasDe[o.ID] {
			total = total.Add(facturaByID[fid].MontoTotal)
		}
		switch {
		case len(facturasDe[o.ID]) == 0:
			add(0, o.ID, "no tiene facturas")
		case !total.Equal(o.MontoTotalFacturas):
			add(0, o.ID, "montoTotalFacturas %s distinto de la suma de sus facturas %s", money.String(o.MontoTotalFacturas), money.String(total))
		case !o.MontoADesembolsar.Equal(o.MontoTotalFacturas.Sub(o.MontoDescuento)):
			add(0, o.ID, "montoADesembolsar %s distinto de montoTotalFacturas − montoDescuento", money.String(o.MontoADesembolsar))
		}
	}
	for id := range eventosDe {
		if opByID[id] == nil {
			add(3, id, "eventos de una operación que no existe")
		}
	}

	// 5. The audit trail.
	a := newAuditoria(auditoria)
	for _, c := range clientes {
		if msg := a.cliente(c); msg != "" {
			add(5, c.ID, "%s", msg)
		}
	}
	opsDe := make(map[int][]int) // factura -> every operación that held it
	for _, l := range links {
		opsDe[l.FacturaID] = append(opsDe[l.FacturaID], l.OperacionID)
	}
	for _, f := range facturas {
		if msg := a.factura(f, opsDe[f.ID]); msg != "" {
			add(5, f.ID, "%s", msg)
		}
	}
	for _, o := range ops {
		if msg := a.operacion(o, eventosDe[o.ID]); msg != "" {
			add(5, o.ID, "%s", msg)
		}
	}
	for _, d := range deudoresDB {
		if msg := a.deudor(d); msg != "" {
			add(5, d.ID, "%s", msg)
		}
	}

	// 6. Deudores and their exposure.
	deudorByID := make(map[int]*ent.Deudor, len(deudoresDB))
	for _, d := range deudoresDB {
		deudorByID[d.ID] = d
	}
	expuesto := make(map[int]decimal.Decimal) // deudor -> unpaid amount held by operaciones past approval
	for _, f := range facturas {
		switch d := deudorByID[f.DeudorID]; {
		case d == nil:
			add(6, f.ID, "su deudor no existe")
		case d.Rut != f.RutDeudor:
			add(6, f.ID, "rutDeudor %s pero su deudor es %s", f.RutDeudor, d.Rut)
		}
		if f.Estado == estado.FacturaPagada {
			continue
		}
		for _, opID := range opsDe[f.ID] {
			if estado.OperacionOcupaLinea(opByID[opID].Estado) {
				expuesto[f.DeudorID] = expuesto[f.DeudorID].Add(f.MontoTotal)
				break
			}
		}
	}
	for _, d := range deudoresDB {
		if calc, want := exposiciones[d.ID], expuesto[d.ID]; !calc.Equal(want) {
			add(6, d.ID, "exposición %s según el cálculo de la aprobación, pero sus facturas impagas en operaciones APROBADA o DESEMBOLSADA suman %s",
				money.String(calc), money.String(want))
		}
	}
	slices.SortFunc(r.Violations, func(a, b Violation) int {
		return cmp.Or(cmp.Compare(a.Invariante, b.Invariante), cmp.Compare(a.Entidad, b.Entidad), cmp.Compare(a.Detalle, b.Detalle))
	})
	return r, nil
}

// replay walks an operación's events and says what is wrong with them, or
// "" when they replay its history up to its current state.
func replay(evs []*ent.OperacionEvento, actual estado.Operacion) string {
	if len(evs) == 0 {
		return "no tiene eventos (falta CREADA)"
	}
	first := evs[0]
	if first.Tipo != estado.EventoCreada || first.EstadoAnterior != nil || first.EstadoNuevo != estado.OperacionPendiente {
		return fmt.Sprintf("el primer evento es %s (%v -> %s), no CREADA (nulo -> PENDIENTE)", first.Tipo, deref(first.EstadoAnterior), first.EstadoNuevo)
	}
	state := first.EstadoNuevo
	for i, e := range evs[1:] {
		if e.EstadoAnterior == nil || *e.EstadoAnterior != state {
			return fmt.Sprintf("el evento %d (%s) parte de %v, pero el estado era %s", i+2, e.Tipo, deref(e.EstadoAnterior), state)
		}
		a, ok := estado.AccionDe(e.Tipo)
		if !ok {
			return fmt.Sprintf("el evento %d es %s: solo el primero puede ser CREADA", i+2, e.Tipo)
		}
		next, err := estado.Operaciones.Siguiente(a, state)
		if err != nil || next != e.EstadoNuevo {
			return fmt.Sprintf("el evento %d (%s) lleva de %s a %s, transición que no existe", i+2, e.Tipo, state, e.EstadoNuevo)
		}
		state = next
	}
	if state != actual {
		return fmt.Sprintf("los eventos terminan en %s pero la operación está %s", state, actual)
	}
	return ""
}

func deref(e *estado.Operacion) any {
	if e == nil {
		return "nulo"
	}
	return *e
}
