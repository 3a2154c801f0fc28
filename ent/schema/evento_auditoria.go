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

// EventoAuditoria is one entry of the audit trail every mutation writes, in
// its own transaction (docs/dominio.md, "Audit trail"): who, when, under
// which request, what kind of change to which entity, the state before and
// after, and the old and new value of every field it changed. One table for
// every kind of entity, so that "what did this actor or this request do"
// is one query. Append-only: every field is immutable and a trigger refuses
// UPDATE and DELETE.
type EventoAuditoria struct {
	ent.Schema
}

// Fields of the EventoAuditoria. All immutable.
func (EventoAuditoria) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("entidad").GoType(estado.Entidad("")).Immutable().
			Annotations(entgql.Type("EntidadAuditoria")),
		field.Int("entidad_id").Immutable().
			Comment("ID del cliente, la factura, la operación o el deudor; el mismo que su arista").
			Annotations(entgql.Type("ID"), entgql.MapsTo("entidadId")),
		field.Int("cliente_id").Optional().Nillable().Immutable().
			Annotations(entgql.Skip()),
		field.Int("factura_id").Optional().Nillable().Immutable().
			Annotations(entgql.Skip()),
		field.Int("operacion_id").Optional().Nillable().Immutable().
			Annotations(entgql.Skip()),
		field.Int("deudor_id").Optional().Nillable().Immutable().
			Annotations(entgql.Skip()),
		field.Enum("tipo").GoType(estado.TipoAuditoria("")).Immutable().
			Annotations(entgql.Type("TipoEventoAuditoria"), entgql.OrderField("TIPO")),
		field.Time("fecha").SchemaType(instantColumn).Immutable().
			Annotations(entgql.OrderField("FECHA")),
		field.String("estado_anterior").MaxLen(20).Optional().Nillable().Immutable().
			Comment("Estado de la entidad antes del cambio; nulo al crearla o si el estado no cambió"),
		field.String("estado_nuevo").MaxLen(20).Optional().Nillable().Immutable().
			Comment("Estado de la entidad después del cambio; nulo si el estado no cambió"),
		field.String("request_id").MaxLen(128).NotEmpty().Immutable().
			Annotations(entgql.MapsTo("requestId")),
		field.String("correlation_id").MaxLen(128).Optional().Nillable().Immutable().
			Comment("X-Request-ID que envió quien llamó, si envió uno válido").
			Annotations(entgql.MapsTo("correlationId")),
		field.String("actor").MaxLen(255).NotEmpty().Immutable(),
		field.JSON("detalle", map[string]any{}).Immutable().
			Annotations(entgql.Type("JSON")),
		field.String("trace_id").MaxLen(32).Optional().Nillable().Immutable().
			Comment("Traza W3C de la solicitud, cuando hay trazas").
			Annotations(entgql.MapsTo("traceId")),
	}
}

// Edges of the EventoAuditoria: exactly one of them, the entity the entry
// is about (a CHECK holds it equal to entidad and entidad_id).
func (EventoAuditoria) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("cliente", Cliente.Type).Ref("eventos").
			Field("cliente_id").Unique().Immutable(),
		edge.From("factura", Factura.Type).Ref("eventos").
			Field("factura_id").Unique().Immutable(),
		edge.From("operacion", Operacion.Type).Ref("auditoria").
			Field("operacion_id").Unique().Immutable(),
		edge.From("deudor", Deudor.Type).Ref("eventos").
			Field("deudor_id").Unique().Immutable(),
	}
}

// Indexes of the EventoAuditoria: a cliente's and a factura's history in
// order (Cliente.eventos, Factura.eventos), and the auditoria filters. An
// operación's entries are found by entidad_id (its own trail, in GraphQL,
// is OperacionEvento).
func (EventoAuditoria) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("cliente_id", "fecha"),
		index.Fields("factura_id", "fecha"),
		index.Fields("deudor_id", "fecha"),
		index.Fields("entidad_id", "fecha"),
		index.Fields("fecha"),
		index.Fields("actor", "fecha"),
		index.Fields("request_id"),
		index.Fields("correlation_id"),
		index.Fields("tipo", "fecha"),
	}
}

// Annotations of the EventoAuditoria: the root auditoria connection (its
// default order, newest first, is set in ent/entc.go).
func (EventoAuditoria) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Table("eventos_auditoria"),
		entgql.QueryField("auditoria").Description("La auditoría de todas las mutaciones, de toda entidad, lo más nuevo primero: " +
			"qué hizo una persona (where: {actor}), una solicitud (requestID, correlationID), en un período (fechaGTE, fechaLT) " +
			"o sobre una entidad (entidadID). Solo para los roles auditor y admin."),
		entgql.RelayConnection(),
		entsql.Checks(map[string]string{
			"eventos_auditoria_tipo_valido":    inList("tipo", estado.TipoAuditoria("").Values()),
			"eventos_auditoria_entidad_valida": inList("entidad", estado.Entidad("").Values()),
			"eventos_auditoria_una_entidad": "((entidad = 'CLIENTE' AND cliente_id = entidad_id AND factura_id IS NULL AND operacion_id IS NULL AND deudor_id IS NULL) OR " +
				"(entidad = 'FACTURA' AND factura_id = entidad_id AND cliente_id IS NULL AND operacion_id IS NULL AND deudor_id IS NULL) OR " +
				"(entidad = 'OPERACION' AND operacion_id = entidad_id AND cliente_id IS NULL AND factura_id IS NULL AND deudor_id IS NULL) OR " +
				"(entidad = 'DEUDOR' AND deudor_id = entidad_id AND cliente_id IS NULL AND factura_id IS NULL AND operacion_id IS NULL))",
		}),
	}
}
