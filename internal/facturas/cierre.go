package facturas

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/cierre"
	"github.com/banpro/factoring/ent/factura"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/auditoria"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/requestid"
)

// The close of business (`factoring cierre`, docs/dominio.md,
// "Collections"). Closing a business date D brings the books to D:
//
//   - every DISPONIBLE or CEDIDA factura due before D becomes VENCIDA, with
//     its FACTURA_VENCIDA audit entry (the overdue job of before, which
//     `factoring marcar-vencidas` still runs);
//   - every factura with a saldo that fell due before D (VENCIDA or
//     EN_RECOMPRA) gets its diasMora and interesMora at D (CalcularMora, at
//     the rate of the operación that holds it ceded; none when no operación
//     does);
//   - the date is recorded in cierres, with what it did, in the same
//     transaction.
//
// A date is closed once: the cierres row of a date is unique, so a run that
// finds its date closed changes nothing, and two replicas closing one date
// at once close it once. Dates are closed in order, one transaction each:
// a run closes every date after the last closed one up to the business
// date, catching up the days the job did not run (the first run ever
// closes only the business date; the mora of earlier days is counted from
// the due dates all the same).

// ResultadoCierre is what closing one business date did.
type ResultadoCierre struct {
	Fecha time.Time
	// FacturasVencidas is how many facturas it marked VENCIDA.
	FacturasVencidas int
	// FacturasEnMora is how many facturas owe days of mora at its date.
	FacturasEnMora int
	// InteresDevengado is the interest of mora it added.
	InteresDevengado decimal.Decimal
}

// FechaNegocio is the business date at instant now: FACTORING_FECHA_NEGOCIO
// when it is set (a replay), today in the business time zone otherwise.
func (s *Service) FechaNegocio(now time.Time) time.Time {
	if !s.fechaNegocio.IsZero() {
		return s.fechaNegocio
	}
	return clock.Today(now, s.zone)
}

// Cerrar is the close of business: it closes, in order, each date after the
// last one closed up to the business date (FechaNegocio), and returns what
// each did; none when the business date was closed already. It reads the
// clock once, so every record of a run carries one instant, and runs under
// one request id.
//
// Errors: VALIDATION_ERROR on fechaNegocio when the business date is after
// today; a database failure as it is (the dates closed before it stay
// closed).
func (s *Service) Cerrar(ctx context.Context) ([]ResultadoCierre, error) {
	now := s.clock.Now()
	return s.cerrarHasta(ctx, now, s.FechaNegocio(now))
}

// MarcarVencidas is the overdue job of before, kept for `factoring
// marcar-vencidas`: the close of business up to today in zone. It returns
// how many facturas it marked VENCIDA.
//
// Errors: as Cerrar's.
func (s *Service) MarcarVencidas(ctx context.Context, zone *time.Location) (int, error) {
	now := s.clock.Now()
	rs, err := s.cerrarHasta(ctx, now, clock.Today(now, zone))
	n := 0
	for _, r := range rs {
		n += r.FacturasVencidas
	}
	return n, err
}

func (s *Service) cerrarHasta(ctx context.Context, now, hasta time.Time) ([]ResultadoCierre, error) {
	if hoy := clock.Today(now, s.zone); hasta.After(hoy) {
		return nil, apperror.Invalid("fechaNegocio", fmt.Sprintf(
			"La fecha de negocio (%s) no puede ser posterior a hoy (%s).", hasta.Format(time.DateOnly), hoy.Format(time.DateOnly)))
	}
	ctx = requestid.Ensure(ctx) // one request id for the whole run
	ultima, err := UltimoCierre(ctx, s.db.Client)
	if err != nil {
		return nil, err
	}
	desde := hasta
	if !ultima.IsZero() {
		desde = ultima.AddDate(0, 0, 1)
	}
	var out []ResultadoCierre
	for d := desde; !d.After(hasta); d = d.AddDate(0, 0, 1) {
		r, err := s.cerrarDia(ctx, now, d)
		switch {
		case errors.Is(err, errYaCerrada):
			continue
		case err != nil:
			return out, fmt.Errorf("cierre del %s: %w", d.Format(time.DateOnly), err)
		}
		out = append(out, r)
	}
	return out, nil
}

// errYaCerrada rolls back the close of a date another run closed first.
var errYaCerrada = errors.New("fecha ya cerrada")

// cerrarDia closes business date d in one transaction stamped now.
func (s *Service) cerrarDia(ctx context.Context, now, d time.Time) (ResultadoCierre, error) {
	r := ResultadoCierre{Fecha: d, InteresDevengado: decimal.Zero}
	err := s.db.WithTx(ctx, func(tx *ent.Tx) error {
		r = ResultadoCierre{Fecha: d, InteresDevengado: decimal.Zero}
		cerrada, err := tx.Cierre.Query().Where(cierre.Fecha(d)).Exist(ctx)
		if err != nil {
			return err
		}
		if cerrada {
			return errYaCerrada
		}
		l, err := s.db.Lock(ctx, tx, database.LockSet{Facturas: factura.And(
			factura.EstadoIn(estado.FacturaDisponible, estado.FacturaCedida, estado.FacturaVencida, estado.FacturaEnRecompra),
			vencidaAl(d),
		)})
		if err != nil {
			return err
		}
		var vencer []*ent.Factura
		for _, f := range l.Facturas {
			if estado.Facturas.Puede(estado.VencerFactura, f.Estado) {
				vencer = append(vencer, f)
			}
		}
		if err := Aplicar(ctx, tx, vencer, estado.VencerFactura, now); err != nil {
			return err
		}
		entradas := make([]auditoria.Entrada, len(vencer))
		for i, f := range vencer {
			vencida := *f
			vencida.Estado, vencida.ActualizadoEn = estado.Facturas.Hacia(estado.VencerFactura), now
			entradas[i] = auditoria.Factura(estado.AudFacturaVencida, f, &vencida)
			f.Estado, f.ActualizadoEn = vencida.Estado, now
		}
		r.FacturasVencidas = len(vencer)
		if err := s.devengar(ctx, tx, l.Facturas, d, &r); err != nil {
			return err
		}
		err = tx.Cierre.Create().
			SetFecha(d).
			SetEjecutadoEn(now).
			SetActor(auth.Actor(ctx)).
			SetRequestID(requestid.FromContext(ctx)).
			SetFacturasVencidas(r.FacturasVencidas).
			SetFacturasEnMora(r.FacturasEnMora).
			SetInteresDevengado(r.InteresDevengado).
			Exec(ctx)
		if database.IsUniqueViolation(err) {
			return errYaCerrada
		}
		if err != nil {
			return err
		}
		return auditoria.Registrar(ctx, tx, now, entradas...)
	})
	return r, err
}

// devengar brings the mora of the overdue facturas fs (locked by tx) to d,
// adding up in r how many owe days of mora and the interest added.
func (s *Service) devengar(ctx context.Context, tx *ent.Tx, fs []*ent.Factura, d time.Time, r *ResultadoCierre) error {
	ids := make([]int, 0, len(fs))
	for _, f := range fs {
		ids = append(ids, f.ID)
	}
	pagos, err := PagosDe(ctx, tx.Client(), ids)
	if err != nil {
		return err
	}
	tasas, err := TasasDeMora(ctx, tx.Client(), ids)
	if err != nil {
		return err
	}
	for _, f := range fs {
		m := MoraEsperada(f, pagos[f.ID], d, tasas[f.ID])
		if m.Dias > 0 {
			r.FacturasEnMora++
		}
		if m.Dias == f.DiasMora && m.Interes.Equal(f.InteresMora) {
			continue
		}
		r.InteresDevengado = r.InteresDevengado.Add(m.Interes.Sub(f.InteresMora))
		if err := tx.Factura.UpdateOne(f).SetDiasMora(m.Dias).SetInteresMora(m.Interes).Exec(ctx); err != nil {
			return fmt.Errorf("devengar la mora de la factura %d: %w", f.ID, err)
		}
	}
	return nil
}
