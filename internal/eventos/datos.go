package eventos

import (
	"time"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/money"
)

// The helpers below build the event of each entity from its row as the
// mutation saved it, so a mutation enqueues with one call:
//
//	eventos.Enqueue(ctx, tx, eventos.Operacion(eventos.OperacionAprobada, op, facturaIDs, now))
//
// Ids are GraphQL global ids; amounts are strings with two decimals; dates
// are YYYY-MM-DD; keys are snake_case, as in the seed's payload.

// Cliente is the event tipo about c. extra adds fields (a line adjustment
// passes linea_credito_anterior).
func Cliente(tipo Tipo, c *ent.Cliente, extra map[string]any, fecha time.Time) Event {
	d := map[string]any{
		"cliente_id":       gid.Encode(c.ID),
		"rut":              c.Rut,
		"razon_social":     c.RazonSocial,
		"email":            c.Email,
		"estado":           string(c.Estado),
		"linea_credito":    money.String(c.LineaCredito),
		"linea_disponible": money.String(c.LineaDisponible),
	}
	if c.MotivoEstado != nil {
		d["motivo_estado"] = *c.MotivoEstado
	}
	if c.ConcentracionMaxima != nil {
		d["concentracion_maxima"] = money.String(*c.ConcentracionMaxima)
	}
	for k, v := range extra {
		d[k] = v
	}
	return Event{Tipo: tipo, Sujeto: gid.Encode(c.ID), Datos: d, Fecha: fecha}
}

// Factura is the event tipo about f.
func Factura(tipo Tipo, f *ent.Factura, fecha time.Time) Event {
	d := map[string]any{
		"factura_id":          gid.Encode(f.ID),
		"cliente_id":          gid.Encode(f.ClienteID),
		"numero_factura":      f.NumeroFactura,
		"deudor_id":           gid.Encode(f.DeudorID),
		"rut_deudor":          f.RutDeudor,
		"razon_social_deudor": f.RazonSocialDeudor,
		"monto_total":         money.String(f.MontoTotal),
		"fecha_emision":       f.FechaEmision.Format(time.DateOnly),
		"fecha_vencimiento":   f.FechaVencimiento.Format(time.DateOnly),
		"fecha_recepcion":     f.FechaRecepcion.Format(time.DateOnly),
		"estado":              string(f.Estado),
		"estado_acuse":        string(f.EstadoAcuse),
	}
	if f.MotivoAnulacion != nil {
		d["motivo_anulacion"] = *f.MotivoAnulacion
	}
	if f.MotivoAcuse != nil {
		d["motivo_acuse"] = *f.MotivoAcuse
	}
	return Event{Tipo: tipo, Sujeto: gid.Encode(f.ID), Datos: d, Fecha: fecha}
}

// Operacion is the event tipo about op, whose invoices are facturaIDs. Its
// data is the seed's suggested payload (event_id, type, operacion_id,
// cliente_id, monto_a_desembolsar, tasa_descuento, request_id) plus estado,
// monto_total_facturas, factura_ids and the rest of the calculation.
func Operacion(tipo Tipo, op *ent.Operacion, facturaIDs []int, fecha time.Time) Event {
	d := map[string]any{
		"operacion_id":         gid.Encode(op.ID),
		"cliente_id":           gid.Encode(op.ClienteID),
		"estado":               string(op.Estado),
		"monto_total_facturas": money.String(op.MontoTotalFacturas),
		"tasa_descuento":       money.String(op.TasaDescuento),
		"dias_descuento":       op.DiasDescuento,
		"monto_descuento":      money.String(op.MontoDescuento),
		"monto_a_desembolsar":  money.String(op.MontoADesembolsar),
		"factura_ids":          gid.EncodeAll(facturaIDs),
	}
	if op.MotivoRechazo != nil {
		d["motivo_rechazo"] = *op.MotivoRechazo
	}
	return Event{Tipo: tipo, Sujeto: gid.Encode(op.ID), Datos: d, Fecha: fecha}
}

// Deudor is the event tipo about d.
func Deudor(tipo Tipo, d *ent.Deudor, fecha time.Time) Event {
	datos := map[string]any{
		"deudor_id":    gid.Encode(d.ID),
		"rut":          d.Rut,
		"razon_social": d.RazonSocial,
		"estado":       string(d.Estado),
		// null: no limit.
		"linea_exposicion": nil,
	}
	if d.LineaExposicion != nil {
		datos["linea_exposicion"] = money.String(*d.LineaExposicion)
	}
	if d.MotivoEstado != nil {
		datos["motivo_estado"] = *d.MotivoEstado
	}
	return Event{Tipo: tipo, Sujeto: gid.Encode(d.ID), Datos: datos, Fecha: fecha}
}
