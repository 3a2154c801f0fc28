package verificar

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/estado"
	fact "github.com/banpro/factoring/internal/facturas"
	"github.com/banpro/factoring/internal/money"
	"github.com/banpro/factoring/internal/operaciones"
)

// falla is one broken invariant of a factura's collections.
type falla struct {
	inv int
	msg string
}

// cobranza checks invariants 7 and 8 on f, paid pagos, ceded by op (nil
// when no operación ceded it), the last closed business date being
// cerrada.
func cobranza(f *ent.Factura, pagos []*ent.Pago, op *ent.Operacion, cerrada time.Time) []falla {
	var out []falla
	fail := func(inv int, format string, args ...any) {
		out = append(out, falla{inv, fmt.Sprintf(format, args...)})
	}
	// 7. Payments.
	suma := decimal.Zero
	for _, p := range pagos {
		suma = suma.Add(p.Monto)
		if p.Fecha.Before(f.FechaEmision) {
			fail(7, "pago %d fechado %s, antes de la emisión %s", p.ID, p.Fecha.Format(time.DateOnly), f.FechaEmision.Format(time.DateOnly))
		}
	}
	if !suma.Equal(f.MontoPagado) {
		fail(7, "montoPagado %s distinto de la suma de sus pagos %s", money.String(f.MontoPagado), money.String(suma))
	}
	if saldada := !fact.Saldo(f).IsPositive(); saldada != (f.Estado == estado.FacturaPagada) {
		fail(7, "estado %s con saldo %s", f.Estado, money.String(fact.Saldo(f)))
	}

	// 8. Mora and recourse.
	var tasa decimal.Decimal
	if op != nil {
		tasa = op.TasaMora
	}
	m := fact.MoraEsperada(f, pagos, cerrada, tasa)
	if m.Dias != f.DiasMora || !m.Interes.Equal(f.InteresMora) {
		fail(8, "mora registrada de %d días e interés %s; según sus pagos y el último cierre (%s) son %d días e interés %s",
			f.DiasMora, money.String(f.InteresMora), fecha(cerrada), m.Dias, money.String(m.Interes))
	}
	switch f.Estado {
	case estado.FacturaEnRecompra:
		if f.RecompraExigidaEn == nil {
			fail(8, "EN_RECOMPRA sin la fecha en que se exigió")
		}
	case estado.FacturaRecomprada:
		if f.FechaRecompra == nil {
			fail(8, "RECOMPRADA sin fecha de recompra")
		}
	}
	if f.MontoRecompra != nil {
		if adeudado := fact.Saldo(f).Add(f.InteresMora); !f.MontoRecompra.Equal(adeudado) {
			fail(8, "montoRecompra %s distinto de saldo más interés %s", money.String(*f.MontoRecompra), money.String(adeudado))
		}
	}
	return out
}

// liquidacion checks invariant 9 on o, whose invoices are fs, and says what
// is wrong, or "".
func liquidacion(o *ent.Operacion, fs []*ent.Factura) string {
	finalizada := o.Estado == estado.OperacionFinalizada
	switch {
	case finalizada && o.MontoLiquidacion == nil:
		return "FINALIZADA sin liquidación"
	case !finalizada && o.MontoLiquidacion != nil:
		return fmt.Sprintf("%s con liquidación", o.Estado)
	case !finalizada:
		return ""
	}
	if want := operaciones.Liquidar(o, fs).Monto; !want.Equal(*o.MontoLiquidacion) {
		return fmt.Sprintf("montoLiquidacion %s distinto de la liquidación de sus facturas %s", money.String(*o.MontoLiquidacion), money.String(want))
	}
	return ""
}

func fecha(t time.Time) string {
	if t.IsZero() {
		return "ninguno"
	}
	return t.Format(time.DateOnly)
}
