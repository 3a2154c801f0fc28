package facturas

import (
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/money"
)

// The mora of a factura (docs/dominio.md, "Collections"), as a pure
// function of its face value, its due date, its payments, a business date
// and a rate. Every figure the services store (Factura.diasMora,
// Factura.interesMora) is this function's value at a date the rules name,
// so `factoring verificar` recomputes it, and running it twice for one date
// gives one answer.
//
// The day count:
//   - A factura due on V is current on V; its mora starts on V+1.
//   - A day d of mora (V < d ≤ hasta) counts when the saldo at the start of
//     d is positive: montoTotal − the payments dated before d. A payment
//     dated d stops the interest from d+1, so a factura paid one day late
//     owes one day of interest.
//   - diasMora is how many days counted; interesMora is the simple interest
//     on the saldo of each of them at tasa percent a month, one thirtieth of
//     the monthly rate a day, summed exactly and rounded half-up to cents
//     once (money.InteresMora).

// Abono is a payment as the mora counts it: its amount and date.
type Abono struct {
	Fecha time.Time
	Monto decimal.Decimal
}

// Mora is a factura's days and interest of mora at a date.
type Mora struct {
	Dias    int
	Interes decimal.Decimal
}

// CalcularMora is the mora, at hasta, of a factura of montoTotal due on
// vencimiento, paid abonos (in any order), at tasa percent a month. It
// counts nothing up to vencimiento, nor once the saldo is paid.
func CalcularMora(montoTotal decimal.Decimal, vencimiento time.Time, abonos []Abono, hasta time.Time, tasa decimal.Decimal) Mora {
	sorted := slices.SortedFunc(slices.Values(abonos), func(a, b Abono) int { return a.Fecha.Compare(b.Fecha) })
	saldo := montoTotal
	i := 0
	// Payments up to the due date reduce the saldo the mora starts from.
	for ; i < len(sorted) && !sorted[i].Fecha.After(vencimiento); i++ {
		saldo = saldo.Sub(sorted[i].Monto)
	}
	dias := 0
	saldoDias := decimal.Zero
	desde := vencimiento.AddDate(0, 0, 1) // the first day of mora
	// accrue counts the days desde..hastaDia (inclusive) at the saldo.
	accrue := func(hastaDia time.Time) {
		if hastaDia.After(hasta) {
			hastaDia = hasta
		}
		if n := clock.DaysBetween(desde, hastaDia) + 1; n > 0 && saldo.IsPositive() {
			dias += n
			saldoDias = saldoDias.Add(saldo.Mul(decimal.NewFromInt(int64(n))))
		}
	}
	for ; i < len(sorted) && saldo.IsPositive() && !desde.After(hasta); i++ {
		p := sorted[i]
		// Days desde..p.Fecha owe on the saldo before p; p counts from the
		// next day.
		accrue(p.Fecha)
		saldo = saldo.Sub(p.Monto)
		if next := p.Fecha.AddDate(0, 0, 1); next.After(desde) {
			desde = next
		}
	}
	if saldo.IsPositive() && !desde.After(hasta) {
		accrue(hasta)
	}
	return Mora{Dias: dias, Interes: money.InteresMora(saldoDias, tasa)}
}

// Saldo is what the debtor still owes on f: montoTotal − montoPagado, never
// below zero.
func Saldo(f *ent.Factura) decimal.Decimal { return money.Saldo(f.MontoTotal, f.MontoPagado) }

// Sobrepago is what the debtor paid on f above its montoTotal: the
// liquidación gives it back to the cliente.
func Sobrepago(f *ent.Factura) decimal.Decimal { return money.Sobrepago(f.MontoTotal, f.MontoPagado) }

// Abonos are pagos as the mora counts them.
func Abonos(pagos []*ent.Pago) []Abono {
	out := make([]Abono, len(pagos))
	for i, p := range pagos {
		out[i] = Abono{Fecha: p.Fecha, Monto: p.Monto}
	}
	return out
}

// MoraDe is f's mora at hasta, paid pagos, at tasa.
func MoraDe(f *ent.Factura, pagos []*ent.Pago, hasta time.Time, tasa decimal.Decimal) Mora {
	return CalcularMora(f.MontoTotal, f.FechaVencimiento, Abonos(pagos), hasta, tasa)
}

// MoraEsperada is the mora the books hold for f, paid pagos, at tasa, the
// last closed business date being cerrada (zero when none was): the figure
// every service stores in diasMora and interesMora, and the one `factoring
// verificar` expects there.
//   - VENCIDA or EN_RECOMPRA: its mora at cerrada, the date the close of
//     business last brought it to;
//   - PAGADA: its mora up to the payment that settled it (any date after
//     it gives the same: the saldo is zero from then on, so the latest of
//     cerrada and its last payment);
//   - RECOMPRADA: its mora up to its recompra's date;
//   - DISPONIBLE or CEDIDA: none. It is not in mora in the books until a
//     close of business marks it VENCIDA (one registered already overdue
//     waits for the next);
//   - EN_PROCESO or ANULADA: none. A pending operación holds it, or it is
//     void.
func MoraEsperada(f *ent.Factura, pagos []*ent.Pago, cerrada time.Time, tasa decimal.Decimal) Mora {
	var hasta time.Time
	switch f.Estado {
	case estado.FacturaVencida, estado.FacturaEnRecompra:
		hasta = cerrada
	case estado.FacturaPagada:
		hasta = cerrada
		for _, p := range pagos {
			if p.Fecha.After(hasta) {
				hasta = p.Fecha
			}
		}
	case estado.FacturaRecomprada:
		if f.FechaRecompra != nil {
			hasta = *f.FechaRecompra
		}
	default:
		return Mora{Interes: decimal.Zero}
	}
	if hasta.IsZero() {
		return Mora{Interes: decimal.Zero}
	}
	return MoraDe(f, pagos, hasta, tasa)
}
