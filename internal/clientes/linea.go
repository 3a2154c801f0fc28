// Package clientes holds the rules of the Cliente: its data, its state
// machine, its credit line and the concentración its book may have on one
// deudor.
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

// SinTope is the concentracionMaxima that caps nothing: 100 % of the line.
var SinTope = decimal.NewFromInt(100)

// Concentracion is c's concentracionMaxima, in percent: its own, or
// porDefecto (the configured one) when nobody set it.
func Concentracion(c *ent.Cliente, porDefecto decimal.Decimal) decimal.Decimal {
	if c.ConcentracionMaxima != nil {
		return *c.ConcentracionMaxima
	}
	return porDefecto
}

// TopeDeudor is the most c may have at risk on any one deudor: its
// concentración (porcentaje) of its lineaCredito, down to the cent (an
// exposure in cents is within the exact product exactly when it is within
// this).
func TopeDeudor(c *ent.Cliente, porcentaje decimal.Decimal) decimal.Decimal {
	return c.LineaCredito.Mul(porcentaje).Div(SinTope).RoundDown(2)
}
