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

// Entrega is the delivery of one outbox event to one destination: a
// webhook, the NATS stream or the e-mail of an approval. It records the
// latest attempt, and while PENDIENTE when the next one is due.
//
// Deliveries to one destination about one subject go out one at a time in
// event order: only the PENDIENTE delivery with the lowest evento_seq of its
// (destino, sujeto) may be claimed.
type Entrega struct {
	ent.Schema
}

// Fields of the Entrega.
func (Entrega) Fields() []ent.Field {
	// Only what an integrator needs to see reaches GraphQL (Entrega in
	// ent.graphql); where filters only on what finds a delivery to replay.
	hidden := entgql.Skip()
	noWhere := entgql.Skip(entgql.SkipWhereInput)
	return []ent.Field{
		field.Int("evento_seq").Immutable().
			Comment("id de la fila de outbox_eventos: el orden de confirmación por sujeto").
			Annotations(hidden),
		field.String("evento_id").MaxLen(64).NotEmpty().Immutable().
			Annotations(entgql.MapsTo("eventoId")),
		field.String("tipo").MaxLen(64).NotEmpty().Immutable(),
		field.String("sujeto").MaxLen(128).NotEmpty().Immutable().
			Annotations(hidden),
		field.Enum("canal").Values(canalWebhook, canalNATS, canalEmail).Immutable().
			Annotations(hidden),
		field.Int("webhook_id").Optional().Nillable().Immutable().
			Annotations(hidden),
		field.String("destino").MaxLen(64).NotEmpty().Immutable().
			Comment(`"nats", "email" o "webhook:<id>": con sujeto, la clave del orden`).
			Annotations(hidden),
		field.Enum("estado").Values(estadoEntregaPendiente, estadoEntregaEntregada, estadoEntregaFallida).
			Default(estadoEntregaPendiente).
			Annotations(entgql.Type("EstadoEntrega")),
		field.Int("intento").NonNegative().Default(0).
			Comment("Intentos hechos").
			Annotations(noWhere),
		field.Int("status_http").Optional().Nillable().
			Annotations(entgql.MapsTo("statusHttp"), noWhere),
		field.String("error").MaxLen(maxEntregaError).Optional().Nillable().
			Annotations(noWhere),
		field.Int("duracion_ms").Optional().Nillable().
			Annotations(entgql.MapsTo("duracionMs"), noWhere),
		field.Time("proximo_intento").SchemaType(instantColumn).Optional().Nillable().
			Annotations(entgql.MapsTo("proximoIntento"), noWhere),
		field.Time("fecha").SchemaType(instantColumn).Immutable().
			Annotations(entgql.OrderField("FECHA")),
		field.Time("intentado_en").SchemaType(instantColumn).Optional().Nillable().
			Annotations(hidden),
		field.Time("reintentos_desde").SchemaType(instantColumn).
			Comment("Inicio de la serie de intentos en curso (la creación o el último reenvío): la ventana de reintentos se cuenta desde aquí").
			Annotations(hidden),
		field.Time("reclamada_hasta").SchemaType(instantColumn).Optional().Nillable().
			Comment("Mientras un despachador la envía, nadie más la toma hasta esta hora").
			Annotations(hidden),
		field.String("reclamada_por").MaxLen(128).Optional().Nillable().
			Annotations(hidden),
	}
}

// Edges of the Entrega.
func (Entrega) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("outbox", OutboxEvento.Type).Ref("entregas").
			Field("evento_seq").Unique().Required().Immutable().
			Annotations(entgql.Skip()),
		edge.From("webhook", Webhook.Type).Ref("entregas").
			Field("webhook_id").Unique().Immutable().
			Annotations(entgql.Skip()),
	}
}

// Indexes of the Entrega: one delivery per event and destination; the
// claim's two lookups (what is due, and whether an earlier delivery of the
// same subject is still pending); a webhook's deliveries, newest first.
func (Entrega) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("evento_seq", "destino").Unique(),
		index.Fields("proximo_intento").Annotations(entsql.IndexWhere(entregaPendienteIndexClause)).
			StorageKey("entregas_pendientes_por_vencer"),
		index.Fields("destino", "sujeto", "evento_seq").Annotations(entsql.IndexWhere(entregaPendienteIndexClause)).
			StorageKey("entregas_pendientes_por_sujeto"),
		index.Fields("webhook_id", "fecha"),
	}
}

// Annotations of the Entrega: a webhook's deliveries (Webhook.entregas) in
// GraphQL, newest first.
func (Entrega) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
		entsql.IncrementStart(entregasRangeStart),
		entsql.Checks(map[string]string{
			"entregas_estado_valido": inList("estado", []string{estadoEntregaPendiente, estadoEntregaEntregada, estadoEntregaFallida}),
			"entregas_canal_valido":  inList("canal", []string{canalWebhook, canalNATS, canalEmail}),
		}),
	}
}
