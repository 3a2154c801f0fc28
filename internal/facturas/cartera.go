package facturas

import (
	"context"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/factura"
	"github.com/banpro/factoring/ent/operacion"
	"github.com/banpro/factoring/ent/predicate"
	"github.com/banpro/factoring/internal/estado"
)

// Tramo is one aging bucket of a portfolio: the saldo of its facturas and
// how many they are.
type Tramo struct {
	Monto    decimal.Decimal
	Cantidad int
}

// Cartera is the aging of a portfolio (GraphQL Cartera): the saldo owed on
// the facturas the company holds ceded (an operación APROBADA or
// DESEMBOLSADA holds them, and they owe a saldo), by days of mora as the
// last close of business counted them; a cliente's (Cliente.cartera) or
// on a deudor, across every cliente (Deudor.cartera).
type Cartera struct {
	Vigente   Tramo // not overdue: 0 days of mora
	Mora1a30  Tramo
	Mora31a60 Tramo
	Mora61a90 Tramo
	MoraMas90 Tramo
}

// tramo is the bucket of a factura with dias days of mora.
func (c *Cartera) tramo(dias int) *Tramo {
	switch {
	case dias <= 0:
		return &c.Vigente
	case dias <= 30:
		return &c.Mora1a30
	case dias <= 60:
		return &c.Mora31a60
	case dias <= 90:
		return &c.Mora61a90
	default:
		return &c.MoraMas90
	}
}

// add counts a factura with saldo and dias days of mora.
func (c *Cartera) add(saldo decimal.Decimal, dias int) {
	t := c.tramo(dias)
	t.Monto = t.Monto.Add(saldo)
	t.Cantidad++
}

// EnCartera selects the facturas of the portfolio: ceded (an operación
// APROBADA or DESEMBOLSADA holds them) and still owed (CEDIDA, VENCIDA or
// EN_RECOMPRA; a paid or bought-back factura owes the company nothing).
func EnCartera() predicate.Factura {
	return factura.And(
		factura.EstadoIn(estado.FacturaCedida, estado.FacturaVencida, estado.FacturaEnRecompra),
		factura.HasOperacionesWith(operacion.EstadoIn(cedentes...)),
	)
}

// CarteraDeClientes is the portfolio of each cliente of ids, in the order
// of ids, in one query (GraphQL's Cliente.cartera for a whole page). The
// sums are made here, exactly, not by the database (SQLite's SUM of
// NUMERIC is floating point).
func CarteraDeClientes(ctx context.Context, c *ent.Client, ids []int) ([]*Cartera, error) {
	return carteras(ctx, c, ids, factura.FieldClienteID, factura.ClienteIDIn, func(f *ent.Factura) int { return f.ClienteID })
}

// CarteraDeDeudores is the portfolio on each deudor of ids, across every
// cliente, in the order of ids, in one query (Deudor.cartera).
func CarteraDeDeudores(ctx context.Context, c *ent.Client, ids []int) ([]*Cartera, error) {
	return carteras(ctx, c, ids, factura.FieldDeudorID, factura.DeudorIDIn, func(f *ent.Factura) int { return f.DeudorID })
}

// carteras buckets the portfolio of the facturas whose column campo is
// one of ids (in selects them; de reads it back), per id.
func carteras(ctx context.Context, c *ent.Client, ids []int, campo string, in func(...int) predicate.Factura, de func(*ent.Factura) int) ([]*Cartera, error) {
	out := make([]*Cartera, len(ids))
	pos := make(map[int][]int, len(ids))
	for i, id := range ids {
		out[i] = &Cartera{}
		pos[id] = append(pos[id], i)
	}
	for start := 0; start < len(ids); start += chunk {
		fs, err := c.Factura.Query().
			Where(in(ids[start:min(start+chunk, len(ids))]...), EnCartera()).
			Select(campo, factura.FieldMontoTotal, factura.FieldMontoPagado, factura.FieldDiasMora).
			All(ctx)
		if err != nil {
			return nil, fmt.Errorf("leer la cartera: %w", err)
		}
		for _, f := range fs {
			for _, i := range pos[de(f)] {
				out[i].add(Saldo(f), f.DiasMora)
			}
		}
	}
	return out, nil
}
