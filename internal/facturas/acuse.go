package facturas

import (
	"context"
	"fmt"
	"time"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/auditoria"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/validate"
)

// DiasReclamo are the días corridos after its reception in which a deudor
// may claim against a factura (Ley 19.983, art. 3); once they passed
// without a claim, the factura is irrevocably accepted (tacit acceptance).
const DiasReclamo = 8

// AceptacionTacita is the date from which f, received on its
// fechaRecepcion, counts as accepted without a claim: DiasReclamo días
// corridos after it.
func AceptacionTacita(f *ent.Factura) time.Time {
	return f.FechaRecepcion.AddDate(0, 0, DiasReclamo)
}

// Aceptada reports whether f's deudor accepted it on hoy: expressly
// (ACEPTADA) or tacitly (PENDIENTE, with DiasReclamo días corridos passed
// since its reception). A RECLAMADA factura never is.
func Aceptada(f *ent.Factura, hoy time.Time) bool {
	switch f.EstadoAcuse {
	case estado.AcuseAceptada:
		return true
	case estado.AcusePendiente:
		return !hoy.Before(AceptacionTacita(f))
	default:
		return false
	}
}

// Impedimento says why f, owed by d, cannot be ceded on hoy for reasons of
// its deudor or its acuse, or "" when nothing stands in the way: a
// BLOQUEADO deudor's facturas are not cedible; a RECLAMADA factura is never
// cedible; and when exigirAcuse (FACTORING_EXIGIR_ACUSE) a factura is
// cedible only once accepted, expressly or tacitly (Aceptada). Its state
// and due date are the caller's rules.
func Impedimento(f *ent.Factura, d *ent.Deudor, hoy time.Time, exigirAcuse bool) string {
	switch {
	case d != nil && d.Estado == estado.DeudorBloqueado:
		return fmt.Sprintf("deudor %s BLOQUEADO", d.Rut)
	case f.EstadoAcuse == estado.AcuseReclamada:
		return "RECLAMADA por el deudor"
	case exigirAcuse && !Aceptada(f, hoy):
		return fmt.Sprintf("sin acuse de recibo: aceptada tácitamente el %s si no hay reclamo", AceptacionTacita(f).Format(time.DateOnly))
	}
	return ""
}

// RegistrarAcuse records the deudor's acuse de recibo of a factura: it
// accepted it (ACEPTADA, motivo optional) or claimed against it
// (RECLAMADA, motivo required). Either is recorded once, from PENDIENTE; a
// claim is refused once DiasReclamo días corridos passed since the
// factura's reception, when it stands accepted. The factura's own state
// does not change; a RECLAMADA factura just cannot be ceded any more (an
// operación that holds it cannot be approved).
//
// Errors: VALIDATION_ERROR on estado (PENDIENTE) and motivo (missing for a
// claim, too long); NOT_FOUND; CONFLICT when the factura already has its
// acuse, or for a claim after its tacit acceptance.
func (s *Service) RegistrarAcuse(ctx context.Context, id int, acuse estado.Acuse, motivo *string) (*ent.Factura, error) {
	v := validate.Errors{}
	a, ok := estado.AccionDeAcuse(acuse)
	if !ok {
		v.Add("estado", "El acuse es ACEPTADA o RECLAMADA; PENDIENTE es su estado antes de registrarlo.")
	}
	var m *string
	if acuse == estado.AcuseReclamada {
		var given string
		if motivo != nil {
			given = *motivo
		}
		t := v.Text("motivo", given, 1, maxMotivo)
		m = &t
	} else {
		m = v.OptionalText("motivo", motivo, maxMotivo)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
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
		next, err := estado.Acuses.Siguiente(a, f.EstadoAcuse)
		if err != nil {
			return err
		}
		if hoy := clock.Today(now, s.zone); a == estado.ReclamarFactura && Aceptada(f, hoy) {
			return apperror.Conflictf("No se puede reclamar la factura: pasaron %d días corridos desde su recepción (%s) y quedó aceptada tácitamente el %s.",
				DiasReclamo, f.FechaRecepcion.Format(time.DateOnly), AceptacionTacita(f).Format(time.DateOnly))
		}
		updated, err = tx.Factura.UpdateOne(f).
			SetEstadoAcuse(next).
			SetNillableMotivoAcuse(m).
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
