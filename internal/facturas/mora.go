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

// SinMora reports whether a factura in state e never counts mora: one held
// by a pending operación (it is neither the cliente's to collect nor the
// company's yet) or voided. Its diasMora and interesMora stay zero.
func SinMora(e estado.Factura) bool {
	return e == estado.FacturaEnProceso || e == estado.FacturaAnulada
}

// CorteMora is the date up to which f's stored mora is computed, given
// that the last closed business date is cerrada (zero when no date was
// closed yet) and its payments pagos: the date of its recompra once bought
// back; once paid, any date after its last payment (the saldo is zero from
// then on: the latest of cerrada and that payment); otherwise cerrada,
// the date the close of business last brought it to.
func CorteMora(f *ent.Factura, pagos []*ent.Pago, cerrada time.Time) time.Time {
	switch f.Estado {
	case estado.FacturaRecomprada:
		if f.FechaRecompra != nil {
			return *f.FechaRecompra
		}
	case estado.FacturaPagada:
		corte := cerrada
		for _, p := range pagos {
			if p.Fecha.After(corte) {
				corte = p.Fecha
			}
		}
		return corte
	}
	return cerrada
}
