package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/banpro/factoring/internal/estado"
)

// deudoresRangeStart is the deudores' global id range, explicit like the
// outbox's (see eventos_salida.go): above every range taken when it was
// added, so that no type added on another branch can be handed it.
const deudoresRangeStart = 68 << 32

// Deudor is the company that owes a factura: the debtor whose credit the
// factoring company really takes. One per canonical RUT, created on first
// sight by registrarFactura; its exposure (the unpaid amount of its facturas
// that approved operaciones hold) is derived, never stored
// (internal/deudores).
type Deudor struct {
	ent.Schema
}

// Fields of the Deudor.
func (Deudor) Fields() []ent.Field {
	return append([]ent.Field{
		field.String("rut").MaxLen(12).NotEmpty().Unique().Immutable().
			Comment("RUT en forma canónica, p. ej. 76.543.210-3").
			Annotations(entgql.OrderField("RUT")),
		field.String("razon_social").Validate(maxChars(255)).NotEmpty().
			Annotations(entgql.OrderField("RAZON_SOCIAL")),
		field.Enum("estado").GoType(estado.Deudor("")).Default(string(estado.DeudorActivo)).
			Annotations(entgql.Type("EstadoDeudor"), entgql.OrderField("ESTADO")),
		field.Float("linea_exposicion").GoType(decimalGo).SchemaType(moneyColumn).Optional().Nillable().
			Comment("Lo más que la empresa financia contra este deudor, sumando todos los clientes; nula: sin límite").
			Annotations(decimalGQL),
		field.String("motivo_estado").Validate(maxChars(500)).Optional().Nillable().
			Comment("Motivo del último bloqueo; se borra al activar"),
	}, timestamps()...)
}

// Edges of the Deudor.
func (Deudor) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("facturas", Factura.Type).
			Annotations(entgql.RelayConnection()),
		edge.To("eventos", EventoAuditoria.Type).
			Comment("La auditoría del deudor, en el orden en que ocurrió").
			Annotations(entgql.RelayConnection()),
	}
}

// Indexes of the Deudor: one per filter and default order.
func (Deudor) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("estado"),
		index.Fields("creado_en"),
	}
}

// Annotations of the Deudor.
func (Deudor) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Table("deudores"),
		entsql.IncrementStart(deudoresRangeStart),
		entgql.QueryField("deudores"),
		entgql.RelayConnection(),
		entsql.Checks(map[string]string{
			"deudores_linea_exposicion_no_negativa": "linea_exposicion IS NULL OR linea_exposicion >= 0",
			"deudores_estado_valido":                inList("estado", estado.Deudor("").Values()),
		}),
	}
}
