package facturas

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/operacion"
	"github.com/banpro/factoring/ent/operacionfactura"
	"github.com/banpro/factoring/ent/pago"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/auditoria"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/money"
	"github.com/banpro/factoring/internal/validate"
)

// Recourse (factoring "con responsabilidad"): a ceded factura overdue for
// more than DiasRecompra days is put back to the cliente, who owes its
// saldo and interest of mora, and buys it back in cash (RegistrarRecompra)
// or, when its operación is finalized first, against the operación's
// excedente (the liquidación). Neither step moves the credit line: the
// line the operación took at approval is its montoAnticipado, given back
// whole when it is finalized, which a factura bought back, or put back and
// charged against the excedente, no longer holds up.

// ExigirRecompra puts a VENCIDA factura back to its cliente: it becomes
// EN_RECOMPRA and the cliente owes its saldo and interest of mora.
//
// Errors: NOT_FOUND; CONFLICT unless VENCIDA; VALIDATION_ERROR on facturaId
// when no operación holds it ceded (APROBADA or DESEMBOLSADA: a factura
// never ceded is the cliente's already) or when it has not more than
// DiasRecompra days of mora (as the last close of business counted them).
func (s *Service) ExigirRecompra(ctx context.Context, id int) (*ent.Factura, error) {
	return s.recompra(ctx, id, estado.ExigirRecompra, func(r *recompraTx) error {
		if r.op == nil {
			return apperror.Invalid("facturaId", "La factura no está cedida en una operación vigente: solo se exige la recompra de una factura cedida.")
		}
		if r.f.DiasMora <= s.diasRecompra {
			return apperror.Invalid("facturaId", fmt.Sprintf(
				"La factura tiene %d días de mora: la recompra se exige con más de %d.", r.f.DiasMora, s.diasRecompra))
		}
		r.update.SetRecompraExigidaEn(r.now)
		r.contexto = map[string]any{
			"operacionId":   gid.Encode(r.op.ID),
			"montoAdeudado": money.String(Saldo(r.f).Add(r.f.InteresMora)),
		}
		return nil
	})
}

// RegistrarRecompra records that the cliente bought back an EN_RECOMPRA
// factura on fecha, paying monto: exactly its saldo plus its interest of
// mora up to fecha. The factura becomes RECOMPRADA, its mora stops at
// fecha, and monto is its montoRecompra.
//
// Errors: VALIDATION_ERROR on monto (not positive, or not the amount owed,
// which the message states) and on fecha (after today, or before the
// recompra was demanded); NOT_FOUND; CONFLICT unless EN_RECOMPRA.
func (s *Service) RegistrarRecompra(ctx context.Context, id int, monto decimal.Decimal, fecha time.Time) (*ent.Factura, error) {
	v := validate.Errors{}
	v.Positive("monto", monto)
	if hoy := clock.Today(s.clock.Now(), s.zone); fecha.After(hoy) {
		v.Add("fecha", "No puede ser posterior a hoy (%s).", hoy.Format(time.DateOnly))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.recompra(ctx, id, estado.RegistrarRecompra, func(r *recompraTx) error {
		if r.f.RecompraExigidaEn != nil {
			if exigida := clock.Today(*r.f.RecompraExigidaEn, s.zone); fecha.Before(exigida) {
				return apperror.Invalid("fecha", fmt.Sprintf("No puede ser anterior al día en que se exigió la recompra (%s).", exigida.Format(time.DateOnly)))
			}
		}
		pagos, err := r.tx.Pago.Query().Where(pago.FacturaID(r.f.ID)).All(r.ctx)
		if err != nil {
			return err
		}
		var tasa decimal.Decimal
		if r.op != nil {
			tasa = r.op.TasaMora
		}
		m := MoraDe(r.f, pagos, fecha, tasa)
		adeudado := Saldo(r.f).Add(m.Interes)
		if !monto.Equal(adeudado) {
			return apperror.Invalid("monto", fmt.Sprintf(
				"La recompra al %s es de %s: saldo %s más interés de mora %s.",
				fecha.Format(time.DateOnly), money.String(adeudado), money.String(Saldo(r.f)), money.String(m.Interes)))
		}
		r.update.SetMontoRecompra(monto).SetFechaRecompra(fecha).SetDiasMora(m.Dias).SetInteresMora(m.Interes)
		return nil
	})
}

// recompraTx is one recourse step in progress.
type recompraTx struct {
	ctx      context.Context
	tx       *ent.Tx
	now      time.Time
	f        *ent.Factura   // locked
	op       *ent.Operacion // the operación that holds it ceded, locked; nil when none
	update   *ent.FacturaUpdateOne
	contexto map[string]any
}

// recompra is the shape of both recourse steps: lock the operación that
// holds the factura ceded and the factura (the global order), check the
// state machine, let act check its rules and prepare its writes, save and
// audit, in one transaction.
func (s *Service) recompra(ctx context.Context, id int, a estado.Accion, act func(*recompraTx) error) (*ent.Factura, error) {
	var updated *ent.Factura
	err := s.db.WithTx(ctx, func(tx *ent.Tx) error {
		now := s.clock.Now()
		// Which operación holds it is read before locking, as the
		// operación comes first in the order; it is checked again once
		// locked.
		opID, err := tx.OperacionFactura.Query().
			Where(operacionfactura.FacturaID(id), operacionfactura.HasOperacionWith(operacion.EstadoIn(cedentes...))).
			Select(operacionfactura.FieldOperacionID).Int(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return fmt.Errorf("leer la operación de la factura %d: %w", id, err)
		}
		set := database.LockSet{FacturaIDs: []int{id}}
		if err == nil {
			set.OperacionID = &opID
		}
		l, err := s.db.Lock(ctx, tx, set)
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
		op := l.Operacion
		if op != nil && !estado.OperacionOcupaLinea(op.Estado) {
			op = nil // finalized meanwhile
		}
		r := &recompraTx{ctx: ctx, tx: tx, now: now, f: f, op: op,
			update: tx.Factura.UpdateOne(f).SetEstado(next).SetActualizadoEn(now)}
		if err := act(r); err != nil {
			return err
		}
		if updated, err = r.update.Save(ctx); err != nil {
			return err
		}
		e := auditoria.Factura(estado.AuditoriaDeAccion(a), f, updated)
		for k, v := range r.contexto {
			e = e.Con(k, v)
		}
		return auditoria.Registrar(ctx, tx, now, e)
	})
	if err != nil {
		return nil, fmt.Errorf("%s %d: %w", a, id, err)
	}
	return updated.Unwrap(), nil
}

// MorasAl is the mora at hoy of each of fs, at tasa, by factura id,
// reading their payments with c.
func MorasAl(ctx context.Context, c *ent.Client, fs []*ent.Factura, hoy time.Time, tasa decimal.Decimal) (map[int]Mora, error) {
	out := make(map[int]Mora, len(fs))
	if len(fs) == 0 {
		return out, nil
	}
	ids := make([]int, len(fs))
	for i, f := range fs {
		ids[i] = f.ID
	}
	pagos, err := PagosDe(ctx, c, ids)
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		out[f.ID] = MoraDe(f, pagos[f.ID], hoy, tasa)
	}
	return out, nil
}

// compensada is f (EN_RECOMPRA) as the liquidación leaves it, on hoy with
// mora m: RECOMPRADA against the excedente, no montoRecompra.
func compensada(f *ent.Factura, m Mora, hoy time.Time) *ent.Factura {
	c := *f
	c.Estado = estado.Facturas.Hacia(estado.CompensarRecompra)
	c.FechaRecompra = &hoy
	c.MontoRecompra = nil
	c.DiasMora, c.InteresMora = m.Dias, m.Interes
	return &c
}

// Compensadas is fs as the liquidación leaves them, before it writes
// anything: each EN_RECOMPRA one (whose mora at hoy moras holds) bought
// back against the excedente, the others as they are.
func Compensadas(fs []*ent.Factura, moras map[int]Mora, hoy time.Time) []*ent.Factura {
	out := make([]*ent.Factura, len(fs))
	for i, f := range fs {
		out[i] = f
		if m, ok := moras[f.ID]; ok && f.Estado == estado.FacturaEnRecompra {
			out[i] = compensada(f, m, hoy)
		}
	}
	return out
}

// Compensar charges the EN_RECOMPRA facturas fs against the excedente of
// operación opID at its liquidación, on hoy, in tx (which holds their
// locks): each one's mora stops at hoy (moras, from MorasAl) and it becomes
// RECOMPRADA, with no montoRecompra (the cliente paid nothing in cash),
// audited FACTURA_RECOMPRA_COMPENSADA. It returns them as it left them.
func Compensar(ctx context.Context, tx *ent.Tx, fs []*ent.Factura, moras map[int]Mora, hoy, now time.Time, opID int) ([]*ent.Factura, error) {
	out := make([]*ent.Factura, len(fs))
	entradas := make([]auditoria.Entrada, len(fs))
	for i, f := range fs {
		if _, err := estado.Facturas.Siguiente(estado.CompensarRecompra, f.Estado); err != nil {
			return nil, err
		}
		c := compensada(f, moras[f.ID], hoy)
		u, err := tx.Factura.UpdateOne(f).
			SetEstado(c.Estado).SetFechaRecompra(hoy).SetDiasMora(c.DiasMora).SetInteresMora(c.InteresMora).
			SetActualizadoEn(now).Save(ctx)
		if err != nil {
			return nil, err
		}
		out[i] = u
		entradas[i] = auditoria.Factura(estado.AudFacturaRecompraCompensada, f, u).
			Con("operacionId", gid.Encode(opID)).
			Con("montoCompensado", money.String(Saldo(u).Add(u.InteresMora)))
	}
	if err := auditoria.Registrar(ctx, tx, now, entradas...); err != nil {
		return nil, err
	}
	return out, nil
}
