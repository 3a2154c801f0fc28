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

// OperacionEvento is one entry of an operación's append-only audit trail:
// every state change writes exactly one, in the same transaction.
type OperacionEvento struct {
	ent.Schema
}

// Fields of the OperacionEvento. All immutable: the trail is append-only.
func (OperacionEvento) Fields() []ent.Field {
	return []ent.Field{
		field.Int("operacion_id").Immutable().
			Annotations(entgql.Skip()),
		field.Enum("tipo").GoType(estado.TipoEvento("")).Immutable().
			Annotations(entgql.Type("TipoEventoOperacion"), entgql.OrderField("TIPO")),
		field.Time("fecha").SchemaType(instantColumn).Immutable().
			Annotations(entgql.OrderField("FECHA")),
		field.Enum("estado_anterior").GoType(estado.Operacion("")).Optional().Nillable().Immutable().
			Annotations(entgql.Type("EstadoOperacion")),
		field.Enum("estado_nuevo").GoType(estado.Operacion("")).Immutable().
			Annotations(entgql.Type("EstadoOperacion")),
		field.String("request_id").MaxLen(128).NotEmpty().Immutable().
			Annotations(entgql.MapsTo("requestId")),
		field.String("correlation_id").MaxLen(128).Optional().Nillable().Immutable().
			Comment("X-Request-ID que envió quien llamó, si envió uno válido").
			Annotations(entgql.MapsTo("correlationId")),
		field.String("actor").MaxLen(255).NotEmpty().Immutable(),
		field.JSON("detalle", map[string]any{}).Immutable().
			Annotations(entgql.Type("JSON")),
	}
}

// Edges of the OperacionEvento.
func (OperacionEvento) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("operacion", Operacion.Type).Ref("eventos").
			Field("operacion_id").Unique().Required().Immutable(),
	}
}

// Indexes of the OperacionEvento: an operación's history in order, and the
// tipo and fecha filters.
func (OperacionEvento) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("operacion_id", "fecha"),
		index.Fields("tipo"),
		index.Fields("fecha"),
	}
}

// Annotations of the OperacionEvento.
func (OperacionEvento) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entsql.Checks(map[string]string{
			"operacion_eventos_tipo_valido": inList("tipo", estado.TipoEvento("").Values()),
		}),
	}
}
