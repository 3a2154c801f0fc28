// Package operaciones holds the rules of the operación de cesión: its
// creation with the discount calculation, its lifecycle (aprobar, rechazar,
// desembolsar, finalizar), the credit line it takes and gives back, the
// invoices it holds and cedes, and its append-only audit trail.
//
// Approval checks the risk limits too (docs/dominio.md, "Limits checked at
// approval"): each deudor's lineaExposicion across every cliente, and the
// cliente's concentracionMaxima on any one deudor; and neither creation nor
// approval cedes a factura of a BLOQUEADO deudor, a RECLAMADA one, or (with
// FACTORING_EXIGIR_ACUSE) one not yet accepted.
//
// Every mutation is one transaction of the same shape: read the clock
// once, lock the rows it decides on (database.Lock, in the global order
// cliente, deudores, operación, facturas by id, so that concurrent
// mutations serialize instead of deadlocking), decide with a pure function
// of those rows, write, and append its OperacionEvento and its audit entry
// (internal/auditoria) stamped with the same instant as the rows they
// describe.
package operaciones

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/factura"
	"github.com/banpro/factoring/ent/operacion"
	"github.com/banpro/factoring/ent/operacionevento"
	"github.com/banpro/factoring/ent/operacionfactura"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/auditoria"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/clientes"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/deudores"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/facturas"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/money"
	"github.com/banpro/factoring/internal/requestid"
	"github.com/banpro/factoring/internal/validate"
)

// MaxFacturas bounds the invoices of one operación.
const MaxFacturas = 500

const maxMotivo = 500

// Service runs the operación mutations.
type Service struct {
	db            *database.DB
	clock         clock.Clock
	zone          *time.Location
	tasa          decimal.Decimal
	concentracion decimal.Decimal
	exigirAcuse   bool
}

// Config is what the service needs besides the database.
type Config struct {
	Clock clock.Clock
	// TimeZone is the business time zone: "today" is the date there.
	TimeZone *time.Location
	// TasaDescuento is the configured discount rate, in percent.
	TasaDescuento decimal.Decimal
	// ConcentracionMaxima is the concentracionMaxima of the clientes
	// nobody set one for, in percent (FACTORING_CONCENTRACION_MAXIMA);
	// zero stands for 100.00, no cap.
	ConcentracionMaxima decimal.Decimal
	// ExigirAcuse cedes only facturas their deudor accepted, expressly or
	// tacitly (FACTORING_EXIGIR_ACUSE).
	ExigirAcuse bool
}

// NewService returns the operación service.
func NewService(db *database.DB, cfg Config) *Service {
	concentracion := cfg.ConcentracionMaxima
	if concentracion.IsZero() {
		concentracion = clientes.SinTope
	}
	return &Service{db: db, clock: cfg.Clock, zone: cfg.TimeZone, tasa: cfg.TasaDescuento,
		concentracion: concentracion, exigirAcuse: cfg.ExigirAcuse}
}

// CrearInput is the input of Crear (GraphQL CrearOperacionInput).
type CrearInput struct {
	ClienteID  int
	FacturaIDs []int
}

// Crear opens an operación over a cliente's invoices: it prices the
// discount, holds the invoices (EN_PROCESO) and records the CREADA event.
// The credit line is not touched until approval.
//
// The checks run in this order and the first failing one is reported,
// listing every offending invoice:
// VALIDATION_ERROR on facturaIds (empty, duplicated, more than 500);
// NOT_FOUND when the cliente does not exist; VALIDATION_ERROR on clienteId
// when it is not ACTIVO; VALIDATION_ERROR on facturaIds (missing, of another
// cliente, not DISPONIBLE, overdue, of a BLOQUEADO deudor, RECLAMADA or,
// with FACTORING_EXIGIR_ACUSE, not yet accepted, a total that is not
// positive or does not fit numeric(15,2), a discount above the total).
func (s *Service) Crear(ctx context.Context, in CrearInput) (*ent.Operacion, error) {
	if err := checkFacturaIDs(in.FacturaIDs); err != nil {
		return nil, err
	}
	ids := slices.Sorted(slices.Values(in.FacturaIDs))
	ctx = requestid.Ensure(ctx) // one request id for the event and the audit entry

	var created *ent.Operacion
	err := s.db.WithTx(ctx, func(tx *ent.Tx) error {
		now := s.clock.Now()
		l, err := s.db.Lock(ctx, tx, database.LockSet{ClienteID: &in.ClienteID, DeudoresDeFacturas: true, FacturaIDs: ids})
		if err != nil {
			return err
		}
		holders, err := heldBy(ctx, tx, l.Facturas)
		if err != nil {
			return err
		}
		r := riesgo{deudores: porID(l.Deudores), exigirAcuse: s.exigirAcuse}
		p, refused := decideCrear(l.Cliente, ids, l.Facturas, holders, clock.Today(now, s.zone), s.tasa, r)
		if refused != nil {
			return refused
		}
		op, err := tx.Operacion.Create().
			SetClienteID(in.ClienteID).
			SetFechaSolicitud(now).
			SetMontoTotalFacturas(p.total).
			SetTasaDescuento(s.tasa).
			SetDiasDescuento(p.dias).
			SetMontoDescuento(p.descuento).
			SetMontoADesembolsar(p.total.Sub(p.descuento)).
			SetEstado(estado.OperacionPendiente).
			AddFacturaIDs(ids...).
			SetCreadoEn(now).
			SetActualizadoEn(now).
			Save(ctx)
		if err != nil {
			return err
		}
		if err := facturas.Aplicar(ctx, tx, l.Facturas, estado.RetenerFactura, now); err != nil {
			return err
		}
		created = op
		return registrar(ctx, tx, now, estado.EventoCreada, nil, op, l.Facturas, map[string]any{
			"facturaIds":         gid.EncodeAll(ids),
			"montoTotalFacturas": money.String(p.total),
			"tasaDescuento":      money.String(s.tasa),
			"diasDescuento":      p.dias,
			"montoDescuento":     money.String(p.descuento),
			"montoADesembolsar":  money.String(op.MontoADesembolsar),
		})
	})
	if err != nil {
		return nil, fmt.Errorf("crear operación: %w", err)
	}
	return created.Unwrap(), nil
}

// checkFacturaIDs is the first check of Crear, before anything is read: a
// non-empty set of at most 500 distinct ids.
func checkFacturaIDs(ids []int) *apperror.Error {
	switch {
	case len(ids) == 0:
		return apperror.Invalid("facturaIds", "Debe incluir al menos una factura.")
	case len(ids) > MaxFacturas:
		return apperror.Invalid("facturaIds", fmt.Sprintf("Admite como máximo %d facturas por operación (se recibieron %d).", MaxFacturas, len(ids)))
	}
	seen := make(map[int]bool, len(ids))
	var dup []int
	for _, id := range ids {
		if seen[id] && !slices.Contains(dup, id) {
			dup = append(dup, id)
		}
		seen[id] = true
	}
	if len(dup) > 0 {
		return apperror.Invalid("facturaIds", "Facturas repetidas: "+list(dup)+".")
	}
	return nil
}

// activas are the states of an operación that holds its invoices: they
// are EN_PROCESO or CEDIDA on its account (or paid or overdue since).
var activas = []estado.Operacion{estado.OperacionPendiente, estado.OperacionAprobada, estado.OperacionDesembolsada}

// heldBy maps each invoice of fs that cannot be held by a new operación to
// the operación that holds it, if any: the refusal names it, so that a
// client retrying a crearOperacion whose answer it lost learns which
// operación has its invoices (its own first attempt, perhaps). Nothing is
// read when every invoice is free.
func heldBy(ctx context.Context, tx *ent.Tx, fs []*ent.Factura) (map[int]int, error) {
	var taken []int
	for _, f := range fs {
		if !estado.Facturas.Puede(estado.RetenerFactura, f.Estado) {
			taken = append(taken, f.ID)
		}
	}
	if len(taken) == 0 {
		return nil, nil
	}
	links, err := tx.OperacionFactura.Query().
		Where(operacionfactura.FacturaIDIn(taken...), operacionfactura.HasOperacionWith(operacion.EstadoIn(activas...))).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("leer qué operación retiene las facturas: %w", err)
	}
	holders := make(map[int]int, len(links))
	for _, l := range links {
		// At most one active operación holds an invoice; were there more,
		// the newest is named.
		holders[l.FacturaID] = max(holders[l.FacturaID], l.OperacionID)
	}
	return holders, nil
}

// riesgo is what the risk rules decide on besides the operación, its
// cliente and its facturas: the deudores of the facturas (locked), and for
// an approval their exposure across every cliente and this cliente's
// exposure to each (deudores.Exposiciones, before the approval), with the
// cliente's concentracionMaxima. Its zero value applies no risk rule.
type riesgo struct {
	deudores   map[int]*ent.Deudor
	exposicion map[int]decimal.Decimal // of each deudor with a lineaExposicion
	delCliente map[int]decimal.Decimal // the cliente's, when it has a cap
	// concentracion is the cliente's concentracionMaxima, in percent; zero
	// or 100 is no cap.
	concentracion decimal.Decimal
	exigirAcuse   bool
}

func porID(ds []*ent.Deudor) map[int]*ent.Deudor {
	out := make(map[int]*ent.Deudor, len(ds))
	for _, d := range ds {
		out[d.ID] = d
	}
	return out
}

// impedimento is why f cannot be ceded for its deudor or its acuse, or "".
func (r riesgo) impedimento(f *ent.Factura, hoy time.Time) string {
	return facturas.Impedimento(f, r.deudores[f.DeudorID], hoy, r.exigirAcuse)
}

// decideCrear is Crear's rule over the locked rows, in order: the cliente
// is ACTIVO (on clienteId); every invoice of ids exists, belongs to the
// cliente, is DISPONIBLE, is not overdue on hoy and nothing of its deudor
// or its acuse keeps it from being ceded (r), each failure listing every
// offending invoice (and, for one an operación holds, that operación:
// holders maps invoice to operación); their total is positive and fits an
// amount (numeric(15,2)), and the discount does not exceed it (all on
// facturaIds). It returns the operación's price at tasa.
func decideCrear(c *ent.Cliente, ids []int, fs []*ent.Factura, holders map[int]int, hoy time.Time, tasa decimal.Decimal, r riesgo) (cotizacion, *apperror.Error) {
	if c.Estado != estado.ClienteActivo {
		return cotizacion{}, apperror.Invalid("clienteId", fmt.Sprintf("El cliente debe estar ACTIVO para ceder facturas (está %s).", c.Estado))
	}
	if err := checkFacturasCedibles(c, ids, fs, holders, hoy); err != nil {
		return cotizacion{}, err
	}
	var impedidas []string
	for _, f := range fs {
		if motivo := r.impedimento(f, hoy); motivo != "" {
			impedidas = append(impedidas, fmt.Sprintf("%s (%s)", gid.Encode(f.ID), motivo))
		}
	}
	if len(impedidas) > 0 {
		return cotizacion{}, apperror.Invalid("facturaIds", "No se pueden ceder las facturas: "+strings.Join(impedidas, ", ")+".")
	}
	p := cotizar(fs, tasa, hoy)
	switch {
	case !p.total.IsPositive():
		return cotizacion{}, apperror.Invalid("facturaIds", "El monto total de las facturas debe ser mayor que cero.")
	case !money.Fits(p.total):
		return cotizacion{}, apperror.Invalid("facturaIds", fmt.Sprintf(
			"El monto total de las facturas (%s) supera el máximo de una operación (%s): ceda menos facturas en cada una.",
			money.String(p.total), money.String(money.Max)))
	case p.descuento.GreaterThan(p.total):
		// Unreachable at the default rate: a due date is at most 5 years
		// after an issue no later than today (facturas.MaxAniosVencimiento).
		// At a configured rate above 19.7 % it is not, and the database
		// would refuse the row.
		return cotizacion{}, apperror.Invalid("facturaIds", fmt.Sprintf(
			"A la tasa de %s %% por %d días el descuento superaría el monto total de las facturas: ceda facturas de vencimiento más cercano.",
			money.String(tasa), p.dias))
	}
	return p, nil
}

// checkFacturasCedibles checks that every invoice of ids exists, belongs to
// the cliente, is DISPONIBLE and is not overdue.
func checkFacturasCedibles(c *ent.Cliente, ids []int, fs []*ent.Factura, holders map[int]int, hoy time.Time) *apperror.Error {
	found := make(map[int]bool, len(fs))
	for _, f := range fs {
		found[f.ID] = true
	}
	var missing []int
	for _, id := range ids {
		if !found[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return apperror.Invalid("facturaIds", "No existen las facturas: "+list(missing)+".")
	}
	if ajenas := filterIDs(fs, func(f *ent.Factura) bool { return f.ClienteID != c.ID }); len(ajenas) > 0 {
		return apperror.Invalid("facturaIds", "No pertenecen al cliente las facturas: "+list(ajenas)+".")
	}
	var noDisponibles []string
	for _, f := range fs {
		if estado.Facturas.Puede(estado.RetenerFactura, f.Estado) {
			continue
		}
		if op, held := holders[f.ID]; held {
			noDisponibles = append(noDisponibles, fmt.Sprintf("%s (%s, en la operación %s)", gid.Encode(f.ID), f.Estado, gid.Encode(op)))
		} else {
			noDisponibles = append(noDisponibles, fmt.Sprintf("%s (%s)", gid.Encode(f.ID), f.Estado))
		}
	}
	if len(noDisponibles) > 0 {
		return apperror.Invalid("facturaIds", "Solo se pueden ceder facturas DISPONIBLE; no lo están: "+strings.Join(noDisponibles, ", ")+".")
	}
	if vencidas := filterIDs(fs, func(f *ent.Factura) bool { return facturas.Vencida(f, hoy) }); len(vencidas) > 0 {
		return apperror.Invalid("facturaIds", "Están vencidas las facturas: "+list(vencidas)+".")
	}
	return nil
}

// cotizacion is the price of an operación over its invoices.
type cotizacion struct {
	total     decimal.Decimal // montoTotalFacturas: Σ montoTotal
	dias      int             // diasDescuento: from hoy to the latest due date
	descuento decimal.Decimal // montoDescuento at tasa for dias
}

// cotizar prices an operación over fs (at least one) at tasa on hoy.
func cotizar(fs []*ent.Factura, tasa decimal.Decimal, hoy time.Time) cotizacion {
	total := decimal.Zero
	vencimiento := fs[0].FechaVencimiento
	for _, f := range fs {
		total = total.Add(f.MontoTotal)
		if f.FechaVencimiento.After(vencimiento) {
			vencimiento = f.FechaVencimiento
		}
	}
	dias := clock.DaysBetween(hoy, vencimiento)
	return cotizacion{total: total, dias: dias, descuento: money.Descuento(total, tasa, dias)}
}

// Aprobar approves a PENDIENTE operación: it takes the invoices' total from
// the cliente's available line and cedes the invoices.
//
// Four eyes: whoever created the operación may not approve it, whatever
// their roles (admin included). Only with authentication disabled, where
// everyone is "anonimo", is there nobody to tell apart.
//
// The risk limits are checked under the same locks (the deudores of its
// facturas are locked after the cliente and before the operación): for
// each deudor with a lineaExposicion, its exposure across every cliente
// plus its facturas here must not exceed it; and, unless the cliente's
// concentracionMaxima is 100.00, the cliente's exposure to each deudor
// after the approval must not exceed that percentage of its lineaCredito.
// Equal amounts pass. A refusal names each deudor's RUT, the limit and the
// amount over it, and changes nothing.
//
// Errors: NOT_FOUND; CONFLICT unless PENDIENTE; FORBIDDEN for the
// operación's creator; VALIDATION_ERROR on cliente when the cliente is not
// ACTIVO, on facturas when an invoice is no longer EN_PROCESO, is overdue,
// is of a BLOQUEADO deudor, RECLAMADA or (with FACTORING_EXIGIR_ACUSE) not
// yet accepted, on lineaDisponible when the available line does not cover
// the total, on lineaExposicion when a deudor's limit does not, and on
// concentracionMaxima when the cliente's cap on one deudor does not.
func (s *Service) Aprobar(ctx context.Context, id int) (*ent.Operacion, error) {
	return s.transition(ctx, id, estado.AprobarOperacion, func(t *transitionTx) error {
		if err := checkCuatroOjos(ctx, t.tx, id); err != nil {
			return err
		}
		r, err := s.riesgoDeAprobar(ctx, t)
		if err != nil {
			return err
		}
		if err := decideAprobar(t.cliente, t.op, t.facturas, t.hoy, r); err != nil {
			return err
		}
		anterior := t.cliente.LineaDisponible
		nueva := anterior.Sub(t.op.MontoTotalFacturas)
		if err := t.setLineaDisponible(nueva); err != nil {
			return err
		}
		if err := facturas.Aplicar(ctx, t.tx, t.facturas, estado.CederFactura, t.now); err != nil {
			return err
		}
		t.update.SetFechaAprobacion(t.now)
		t.detalle = map[string]any{
			"facturaIds":              gid.EncodeAll(t.facturaIDs()),
			"lineaDisponibleAnterior": money.String(anterior),
			"lineaDisponibleNueva":    money.String(nueva),
		}
		return nil
	})
}

// riesgoDeAprobar reads what the approval's risk rules decide on, under
// the transition's locks: the exposures it needs and nothing more (none
// with no limit on any of the deudores and no cap on the cliente, as with
// the defaults).
func (s *Service) riesgoDeAprobar(ctx context.Context, t *transitionTx) (riesgo, error) {
	r := riesgo{
		deudores:      porID(t.deudores),
		concentracion: clientes.Concentracion(t.cliente, s.concentracion),
		exigirAcuse:   s.exigirAcuse,
	}
	var conLinea, todos []int
	for _, d := range t.deudores {
		todos = append(todos, d.ID)
		if d.LineaExposicion != nil {
			conLinea = append(conLinea, d.ID)
		}
	}
	var err error
	if r.exposicion, err = deudores.Exposiciones(ctx, t.tx.Client(), conLinea); err != nil {
		return r, err
	}
	if r.concentracion.LessThan(clientes.SinTope) {
		if r.delCliente, err = deudores.Exposiciones(ctx, t.tx.Client(), todos, factura.ClienteID(t.cliente.ID)); err != nil {
			return r, err
		}
	}
	return r, nil
}

// decideAprobar is the approval's rule over the locked rows, in order: the
// cliente is ACTIVO (on cliente); every invoice can still be ceded, that is
// EN_PROCESO, not overdue on hoy and kept by nothing of its deudor or its
// acuse (on facturas, listing every one that cannot); the cliente's
// available line covers montoTotalFacturas (on lineaDisponible); each
// deudor's lineaExposicion covers its exposure plus its facturas here (on
// lineaExposicion); the cliente's cap on one deudor covers its exposure to
// each deudor plus its facturas here (on concentracionMaxima). Equal
// amounts pass every limit; each limit's refusal lists every deudor over
// it.
func decideAprobar(c *ent.Cliente, op *ent.Operacion, fs []*ent.Factura, hoy time.Time, r riesgo) *apperror.Error {
	if c.Estado != estado.ClienteActivo {
		return apperror.Invalid("cliente", fmt.Sprintf("El cliente debe estar ACTIVO para aprobar (está %s).", c.Estado))
	}
	var problemas []string
	for _, f := range fs {
		switch {
		case !estado.Facturas.Puede(estado.CederFactura, f.Estado):
			problemas = append(problemas, fmt.Sprintf("%s (%s)", gid.Encode(f.ID), f.Estado))
		case facturas.Vencida(f, hoy):
			problemas = append(problemas, fmt.Sprintf("%s (vencida el %s)", gid.Encode(f.ID), f.FechaVencimiento.Format(time.DateOnly)))
		default:
			if motivo := r.impedimento(f, hoy); motivo != "" {
				problemas = append(problemas, fmt.Sprintf("%s (%s)", gid.Encode(f.ID), motivo))
			}
		}
	}
	if len(problemas) > 0 {
		return apperror.Invalid("facturas", "Todas las facturas deben seguir EN_PROCESO, sin vencer y cedibles; no lo están: "+strings.Join(problemas, ", ")+".")
	}
	if total, disponible := op.MontoTotalFacturas, c.LineaDisponible; total.GreaterThan(disponible) {
		return apperror.Invalid("lineaDisponible", fmt.Sprintf(
			"La línea disponible del cliente (%s) no cubre el monto de la operación (%s).", money.String(disponible), money.String(total)))
	}
	return decideLimites(c, fs, r)
}

// decideLimites checks the deudores' lines and the cliente's
// concentración for an operación over fs (decideAprobar's last two rules).
func decideLimites(c *ent.Cliente, fs []*ent.Factura, r riesgo) *apperror.Error {
	aqui := map[int]decimal.Decimal{} // deudor -> Σ saldo of its facturas in this operación
	for _, f := range fs {
		aqui[f.DeudorID] = aqui[f.DeudorID].Add(deudores.Saldo(f))
	}
	ids := slices.Sorted(maps.Keys(aqui))
	nombre := func(id int) string {
		if d := r.deudores[id]; d != nil {
			return fmt.Sprintf("%s (%s)", d.Rut, d.RazonSocial)
		}
		return gid.Encode(id)
	}
	var sobreLinea []string
	for _, id := range ids {
		d := r.deudores[id]
		if d == nil || d.LineaExposicion == nil {
			continue
		}
		antes, linea := r.exposicion[id], *d.LineaExposicion
		if despues := antes.Add(aqui[id]); despues.GreaterThan(linea) {
			sobreLinea = append(sobreLinea, fmt.Sprintf("%s: línea de exposición %s, exposición %s + %s de esta operación = %s, exceso %s",
				nombre(id), money.String(linea), money.String(antes), money.String(aqui[id]), money.String(despues), money.String(despues.Sub(linea))))
		}
	}
	if len(sobreLinea) > 0 {
		return apperror.Invalid("lineaExposicion", "La operación supera la línea de exposición de sus deudores: "+strings.Join(sobreLinea, "; ")+".")
	}
	if r.concentracion.IsZero() || !r.concentracion.LessThan(clientes.SinTope) {
		return nil
	}
	tope := clientes.TopeDeudor(c, r.concentracion)
	var sobreTope []string
	for _, id := range ids {
		antes := r.delCliente[id]
		if despues := antes.Add(aqui[id]); despues.GreaterThan(tope) {
			sobreTope = append(sobreTope, fmt.Sprintf("%s: exposición del cliente %s + %s de esta operación = %s, exceso %s",
				nombre(id), money.String(antes), money.String(aqui[id]), money.String(despues), money.String(despues.Sub(tope))))
		}
	}
	if len(sobreTope) > 0 {
		return apperror.Invalid("concentracionMaxima", fmt.Sprintf(
			"La operación supera la concentración máxima del cliente en un deudor (%s %% de su línea de crédito %s = %s por deudor): %s.",
			money.String(r.concentracion), money.String(c.LineaCredito), money.String(tope), strings.Join(sobreTope, "; ")))
	}
	return nil
}

// checkCuatroOjos refuses an approval by the operación's creator: the actor
// of its CREADA event. Without an authenticated principal (authentication
// disabled) there is nobody to tell apart and the check is skipped; it is
// the principal that decides, not the actor's name, so a token whose
// subject happens to be "anonimo" is checked like any other.
func checkCuatroOjos(ctx context.Context, tx *ent.Tx, id int) error {
	if _, ok := auth.FromContext(ctx); !ok {
		return nil
	}
	actor := auth.Actor(ctx)
	creador, err := tx.OperacionEvento.Query().
		Where(operacionevento.OperacionID(id), operacionevento.TipoEQ(estado.EventoCreada)).
		Select(operacionevento.FieldActor).
		String(ctx)
	if err != nil {
		return fmt.Errorf("leer quién creó la operación: %w", err)
	}
	if auth.SameSubject(creador, actor) {
		return apperror.Forbiddenf("No puede aprobar una operación que usted mismo creó: " +
			"la aprobación la hace otra persona (control de cuatro ojos).")
	}
	return nil
}

// Rechazar rejects a PENDIENTE operación and releases its invoices
// (DISPONIBLE again). The credit line is untouched.
//
// Errors: VALIDATION_ERROR on motivo (fewer than 3 characters, or more than
// 500); NOT_FOUND; CONFLICT unless PENDIENTE.
func (s *Service) Rechazar(ctx context.Context, id int, motivo string) (*ent.Operacion, error) {
	v := validate.Errors{}
	m := v.Text("motivo", motivo, 3, maxMotivo)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.transition(ctx, id, estado.RechazarOperacion, func(t *transitionTx) error {
		if err := facturas.Aplicar(ctx, t.tx, t.facturas, estado.LiberarFactura, t.now); err != nil {
			return err
		}
		t.update.SetMotivoRechazo(m)
		t.detalle = map[string]any{"motivo": m}
		return nil
	})
}

// Desembolsar records the payout of an APROBADA operación.
//
// Errors: NOT_FOUND; CONFLICT unless APROBADA.
func (s *Service) Desembolsar(ctx context.Context, id int) (*ent.Operacion, error) {
	return s.transition(ctx, id, estado.DesembolsarOperacion, func(t *transitionTx) error {
		t.update.SetFechaDesembolso(t.now)
		t.detalle = map[string]any{"montoADesembolsar": money.String(t.op.MontoADesembolsar)}
		return nil
	})
}

// Finalizar closes an APROBADA or DESEMBOLSADA operación once every invoice
// is paid, giving its total back to the cliente's available line.
//
// Errors: NOT_FOUND; CONFLICT unless APROBADA or DESEMBOLSADA;
// VALIDATION_ERROR on facturas listing the invoices not yet PAGADA.
func (s *Service) Finalizar(ctx context.Context, id int) (*ent.Operacion, error) {
	return s.transition(ctx, id, estado.FinalizarOperacion, func(t *transitionTx) error {
		if impagas := filterIDs(t.facturas, func(f *ent.Factura) bool { return f.Estado != estado.FacturaPagada }); len(impagas) > 0 {
			return apperror.Invalid("facturas", "Todas las facturas deben estar PAGADA para finalizar; faltan: "+list(impagas)+".")
		}
		anterior := t.cliente.LineaDisponible
		nueva := anterior.Add(t.op.MontoTotalFacturas)
		if err := t.setLineaDisponible(nueva); err != nil {
			return err
		}
		t.update.SetFechaFinalizacion(t.now)
		t.detalle = map[string]any{
			"lineaDisponibleAnterior": money.String(anterior),
			"lineaDisponibleNueva":    money.String(nueva),
		}
		return nil
	})
}

// transitionTx is one state change of an operación in progress: the
// instant it happens, the rows locked for it and the writes being prepared.
type transitionTx struct {
	ctx      context.Context
	tx       *ent.Tx
	now      time.Time // the one clock reading of the transaction
	hoy      time.Time // the business date of now
	cliente  *ent.Cliente
	deudores []*ent.Deudor // locked only for an approval
	op       *ent.Operacion
	facturas []*ent.Factura
	update   *ent.OperacionUpdateOne
	detalle  map[string]any
}

func (t *transitionTx) setLineaDisponible(v decimal.Decimal) error {
	return t.tx.Cliente.UpdateOne(t.cliente).SetLineaDisponible(v).SetActualizadoEn(t.now).Exec(t.ctx)
}

func (t *transitionTx) facturaIDs() []int {
	ids := make([]int, len(t.facturas))
	for i, f := range t.facturas {
		ids[i] = f.ID
	}
	return ids
}

// transition is the shape of every state change of an operación: read the
// clock, lock the cliente, the operación and its invoices (and, for an
// approval, which decides on their limits, the deudores of the invoices),
// check the state machine, let act check the action's own rules and prepare
// its writes, then save the operación and append its event and its audit
// entry, all in one transaction.
func (s *Service) transition(ctx context.Context, id int, a estado.Accion, act func(*transitionTx) error) (*ent.Operacion, error) {
	ctx = requestid.Ensure(ctx) // one request id for the event and the audit entry
	var updated *ent.Operacion
	err := s.db.WithTx(ctx, func(tx *ent.Tx) error {
		now := s.clock.Now()
		l, err := s.db.Lock(ctx, tx, database.LockSet{
			ClienteDeOperacion: true,
			DeudoresDeFacturas: a == estado.AprobarOperacion,
			OperacionID:        &id,
			Facturas:           factura.HasOperacionesWith(operacion.ID(id)),
		})
		if err != nil {
			return err
		}
		next, err := estado.Operaciones.Siguiente(a, l.Operacion.Estado)
		if err != nil {
			return err
		}
		t := &transitionTx{
			ctx: ctx, tx: tx, now: now, hoy: clock.Today(now, s.zone),
			cliente: l.Cliente, deudores: l.Deudores, op: l.Operacion, facturas: l.Facturas,
			update: tx.Operacion.UpdateOne(l.Operacion).SetEstado(next).SetActualizadoEn(now),
		}
		if err := act(t); err != nil {
			return err
		}
		if updated, err = t.update.Save(ctx); err != nil {
			return err
		}
		return registrar(ctx, tx, now, estado.EventoDe(a), t.op, updated, t.facturas, t.detalle)
	})
	if err != nil {
		return nil, fmt.Errorf("%s %d: %w", a, id, err)
	}
	return updated.Unwrap(), nil
}

// registrar records one change of an operación twice, in tx: its
// OperacionEvento (the operación's own trail, which replays its states) and
// its entry in the audit trail of every mutation. Both are stamped now (the
// instant the transaction stamped the operación with), by the request's
// actor, under its request and correlation ids. antes is the operación
// before the change (nil when it was created), despues after it; fs are its
// invoices as they were before (the entry records what the change did to
// them); detalle is the event's snapshot.
func registrar(ctx context.Context, tx *ent.Tx, now time.Time, tipo estado.TipoEvento, antes, despues *ent.Operacion, fs []*ent.Factura, detalle map[string]any) error {
	var anterior *estado.Operacion
	if antes != nil {
		anterior = &antes.Estado
	}
	var corr *string
	if c := requestid.Correlation(ctx); c != "" {
		corr = &c
	}
	err := tx.OperacionEvento.Create().
		SetOperacionID(despues.ID).
		SetTipo(tipo).
		SetFecha(now).
		SetNillableEstadoAnterior(anterior).
		SetEstadoNuevo(despues.Estado).
		SetRequestID(requestid.FromContext(ctx)).
		SetNillableCorrelationID(corr).
		SetActor(auth.Actor(ctx)).
		SetDetalle(detalle).
		Exec(ctx)
	if err != nil {
		return err
	}
	tipoAud := estado.AuditoriaDe(tipo)
	e := auditoria.Operacion(tipoAud, antes, despues)
	e.Contexto = maps.Clone(detalle)
	e.FacturaIDs = make([]int, len(fs))
	for i, f := range fs {
		e.FacturaIDs[i] = f.ID
	}
	if a, ok := estado.AccionSobreFacturas(tipoAud); ok {
		e = e.Con("facturas", movidas(fs, a))
	}
	return auditoria.Registrar(ctx, tx, now, e)
}

// movidas is what action a did to the invoices fs (as they were before):
// each one's id and its state before and after.
func movidas(fs []*ent.Factura, a estado.Accion) []map[string]any {
	hacia := estado.Facturas.Hacia(a)
	out := make([]map[string]any, len(fs))
	for i, f := range fs {
		out[i] = map[string]any{"id": gid.Encode(f.ID), "estadoAnterior": string(f.Estado), "estadoNuevo": string(hacia)}
	}
	return out
}

func filterIDs(fs []*ent.Factura, keep func(*ent.Factura) bool) []int {
	var out []int
	for _, f := range fs {
		if keep(f) {
			out = append(out, f.ID)
		}
	}
	return out
}

// list renders ids as the API shows them, comma-separated.
func list(ids []int) string { return strings.Join(gid.EncodeAll(ids), ", ") }
