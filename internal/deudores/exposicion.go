package deudores

import (
	"context"
	"fmt"
	"slices"

	"github.com/shopspring/decimal"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/factura"
	"github.com/banpro/factoring/ent/operacion"
	"github.com/banpro/factoring/ent/predicate"
	"github.com/banpro/factoring/internal/estado"
)

// The exposure of a deudor is the money at risk on it, across every
// cliente: the unpaid saldo of its facturas held by an operación that is
// past approval (APROBADA or DESEMBOLSADA: estado.OperacionOcupaLinea). A
// PENDIENTE operación's facturas do not count until it is approved.
//
// It is derived, never stored: this file is the one place that computes it
// (the approval's limits, Deudor.exposicion, factoring verificar), so that
// what counts as unpaid can change here alone. Only approval raises it, and
// approval locks the deudor first; whatever lowers it (a payment, a
// finalization) may run beside an approval, which then counted a little
// more than there is, never less.

// Expuesta is the condition of a factura whose saldo counts towards its
// deudor's exposure: not yet paid, and held by an operación past approval.
func Expuesta() predicate.Factura {
	var ocupan []estado.Operacion
	for _, v := range estado.Operacion("").Values() {
		if e := estado.Operacion(v); estado.OperacionOcupaLinea(e) {
			ocupan = append(ocupan, e)
		}
	}
	return factura.And(
		factura.EstadoNEQ(estado.FacturaPagada),
		factura.HasOperacionesWith(operacion.EstadoIn(ocupan...)),
	)
}

// Saldo is what is still owed on an exposed factura: its whole montoTotal
// until it is paid (a PAGADA factura is not exposed at all).
func Saldo(f *ent.Factura) decimal.Decimal { return f.MontoTotal }

// Exposiciones is the exposure of each deudor of deudorIDs (zero for one
// with nothing at risk). where narrows the facturas counted: a cliente's
// facturas give that cliente's exposure to each deudor (the concentration
// limit).
func Exposiciones(ctx context.Context, fc *ent.FacturaClient, deudorIDs []int, where ...predicate.Factura) (map[int]decimal.Decimal, error) {
	out := make(map[int]decimal.Decimal, len(deudorIDs))
	if len(deudorIDs) == 0 {
		return out, nil
	}
	for _, id := range deudorIDs {
		out[id] = decimal.Zero
	}
	for chunk := range slices.Chunk(slices.Compact(slices.Sorted(slices.Values(deudorIDs))), maxIDs) {
		fs, err := fc.Query().
			Where(append(slices.Clone(where), factura.DeudorIDIn(chunk...), Expuesta())...).
			Select(factura.FieldDeudorID, factura.FieldMontoTotal).
			All(ctx)
		if err != nil {
			return nil, fmt.Errorf("calcular la exposición de los deudores: %w", err)
		}
		sumar(out, fs)
	}
	return out, nil
}

// TodasLasExposiciones is the exposure of every deudor that has any (the
// invariant checker's pass over the whole database).
func TodasLasExposiciones(ctx context.Context, fc *ent.FacturaClient) (map[int]decimal.Decimal, error) {
	fs, err := fc.Query().Where(Expuesta()).Select(factura.FieldDeudorID, factura.FieldMontoTotal).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("calcular la exposición de los deudores: %w", err)
	}
	out := map[int]decimal.Decimal{}
	sumar(out, fs)
	return out, nil
}

// sumar adds the saldo of each factura of fs to its deudor's total. Amounts
// are added in Go, exactly: SQLite's SUM would go through a float.
func sumar(out map[int]decimal.Decimal, fs []*ent.Factura) {
	for _, f := range fs {
		out[f.DeudorID] = out[f.DeudorID].Add(Saldo(f))
	}
}

// maxIDs bounds the ids of one IN list, far below the bound parameters
// either database allows.
const maxIDs = 1000
