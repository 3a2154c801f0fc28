// Package facturas holds the rules of the Factura: registration (which
// links it to its deudor), the actions a user takes on one invoice (paying
// it, voiding it, recording its deudor's acuse de recibo), whether it can
// be ceded (Impedimento) and the overdue job. Holding, releasing and ceding
// invoices belong to the operaciones that do it; they move the invoices
// with Aplicar.
package facturas

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/factura"
	"github.com/banpro/factoring/ent/predicate"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/auditoria"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/deudores"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/requestid"
	"github.com/banpro/factoring/internal/validate"
)

// Service runs the factura mutations, each one transaction.
type Service struct {
	db    *database.DB
	clock clock.Clock
	zone  *time.Location
}

// NewService returns the factura service. zone is the business time zone:
// "today" is the date there.
func NewService(db *database.DB, c clock.Clock, zone *time.Location) *Service {
	return &Service{db: db, clock: c, zone: zone}
}

// Field lengths (docs/dominio.md, "Factura").
const (
	maxNumero      = 50
	maxRazonSocial = 255
	maxMotivo      = 500
)

// Date bounds (docs/dominio.md, "Factura"). An invoice is issued on a
// calendar date from MinFechaEmision to today, and falls due at most
// MaxAniosVencimiento years after its issue. So an operación's
// diasDescuento (today to the latest due date) is at most about 1,827
// days: a due date in 9999 once priced a discount above the total, which
// the database refused (an INTERNAL_ERROR).
var MinFechaEmision = clock.Date(2000, time.January, 1)

// MaxAniosVencimiento bounds the term of an invoice, in years.
const MaxAniosVencimiento = 5

// RegistrarInput is the input of Registrar (GraphQL RegistrarFacturaInput).
type RegistrarInput struct {
	ClienteID         int
	NumeroFactura     string
	RutDeudor         string
	RazonSocialDeudor string
	MontoTotal        decimal.Decimal
	FechaEmision      time.Time
	FechaVencimiento  time.Time
	// FechaRecepcion is when the deudor received it; nil: its FechaEmision.
	FechaRecepcion *time.Time
}

// Registrar records a cliente's invoice, DISPONIBLE, with its acuse de
// recibo PENDIENTE, linked to the deudor of its rutDeudor: the existing one,
// or a new one (ACTIVO, without a limit, named as the invoice names it, with
// its own DEUDOR_CREADO entry) the first time the RUT is seen.
//
// Errors: VALIDATION_ERROR (numeroFactura, rutDeudor, razonSocialDeudor,
// montoTotal > 0, fechaEmision from 2000-01-01 to today, fechaVencimiento
// after fechaEmision and at most 5 years after it, fechaRecepcion from
// fechaEmision to today, rutDeudor other than the cliente's, clienteId of a
// BLOQUEADO cliente); NOT_FOUND when the cliente does not exist; CONFLICT on
// numeroFactura when the cliente already has an invoice with that number.
func (s *Service) Registrar(ctx context.Context, in RegistrarInput) (*ent.Factura, error) {
	v := validate.Errors{}
	numero := v.Text("numeroFactura", in.NumeroFactura, 1, maxNumero)
	rutDeudor := v.RUT("rutDeudor", in.RutDeudor)
	razonSocial := v.Text("razonSocialDeudor", in.RazonSocialDeudor, 1, maxRazonSocial)
	v.Positive("montoTotal", in.MontoTotal)
	hoy := clock.Today(s.clock.Now(), s.zone)
	checkFechas(v, in.FechaEmision, in.FechaVencimiento, hoy)
	recepcion := in.FechaEmision
	if in.FechaRecepcion != nil {
		recepcion = *in.FechaRecepcion
		checkRecepcion(v, in.FechaEmision, recepcion, hoy)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	duplicate := apperror.ConflictOn("numeroFactura", fmt.Sprintf("El cliente ya tiene una factura número %s.", numero))
	ctx = requestid.Ensure(ctx) // one request id for the deudor's entry and the factura's

	var created *ent.Factura
	err := s.db.WithTx(ctx, func(tx *ent.Tx) error {
		now := s.clock.Now()
		l, err := s.db.Lock(ctx, tx, database.LockSet{ClienteID: &in.ClienteID})
		if err != nil {
			return err
		}
		c := l.Cliente
		if c.Estado == estado.ClienteBloqueado {
			return apperror.Invalid("clienteId", "El cliente está BLOQUEADO: no se le pueden registrar facturas.")
		}
		if rutDeudor == c.Rut {
			return apperror.Invalid("rutDeudor", "El deudor no puede ser el mismo cliente.")
		}
		exists, err := tx.Factura.Query().Where(factura.ClienteID(c.ID), factura.NumeroFactura(numero)).Exist(ctx)
		if err != nil {
			return err
		}
		if exists {
			return duplicate
		}
		d, err := deudores.DeOFactura(ctx, tx, rutDeudor, razonSocial, now)
		if err != nil {
			return err
		}
		created, err = tx.Factura.Create().
			SetClienteID(c.ID).
			SetNumeroFactura(numero).
			SetDeudorID(d.ID).
			SetRutDeudor(rutDeudor).
			SetRazonSocialDeudor(razonSocial).
			SetMontoTotal(in.MontoTotal).
			SetFechaEmision(in.FechaEmision).
			SetFechaVencimiento(in.FechaVencimiento).
			SetFechaRecepcion(recepcion).
			SetEstado(estado.FacturaDisponible).
			SetEstadoAcuse(estado.AcusePendiente).
			SetCreadoEn(now).
			SetActualizadoEn(now).
			Save(ctx)
		if database.IsUniqueViolation(err) {
			return duplicate.WithCause(err)
		}
		if err != nil {
			return err
		}
		return auditoria.Registrar(ctx, tx, now, auditoria.Factura(estado.AudFacturaRegistrada, nil, created))
	})
	if err != nil {
		return nil, fmt.Errorf("registrar factura %q: %w", numero, err)
	}
	return created.Unwrap(), nil
}

// checkFechas records what is wrong with an invoice's dates on hoy: issued
// from MinFechaEmision to hoy, due after its issue and at most
// MaxAniosVencimiento years after it.
func checkFechas(v validate.Errors, emision, vencimiento, hoy time.Time) {
	const layout = "2006-01-02"
	switch {
	case emision.Before(MinFechaEmision):
		v.Add("fechaEmision", "No puede ser anterior al %s.", MinFechaEmision.Format(layout))
	case emision.After(hoy):
		v.Add("fechaEmision", "No puede ser posterior a hoy (%s).", hoy.Format(layout))
	}
	limite := emision.AddDate(MaxAniosVencimiento, 0, 0)
	switch {
	case !vencimiento.After(emision):
		v.Add("fechaVencimiento", "Debe ser posterior a la fecha de emisión.")
	case vencimiento.After(limite):
		v.Add("fechaVencimiento", "No puede ser más de %d años posterior a la fecha de emisión (a más tardar el %s).",
			MaxAniosVencimiento, limite.Format(layout))
	}
}

// checkRecepcion records what is wrong with an invoice's reception date:
// the deudor receives it from its issue to today.
func checkRecepcion(v validate.Errors, emision, recepcion, hoy time.Time) {
	const layout = "2006-01-02"
	switch {
	case recepcion.Before(emision):
		v.Add("fechaRecepcion", "No puede ser anterior a la fecha de emisión (%s).", emision.Format(layout))
	case recepcion.After(hoy):
		v.Add("fechaRecepcion", "No puede ser posterior a hoy (%s).", hoy.Format(layout))
	}
}

// Pagar records that the debtor paid: DISPONIBLE, CEDIDA or VENCIDA become
// PAGADA.
//
// Errors: NOT_FOUND; CONFLICT from any other state (an invoice held by a
// pending operación, or already paid or voided).
func (s *Service) Pagar(ctx context.Context, id int) (*ent.Factura, error) {
	return s.transition(ctx, id, estado.PagarFactura, nil)
}

// Anular voids a DISPONIBLE invoice, recording the reason if given. A paid,
// ceded or held invoice cannot be voided.
//
// Errors: NOT_FOUND; VALIDATION_ERROR on motivo (too long); CONFLICT from any
// state but DISPONIBLE.
func (s *Service) Anular(ctx context.Context, id int, motivo *string) (*ent.Factura, error) {
	v := validate.Errors{}
	m := v.OptionalText("motivo", motivo, maxMotivo)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.transition(ctx, id, estado.AnularFactura, m)
}

// MarcarVencidas is the overdue job: every invoice VencerFactura may start
// from (DISPONIBLE, CEDIDA) that fell due before today in the business time
// zone becomes VENCIDA, each with its FACTURA_VENCIDA audit entry, all under
// one request id. It locks them through the global lock order, like every
// mutation, so it serializes with crearOperacion instead of deadlocking. It
// returns how many it marked.
//
// Errors: none of its own; a database failure is returned as it is.
func (s *Service) MarcarVencidas(ctx context.Context, zone *time.Location) (int, error) {
	var n int
	err := s.db.WithTx(ctx, func(tx *ent.Tx) error {
		now := s.clock.Now()
		l, err := s.db.Lock(ctx, tx, database.LockSet{Facturas: factura.And(
			factura.EstadoIn(estado.Facturas.Desde(estado.VencerFactura)...),
			vencidaAl(clock.Today(now, zone)),
		)})
		if err != nil {
			return err
		}
		n = len(l.Facturas)
		if err := Aplicar(ctx, tx, l.Facturas, estado.VencerFactura, now); err != nil {
			return err
		}
		entradas := make([]auditoria.Entrada, len(l.Facturas))
		for i, f := range l.Facturas {
			vencida := *f
			vencida.Estado, vencida.ActualizadoEn = estado.Facturas.Hacia(estado.VencerFactura), now
			entradas[i] = auditoria.Factura(estado.AudFacturaVencida, f, &vencida)
		}
		return auditoria.Registrar(ctx, tx, now, entradas...)
	})
	if err != nil {
		return 0, fmt.Errorf("marcar facturas vencidas: %w", err)
	}
	return n, nil
}

// Vencida reports whether f is overdue on hoy: due before today. On its due
// date an invoice is still current.
func Vencida(f *ent.Factura, hoy time.Time) bool { return f.FechaVencimiento.Before(hoy) }

// vencidaAl is Vencida as a query condition.
func vencidaAl(hoy time.Time) predicate.Factura { return factura.FechaVencimientoLT(hoy) }

// Aplicar applies action a to every factura in one statement, stamping them
// with now. The state machine must allow a from each one's state (a
// CONFLICT otherwise); every action leads to one state whatever it starts
// from. The facturas must be locked by the caller's transaction tx.
func Aplicar(ctx context.Context, tx *ent.Tx, facturas []*ent.Factura, a estado.Accion, now time.Time) error {
	if len(facturas) == 0 {
		return nil
	}
	var next estado.Factura
	ids := make([]int, len(facturas))
	for i, f := range facturas {
		var err error
		if next, err = estado.Facturas.Siguiente(a, f.Estado); err != nil {
			return err
		}
		ids[i] = f.ID
	}
	return tx.Factura.Update().Where(factura.IDIn(ids...)).SetEstado(next).SetActualizadoEn(now).Exec(ctx)
}

func (s *Service) transition(ctx context.Context, id int, a estado.Accion, motivo *string) (*ent.Factura, error) {
	var updated *ent.Factura
	err := s.db.WithTx(ctx, func(tx *ent.Tx) error {
		now := s.clock.Now()
		l, err := s.db.Lock(ctx, tx, database.LockSet{FacturaIDs: []int{id}})
		if err != nil {
			return err
		}
		if len(l.Facturas) == 0 {
			return apperror.NotFoundf("No existe una factura con ID %s.", gid.Encode(id))
		}
		f := l.Facturas[0]
		next, err := estado.Facturas.Siguiente(a, f.Estado)
		if err != nil {
			return err
		}
		updated, err = tx.Factura.UpdateOne(f).
			SetEstado(next).
			SetNillableMotivoAnulacion(motivo).
			SetActualizadoEn(now).
			Save(ctx)
		if err != nil {
			return err
		}
		return auditoria.Registrar(ctx, tx, now, auditoria.Factura(estado.AuditoriaDeAccion(a), f, updated))
	})
	if err != nil {
		return nil, fmt.Errorf("%s %d: %w", a, id, err)
	}
	return updated.Unwrap(), nil
}
