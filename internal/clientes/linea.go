// Package clientes holds the rules of the Cliente: its data, its state
// machine and its credit line.
package clientes

import (
	"github.com/shopspring/decimal"

	"github.com/banpro/factoring/ent"
)

// LineaUtilizada is the part of the credit line in use:
// lineaCredito − lineaDisponible.
func LineaUtilizada(c *ent.Cliente) decimal.Decimal {
	return c.LineaCredito.Sub(c.LineaDisponible)
}
