package deudores

import (
	"context"
	"fmt"
	"slices"

	"github.com/shopspring/decimal"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/factura"
	"github.com/banpro/factoring/ent/operacion"
	"github.com/banpro/factoring/ent/operacionfactura"
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
//
// It is read from the states the machines leave: a CEDIDA factura is held
// by an operación past approval (only approval cedes, and an operación is
// finalized only once every factura is paid), so it counts as it is; a
// VENCIDA one counts when such an operación holds it (it may have fallen
// due without ever being ceded), which a second statement checks for the
// VENCIDA ones alone. Both statements use an index: the one statement with
// a subquery over every link of every operación was planned by PostgreSQL
// as a scan of the whole link table. (factoring verificar recomputes the
// exposure from the links of every factura, so a state out of line with
// its operación shows there.)

// cedida and vencida are the states of an unpaid factura an operación past
// approval holds: CEDIDA as the approval leaves it, VENCIDA if it fell due
// since.
var (
	cedida  = estado.Facturas.Hacia(estado.CederFactura)
	vencida = estado.Facturas.Hacia(estado.VencerFactura)
)

// Saldo is what is still owed on an exposed factura: its whole montoTotal
// until it is paid (a PAGADA factura is not exposed at all).
func Saldo(f *ent.Factura) decimal.Decimal { return f.MontoTotal }

// Exposiciones is the exposure of each deudor of deudorIDs (zero for one
// with nothing at risk), read through c (a transaction's client, tx.Client(),
// inside one). where narrows the facturas counted: a cliente's facturas
// give that cliente's exposure to each deudor (the concentration limit).
func Exposiciones(ctx context.Context, c *ent.Client, deudorIDs []int, where ...predicate.Factura) (map[int]decimal.Decimal, error) {
	out := make(map[int]decimal.Decimal, len(deudorIDs))
	for _, id := range deudorIDs {
		out[id] = decimal.Zero
	}
	for chunk := range slices.Chunk(slices.Compact(slices.Sorted(slices.Values(deudorIDs))), maxIDs) {
		q := c.Factura.Query().Where(append(slices.Clone(where), factura.DeudorIDIn(chunk...))...)
		if err := sumar(ctx, c, q, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// TodasLasExposiciones is the exposure of every deudor that has any (the
// invariant checker's pass over the whole database).
func TodasLasExposiciones(ctx context.Context, c *ent.Client) (map[int]decimal.Decimal, error) {
	out := map[int]decimal.Decimal{}
	if err := sumar(ctx, c, c.Factura.Query(), out); err != nil {
		return nil, err
	}
	return out, nil
}

// sumar adds to out, per deudor, the saldo of the facturas of q that are
// exposed. Amounts are added in Go, exactly: SQLite's SUM would go through
// a float.
func sumar(ctx context.Context, c *ent.Client, q *ent.FacturaQuery, out map[int]decimal.Decimal) error {
	fs, err := q.Where(factura.EstadoIn(cedida, vencida)).
		Select(factura.FieldDeudorID, factura.FieldMontoTotal, factura.FieldEstado).
		All(ctx)
	if err != nil {
		return fmt.Errorf("calcular la exposición de los deudores: %w", err)
	}
	var vencidas []int
	for _, f := range fs {
		if f.Estado == vencida {
			vencidas = append(vencidas, f.ID)
		}
	}
	retenidas, err := retenidasTrasAprobar(ctx, c, vencidas)
	if err != nil {
		return err
	}
	for _, f := range fs {
		if f.Estado == cedida || retenidas[f.ID] {
			out[f.DeudorID] = out[f.DeudorID].Add(Saldo(f))
		}
	}
	return nil
}

// retenidasTrasAprobar is which of the facturas ids an operación past
// approval holds.
func retenidasTrasAprobar(ctx context.Context, c *ent.Client, ids []int) (map[int]bool, error) {
	var ocupan []estado.Operacion
	for _, v := range estado.Operacion("").Values() {
		if e := estado.Operacion(v); estado.OperacionOcupaLinea(e) {
			ocupan = append(ocupan, e)
		}
	}
	out := make(map[int]bool, len(ids))
	for chunk := range slices.Chunk(ids, maxIDs) {
		links, err := c.OperacionFactura.Query().
			Where(operacionfactura.FacturaIDIn(chunk...), operacionfactura.HasOperacionWith(operacion.EstadoIn(ocupan...))).
			All(ctx)
		if err != nil {
			return nil, fmt.Errorf("calcular la exposición de los deudores: %w", err)
		}
		for _, l := range links {
			out[l.FacturaID] = true
		}
	}
	return out, nil
}

// maxIDs bounds the ids of one IN list, far below the bound parameters
// either database allows.
const maxIDs = 1000
