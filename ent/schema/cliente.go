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

// Cliente is a company (by RUT) that sells its invoices, with a credit line.
type Cliente struct {
	ent.Schema
}

// Fields of the Cliente.
func (Cliente) Fields() []ent.Field {
	return append([]ent.Field{
		field.String("rut").MaxLen(12).NotEmpty().Unique().Immutable().
			Comment("RUT en forma canónica, p. ej. 12.345.678-5").
			Annotations(entgql.OrderField("RUT")),
		field.String("razon_social").Validate(maxChars(255)).NotEmpty().
			Annotations(entgql.OrderField("RAZON_SOCIAL")),
		field.String("giro").Validate(maxChars(255)).Optional().Nillable(),
		field.String("direccion").Validate(maxChars(255)).Optional().Nillable(),
		field.String("telefono").Validate(maxChars(50)).Optional().Nillable(),
		field.String("email").MaxLen(254).NotEmpty(),
		field.Time("fecha_registro").SchemaType(instantColumn).Immutable(),
		field.Float("linea_credito").GoType(decimalGo).SchemaType(moneyColumn).
			Annotations(decimalGQL, entgql.OrderField("LINEA_CREDITO")),
		field.Float("linea_disponible").GoType(decimalGo).SchemaType(moneyColumn).
			Comment("Solo lo mueven las operaciones: la aprobación descuenta y la finalización repone").
			Annotations(decimalGQL, entgql.OrderField("LINEA_DISPONIBLE")),
		field.Enum("estado").GoType(estado.Cliente("")).Default(string(estado.ClientePendiente)).
			Annotations(entgql.Type("EstadoCliente"), entgql.OrderField("ESTADO")),
		field.String("motivo_estado").Validate(maxChars(500)).Optional().Nillable().
			Comment("Motivo de la última suspensión o bloqueo; se borra al activar"),
		field.Float("concentracion_maxima").GoType(decimalGo).SchemaType(rateColumn).Optional().Nillable().
			Comment("Porcentaje de lineaCredito que el cliente puede tener expuesto a un mismo deudor; nulo: el configurado").
			Annotations(entgql.Skip()),
	}, timestamps()...)
}

// Edges of the Cliente.
func (Cliente) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("facturas", Factura.Type).
			Annotations(entgql.RelayConnection()),
		edge.To("operaciones", Operacion.Type).
			Annotations(entgql.RelayConnection()),
		edge.To("eventos", EventoAuditoria.Type).
			Comment("La auditoría del cliente (no las de sus facturas y operaciones), en el orden en que ocurrió").
			Annotations(entgql.RelayConnection()),
	}
}

// Indexes of the Cliente: one per filter and default order.
func (Cliente) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("estado"),
		index.Fields("linea_credito"),
		index.Fields("creado_en"),
	}
}

// Annotations of the Cliente.
func (Cliente) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField("clientes"),
		entgql.RelayConnection(),
		entsql.Checks(map[string]string{
			"clientes_linea_credito_no_negativa": "linea_credito >= 0",
			"clientes_linea_disponible_en_rango": "linea_disponible >= 0 AND linea_disponible <= linea_credito",
			"clientes_estado_valido":             inList("estado", estado.Cliente("").Values()),
			"clientes_concentracion_en_rango":    "concentracion_maxima IS NULL OR (concentracion_maxima > 0 AND concentracion_maxima <= 100)",
		}),
	}
}
