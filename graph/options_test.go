package graph_test

import (
	"time"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/testkit"
)

// Options for the fixture's builders, so a test states only what matters to it.

func clienteRazonSocial(s string) func(*ent.ClienteCreate) {
	return func(c *ent.ClienteCreate) { c.SetRazonSocial(s) }
}

func clienteRut(s string) func(*ent.ClienteCreate) {
	return func(c *ent.ClienteCreate) { c.SetRut(s) }
}

func clienteEstado(e estado.Cliente) func(*ent.ClienteCreate) {
	return func(c *ent.ClienteCreate) { c.SetEstado(e) }
}

// clienteLinea sets the credit line, all of it available.
func clienteLinea(s string) func(*ent.ClienteCreate) {
	return func(c *ent.ClienteCreate) {
		d := testkit.Dec(s)
		c.SetLineaCredito(d).SetLineaDisponible(d)
	}
}

func clienteCreadoEn(t time.Time) func(*ent.ClienteCreate) {
	return func(c *ent.ClienteCreate) { c.SetCreadoEn(t) }
}

func facturaEstado(e estado.Factura) func(*ent.FacturaCreate) {
	return func(f *ent.FacturaCreate) { f.SetEstado(e) }
}

func facturaRutDeudor(s string) func(*ent.FacturaCreate) {
	return func(f *ent.FacturaCreate) { f.SetRutDeudor(s) }
}

// facturaEmitida sets fechaEmision (a calendar date, "YYYY-MM-DD").
func facturaEmitida(s string) func(*ent.FacturaCreate) {
	return func(f *ent.FacturaCreate) { f.SetFechaEmision(date(s)) }
}

func facturaMonto(s string) func(*ent.FacturaCreate) {
	return func(f *ent.FacturaCreate) { f.SetMontoTotal(testkit.Dec(s)) }
}

func facturaCreadaEn(t time.Time) func(*ent.FacturaCreate) {
	return func(f *ent.FacturaCreate) { f.SetCreadoEn(t) }
}

func operacionEstado(e estado.Operacion) func(*ent.OperacionCreate) {
	return func(o *ent.OperacionCreate) { o.SetEstado(e) }
}

// operacionSolicitada sets fechaSolicitud (an RFC 3339 instant).
func operacionSolicitada(s string) func(*ent.OperacionCreate) {
	return func(o *ent.OperacionCreate) { o.SetFechaSolicitud(instant(s)) }
}

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func instant(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}
