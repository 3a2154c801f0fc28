package facturas

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/cierre"
	"github.com/banpro/factoring/ent/operacion"
	"github.com/banpro/factoring/ent/operacionfactura"
	"github.com/banpro/factoring/ent/pago"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/auditoria"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/money"
	"github.com/banpro/factoring/internal/requestid"
	"github.com/banpro/factoring/internal/validate"
)

const maxReferencia = 255

// RegistrarPagoInput is the input of RegistrarPago (GraphQL
// RegistrarPagoInput).
type RegistrarPagoInput struct {
	FacturaID  int
	Monto      decimal.Decimal
	Fecha      time.Time
	Referencia *string
}

// RegistrarPago records a payment of a factura's debtor: partial, exact or
// above the saldo. It adds monto to the factura's montoPagado; when the
// saldo reaches zero the factura becomes PAGADA, and what was paid above it
// is the overpayment its operación's liquidación gives back to the cliente.
// The mora is brought up to date with the payment (see MoraEsperada). A
// payment that leaves a saldo is audited FACTURA_PAGO_REGISTRADO (event
// factura.pago_registrado), the one that settles it FACTURA_PAGADA
// (factura.pagada); both carry the pago.
//
// Errors: VALIDATION_ERROR on monto (not positive, or a montoPagado that
// would not fit an amount), on fecha (after today, or before the factura's
// fechaEmision) and on referencia (over 255 characters); NOT_FOUND; CONFLICT
// unless the factura is DISPONIBLE, CEDIDA, VENCIDA or EN_RECOMPRA (an
// invoice held by a pending operación, or already paid, voided or bought
// back, takes no payments).
func (s *Service) RegistrarPago(ctx context.Context, in RegistrarPagoInput) (*ent.Pago, error) {
	v := validate.Errors{}
	v.Positive("monto", in.Monto)
	ref := v.OptionalText("referencia", in.Referencia, maxReferencia)
	hoy := clock.Today(s.clock.Now(), s.zone)
	if in.Fecha.After(hoy) {
		v.Add("fecha", "No puede ser posterior a hoy (%s).", hoy.Format(time.DateOnly))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	monto := in.Monto
	p, _, err := s.pagar(ctx, in.FacturaID, estado.RegistrarPago, &monto, &in.Fecha, ref)
	return p, err
}

// Pagar records that the debtor paid the whole saldo today: RegistrarPago
// of the saldo, dated today, without a reference. It makes a DISPONIBLE,
// CEDIDA, VENCIDA or EN_RECOMPRA invoice PAGADA.
//
// Errors: NOT_FOUND; CONFLICT from any other state (an invoice held by a
// pending operación, or already paid, voided or bought back).
func (s *Service) Pagar(ctx context.Context, id int) (*ent.Factura, error) {
	_, f, err := s.pagar(ctx, id, estado.PagarFactura, nil, nil, nil)
	return f, err
}

// pagar is the one transaction of a payment: monto nil pays the saldo,
// fecha nil is today.
func (s *Service) pagar(ctx context.Context, id int, a estado.Accion, monto *decimal.Decimal, fecha *time.Time, ref *string) (*ent.Pago, *ent.Factura, error) {
	ctx = requestid.Ensure(ctx) // one request id for the pago and its audit entry
	var (
		creado  *ent.Pago
		pagada  *ent.Factura
		reqID   = requestid.FromContext(ctx)
		factura = gid.Encode(id)
	)
	err := s.db.WithTx(ctx, func(tx *ent.Tx) error {
		now := s.clock.Now()
		hoy := clock.Today(now, s.zone)
		l, err := s.db.Lock(ctx, tx, database.LockSet{FacturaIDs: []int{id}})
		if err != nil {
			return err
		}
		if len(l.Facturas) == 0 {
			return apperror.NotFoundf("No existe una factura con ID %s.", factura)
		}
		f := l.Facturas[0]
		saldada, err := estado.Facturas.Siguiente(a, f.Estado)
		if err != nil {
			return err
		}
		saldo := Saldo(f)
		m, dia := saldo, hoy
		if monto != nil {
			m = *monto
		}
		if fecha != nil {
			dia = *fecha
		}
		if dia.Before(f.FechaEmision) {
			return apperror.Invalid("fecha", fmt.Sprintf("No puede ser anterior a la emisión de la factura (%s).", f.FechaEmision.Format(time.DateOnly)))
		}
		pagado := f.MontoPagado.Add(m)
		if !money.Fits(pagado) {
			return apperror.Invalid("monto", fmt.Sprintf("Con este pago lo pagado de la factura (%s) superaría el máximo de un monto (%s).",
				money.String(pagado), money.String(money.Max)))
		}
		creado, err = tx.Pago.Create().
			SetFacturaID(f.ID).
			SetMonto(m).
			SetFecha(dia).
			SetNillableReferencia(ref).
			SetActor(auth.Actor(ctx)).
			SetRequestID(reqID).
			SetCreadoEn(now).
			Save(ctx)
		if err != nil {
			return err
		}
		despues := *f
		despues.MontoPagado = pagado
		tipo := estado.AudFacturaPagoRegistrado
		if !Saldo(&despues).IsPositive() {
			despues.Estado, tipo = saldada, estado.AuditoriaDeAccion(estado.PagarFactura)
		}
		if err := s.moraAlDia(ctx, tx, &despues); err != nil {
			return err
		}
		pagada, err = tx.Factura.UpdateOne(f).
			SetMontoPagado(despues.MontoPagado).
			SetEstado(despues.Estado).
			SetDiasMora(despues.DiasMora).
			SetInteresMora(despues.InteresMora).
			SetActualizadoEn(now).
			Save(ctx)
		if err != nil {
			return err
		}
		detalle := map[string]any{
			"id":         gid.Encode(creado.ID),
			"monto":      money.String(m),
			"fecha":      dia.Format(time.DateOnly),
			"referencia": opt(ref),
			"sobrepago":  money.String(money.Sobrepago(saldo, m)),
		}
		e := auditoria.Factura(tipo, f, pagada).Con("pago", detalle)
		e.DatosEvento = map[string]any{"pago": detalle}
		return auditoria.Registrar(ctx, tx, now, e)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%s %d: %w", a, id, err)
	}
	pagada = pagada.Unwrap()
	creado = creado.Unwrap()
	creado.Edges.Factura = pagada
	return creado, pagada, nil
}

// moraAlDia sets f's diasMora and interesMora to the mora the books hold
// (MoraEsperada) after a change to its payments or state, reading
// its payments, the rate of the operación that holds it ceded (none: no
// interest) and the last closed business date inside tx, which holds f's
// lock.
func (s *Service) moraAlDia(ctx context.Context, tx *ent.Tx, f *ent.Factura) error {
	cerrada, err := UltimoCierre(ctx, tx.Client())
	if err != nil {
		return err
	}
	pagos, err := tx.Pago.Query().Where(pago.FacturaID(f.ID)).All(ctx)
	if err != nil {
		return fmt.Errorf("leer pagos de la factura %d: %w", f.ID, err)
	}
	tasas, err := TasasDeMora(ctx, tx.Client(), []int{f.ID})
	if err != nil {
		return err
	}
	m := MoraEsperada(f, pagos, cerrada, tasas[f.ID])
	f.DiasMora, f.InteresMora = m.Dias, m.Interes
	return nil
}

// UltimoCierre is the last business date the close of business closed;
// zero when none was.
func UltimoCierre(ctx context.Context, c *ent.Client) (time.Time, error) {
	last, err := c.Cierre.Query().Order(ent.Desc(cierre.FieldFecha)).Select(cierre.FieldFecha).First(ctx)
	switch {
	case ent.IsNotFound(err):
		return time.Time{}, nil
	case err != nil:
		return time.Time{}, fmt.Errorf("leer el último cierre: %w", err)
	}
	y, m, d := last.Fecha.Date()
	return clock.Date(y, m, d), nil
}

// cedentes are the states of an operación that holds its facturas ceded:
// past approval and not finalized. Their rate of mora applies.
var cedentes = []estado.Operacion{estado.OperacionAprobada, estado.OperacionDesembolsada}

// TasasDeMora maps each of the facturas ids that an operación holds ceded
// (APROBADA or DESEMBOLSADA) to that operación's tasaMora. A factura not
// ceded (its own cliente's, or DISPONIBLE overdue) accrues no interest: it
// is missing from the map, whose zero value is no rate.
func TasasDeMora(ctx context.Context, c *ent.Client, ids []int) (map[int]decimal.Decimal, error) {
	out := make(map[int]decimal.Decimal, len(ids))
	for start := 0; start < len(ids); start += chunk {
		links, err := c.OperacionFactura.Query().
			Where(operacionfactura.FacturaIDIn(ids[start:min(start+chunk, len(ids))]...),
				operacionfactura.HasOperacionWith(operacion.EstadoIn(cedentes...))).
			WithOperacion(func(q *ent.OperacionQuery) { q.Select(operacion.FieldTasaMora) }).
			All(ctx)
		if err != nil {
			return nil, fmt.Errorf("leer la tasa de mora de las facturas: %w", err)
		}
		for _, l := range links {
			out[l.FacturaID] = l.Edges.Operacion.TasaMora
		}
	}
	return out, nil
}

// PagosDe reads the payments of the facturas ids, by factura.
func PagosDe(ctx context.Context, c *ent.Client, ids []int) (map[int][]*ent.Pago, error) {
	out := make(map[int][]*ent.Pago, len(ids))
	for start := 0; start < len(ids); start += chunk {
		pagos, err := c.Pago.Query().Where(pago.FacturaIDIn(ids[start:min(start+chunk, len(ids))]...)).All(ctx)
		if err != nil {
			return nil, fmt.Errorf("leer pagos: %w", err)
		}
		for _, p := range pagos {
			out[p.FacturaID] = append(out[p.FacturaID], p)
		}
	}
	return out, nil
}

// chunk bounds the ids of one IN list: far below the bound parameters
// SQLite and PostgreSQL allow in one statement.
const chunk = 1000

// opt renders an optional text: nil when absent.
func opt(s *string) any {
	if s == nil || strings.TrimSpace(*s) == "" {
		return nil
	}
	return *s
}
