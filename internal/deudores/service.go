// Package deudores holds the rules of the Deudor, the company that owes a
// factura: it is created on first sight of its RUT (by registrarFactura,
// through DeOFactura), and risk sets its lineaExposicion (the most the
// company finances against it, across every cliente), blocks it (its
// facturas can no longer be ceded) or activates it again. Its exposure, the
// money at risk on it, is derived from its facturas (exposicion.go), and
// the approval of an operación checks it against the limit
// (internal/operaciones).
//
// Every mutation is one transaction that locks the deudor it decides on
// (database.Lock) and records itself in the audit trail
// (internal/auditoria).
package deudores

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/deudor"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/auditoria"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/money"
	"github.com/banpro/factoring/internal/validate"
)

// Field lengths (docs/dominio.md, "Deudor").
const (
	maxRazonSocial = 255
	maxMotivo      = 500
)

// Service runs the deudor mutations, each one transaction.
type Service struct {
	db    *database.DB
	clock clock.Clock
}

// NewService returns the deudor service.
func NewService(db *database.DB, c clock.Clock) *Service {
	return &Service{db: db, clock: c}
}

// ActualizarInput is the input of Actualizar (GraphQL
// ActualizarDeudorInput). A nil field is left as it is.
type ActualizarInput struct {
	RazonSocial *string
}

// Actualizar changes a deudor's data. Its RUT never changes; its state and
// its limit only through their own actions. The facturas keep the razón
// social they were registered with.
//
// Errors: NOT_FOUND; VALIDATION_ERROR on razonSocial.
func (s *Service) Actualizar(ctx context.Context, id int, in ActualizarInput) (*ent.Deudor, error) {
	v := validate.Errors{}
	var razonSocial *string
	if in.RazonSocial != nil {
		t := v.Text("razonSocial", *in.RazonSocial, 1, maxRazonSocial)
		razonSocial = &t
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.update(ctx, id, "actualizar deudor", estado.AudDeudorActualizado, func(_ *ent.Tx, _ *ent.Deudor, u *ent.DeudorUpdateOne) (map[string]any, error) {
		u.SetNillableRazonSocial(razonSocial)
		return nil, nil
	})
}

// FijarLineaExposicion sets the deudor's lineaExposicion, the most the
// company finances against it across every cliente; nil removes the limit.
// A limit below the current exposure is allowed: nothing more is approved
// against the deudor until its exposure falls below it. The entry records
// the exposure when the limit was set.
//
// Errors: NOT_FOUND; VALIDATION_ERROR on lineaExposicion when negative.
func (s *Service) FijarLineaExposicion(ctx context.Context, id int, linea *decimal.Decimal) (*ent.Deudor, error) {
	if linea != nil && linea.IsNegative() {
		return nil, apperror.Invalid("lineaExposicion", "No puede ser negativa (para no financiar nada contra el deudor, fíjela en 0).")
	}
	return s.update(ctx, id, "fijar línea de exposición", estado.AudDeudorLineaFijada, func(tx *ent.Tx, d *ent.Deudor, u *ent.DeudorUpdateOne) (map[string]any, error) {
		if linea == nil {
			u.ClearLineaExposicion()
		} else {
			u.SetLineaExposicion(*linea)
		}
		exp, err := Exposiciones(ctx, tx.Client(), []int{d.ID})
		if err != nil {
			return nil, err
		}
		return map[string]any{"exposicion": money.String(exp[d.ID])}, nil
	})
}

// Bloquear blocks an ACTIVO deudor, with a required reason: its facturas
// can no longer be ceded (crearOperacion and aprobarOperacion refuse them).
// What is already approved stays approved.
//
// Errors: NOT_FOUND; VALIDATION_ERROR on motivo (blank or too long);
// CONFLICT when already BLOQUEADO.
func (s *Service) Bloquear(ctx context.Context, id int, motivo string) (*ent.Deudor, error) {
	v := validate.Errors{}
	m := v.Text("motivo", motivo, 1, maxMotivo)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.transition(ctx, id, estado.BloquearDeudor, &m)
}

// Activar moves a BLOQUEADO deudor back to ACTIVO and clears the reason of
// its block.
//
// Errors: NOT_FOUND; CONFLICT unless BLOQUEADO.
func (s *Service) Activar(ctx context.Context, id int) (*ent.Deudor, error) {
	return s.transition(ctx, id, estado.ActivarDeudor, nil)
}

// transition applies a state action; motivoEstado becomes motivo (nil
// clears it).
func (s *Service) transition(ctx context.Context, id int, a estado.Accion, motivo *string) (*ent.Deudor, error) {
	return s.update(ctx, id, string(a), estado.AuditoriaDeAccion(a), func(_ *ent.Tx, d *ent.Deudor, u *ent.DeudorUpdateOne) (map[string]any, error) {
		next, err := estado.Deudores.Siguiente(a, d.Estado)
		if err != nil {
			return nil, err
		}
		u.SetEstado(next)
		if motivo == nil {
			u.ClearMotivoEstado()
		} else {
			u.SetMotivoEstado(*motivo)
		}
		return nil, nil
	})
}

// update is the shape of every change to one deudor: lock its row, let
// decide check the rules, fill the update and say what else the entry
// records, save, record the change in the audit trail as tipo, commit.
func (s *Service) update(ctx context.Context, id int, what string, tipo estado.TipoAuditoria,
	decide func(*ent.Tx, *ent.Deudor, *ent.DeudorUpdateOne) (map[string]any, error)) (*ent.Deudor, error) {
	var updated *ent.Deudor
	err := s.db.WithTx(ctx, func(tx *ent.Tx) error {
		now := s.clock.Now()
		l, err := s.db.Lock(ctx, tx, database.LockSet{DeudorIDs: []int{id}})
		if err != nil {
			return err
		}
		if len(l.Deudores) == 0 {
			return noDeudor(id)
		}
		d := l.Deudores[0]
		u := tx.Deudor.UpdateOne(d).SetActualizadoEn(now)
		contexto, err := decide(tx, d, u)
		if err != nil {
			return err
		}
		if updated, err = u.Save(ctx); err != nil {
			return err
		}
		e := auditoria.Deudor(tipo, d, updated)
		for k, v := range contexto {
			e = e.Con(k, v)
		}
		return auditoria.Registrar(ctx, tx, now, e)
	})
	if err != nil {
		return nil, fmt.Errorf("%s %d: %w", what, id, err)
	}
	return updated.Unwrap(), nil
}

func noDeudor(id int) error {
	return apperror.NotFoundf("No existe un deudor con ID %s.", gid.Encode(id))
}

// DeOFactura is the deudor of rut (canonical) for a factura being
// registered in tx: the existing one, or a new one, ACTIVO and without a
// limit, named razonSocial (the factura's), with its DEUDOR_CREADO audit
// entry. It does not lock the deudor: registering a factura decides
// nothing on it (a BLOQUEADO deudor's factura is registered; it just cannot
// be ceded).
//
// Two transactions that see a new RUT at once both try to create it; the
// loser's unique violation is reported as lost contention
// (database.Carrera), so WithTx runs it again and it finds the winner's
// row.
func DeOFactura(ctx context.Context, tx *ent.Tx, rut, razonSocial string, now time.Time) (*ent.Deudor, error) {
	d, err := tx.Deudor.Query().Where(deudor.Rut(rut)).Only(ctx)
	if err == nil {
		return d, nil
	}
	if !ent.IsNotFound(err) {
		return nil, fmt.Errorf("leer el deudor %s: %w", rut, err)
	}
	d, err = tx.Deudor.Create().
		SetRut(rut).
		SetRazonSocial(razonSocial).
		SetEstado(estado.DeudorActivo).
		SetCreadoEn(now).
		SetActualizadoEn(now).
		Save(ctx)
	if database.IsUniqueViolation(err) {
		return nil, database.Carrera(fmt.Errorf("crear el deudor %s: otra transacción lo creó: %w", rut, err))
	}
	if err != nil {
		return nil, fmt.Errorf("crear el deudor %s: %w", rut, err)
	}
	if err := auditoria.Registrar(ctx, tx, now, auditoria.Deudor(estado.AudDeudorCreado, nil, d)); err != nil {
		return nil, err
	}
	return d, nil
}
