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

// The outbox and webhook tables take explicit global id ranges far above
// the domain's (0..4·2^32 today), so a domain type added on another branch
// can never be handed the same range by ent's "next free range" rule: a
// range is written into the migrations and cannot move afterwards.
const (
	outboxEventosRangeStart      = 64 << 32
	webhooksRangeStart           = 65 << 32
	entregasRangeStart           = 66 << 32
	tareasEjecucionesRangeStart  = 67 << 32
	maxWebhookURL                = 2048
	maxEntregaError              = 1000
	maxWebhookDescripcion        = 500
	estadoEntregaPendiente       = "PENDIENTE"
	estadoEntregaEntregada       = "ENTREGADA"
	estadoEntregaFallida         = "FALLIDA"
	canalWebhook, canalNATS      = "WEBHOOK", "NATS"
	canalEmail                   = "EMAIL"
	entregaPendienteIndexClause  = "estado = 'PENDIENTE'"
	outboxSinDespacharIndexWhere = "despachado_en IS NULL"
)

// OutboxEvento is one integration event (a CloudEvents envelope), written
// by a mutation in its own transaction: no event without the change, no
// change without the event. The dispatcher fans it out into Entregas.
type OutboxEvento struct {
	ent.Schema
}

// Fields of the OutboxEvento. All but despachado_en are immutable: the body
// a receiver gets (and its signature) is fixed at commit.
func (OutboxEvento) Fields() []ent.Field {
	return []ent.Field{
		field.String("evento_id").MaxLen(64).NotEmpty().Unique().Immutable().
			Comment("id del sobre CloudEvents (UUID): Nats-Msg-Id y webhook-id"),
		field.String("tipo").MaxLen(64).NotEmpty().Immutable(),
		field.String("sujeto").MaxLen(128).NotEmpty().Immutable().
			Comment("ID global de la entidad; el orden de entrega se respeta por sujeto"),
		field.Time("fecha").SchemaType(instantColumn).Immutable(),
		field.String("request_id").MaxLen(128).NotEmpty().Immutable(),
		field.Text("cuerpo").NotEmpty().Immutable().
			Comment("El sobre CloudEvents en JSON, tal como se envía"),
		field.Time("despachado_en").SchemaType(instantColumn).Optional().Nillable().
			Comment("Cuándo el despachador creó sus entregas; nulo mientras espera"),
	}
}

// Edges of the OutboxEvento.
func (OutboxEvento) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("entregas", Entrega.Type).
			Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

// Indexes of the OutboxEvento: the dispatcher reads the events it has not
// fanned out yet, in id order.
func (OutboxEvento) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("id").Annotations(entsql.IndexWhere(outboxSinDespacharIndexWhere)).
			StorageKey("outbox_eventos_sin_despachar"),
		index.Fields("fecha"),
	}
}

// Annotations of the OutboxEvento.
func (OutboxEvento) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(entgql.SkipAll), // not part of the GraphQL API
		entsql.IncrementStart(outboxEventosRangeStart),
	}
}
