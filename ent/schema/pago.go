package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// The collections tables take explicit global id ranges above the outbox's
// (64..68 · 2^32), for the same reason: a range is written into the
// migrations and must not depend on which branch added its table first.
const (
	pagosRangeStart   = 69 << 32
	cierresRangeStart = 70 << 32
)

// Pago is one payment of a factura's debtor (docs/dominio.md,
// "Collections"): how much, on which date, with the payer's reference, and
// who recorded it under which request. Append-only: every field is
// immutable and triggers refuse UPDATE, DELETE and TRUNCATE, so the
// factura's montoPagado always adds up its pagos.
type Pago struct {
	ent.Schema
}

// Fields of the Pago. All immutable.
func (Pago) Fields() []ent.Field {
	return []ent.Field{
		field.Int("factura_id").Immutable().
			Annotations(entgql.Skip()),
		field.Float("monto").GoType(decimalGo).SchemaType(moneyColumn).Immutable().
			Annotations(decimalGQL, entgql.OrderField("MONTO")),
		field.Time("fecha").SchemaType(dateColumn).Immutable().
			Comment("Fecha en que el deudor pagó (no la del registro)").
			Annotations(dateGQL, entgql.OrderField("FECHA")),
		field.String("referencia").Validate(maxChars(255)).Optional().Nillable().Immutable().
			Comment("Referencia del pago: número de transferencia, de depósito, de cheque"),
		field.String("actor").MaxLen(255).NotEmpty().Immutable(),
		field.String("request_id").MaxLen(128).NotEmpty().Immutable().
			Annotations(entgql.MapsTo("requestId")),
		field.Time("creado_en").SchemaType(instantColumn).Immutable().
			Annotations(entgql.OrderField("CREADO_EN")),
	}
}

// Edges of the Pago.
func (Pago) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("factura", Factura.Type).Ref("pagos").
			Field("factura_id").Unique().Required().Immutable(),
	}
}

// Indexes of the Pago: a factura's payments by date (Factura.pagos, the
// mora's history).
func (Pago) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("factura_id", "fecha"),
	}
}

// Annotations of the Pago.
func (Pago) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Table("pagos"),
		entsql.IncrementStart(pagosRangeStart),
		entgql.RelayConnection(),
		entsql.Checks(map[string]string{
			"pagos_monto_positivo": "monto > 0",
		}),
	}
}

// Cierre is the close of business of one business date (`factoring
// cierre`): the date it closed, when and by whom, and what it did. The
// unique date makes the job idempotent: a date is closed once, and a run
// that finds it closed changes nothing. Append-only, like the audit trail.
type Cierre struct {
	ent.Schema
}

// Fields of the Cierre. All immutable.
func (Cierre) Fields() []ent.Field {
	return []ent.Field{
		field.Time("fecha").SchemaType(dateColumn).Unique().Immutable().
			Comment("La fecha de negocio cerrada"),
		field.Time("ejecutado_en").SchemaType(instantColumn).Immutable(),
		field.String("actor").MaxLen(255).NotEmpty().Immutable(),
		field.String("request_id").MaxLen(128).NotEmpty().Immutable(),
		field.Int("facturas_vencidas").NonNegative().Immutable().
			Comment("Facturas que este cierre marcó VENCIDA"),
		field.Int("facturas_en_mora").NonNegative().Immutable().
			Comment("Facturas con saldo y días de mora tras el cierre"),
		field.Float("interes_devengado").GoType(decimalGo).SchemaType(moneyColumn).Immutable().
			Comment("Interés de mora que este cierre sumó a las facturas"),
	}
}

// Annotations of the Cierre.
func (Cierre) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Table("cierres"),
		entsql.IncrementStart(cierresRangeStart),
		entgql.Skip(entgql.SkipAll),
	}
}
