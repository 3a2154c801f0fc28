package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// Webhook is an integrator's HTTPS endpoint subscribed to some event types.
// Its signing secrets are kept here and never leave the service except once,
// when created or rotated.
type Webhook struct {
	ent.Schema
}

// Fields of the Webhook.
func (Webhook) Fields() []ent.Field {
	return append([]ent.Field{
		field.String("url").MaxLen(maxWebhookURL).NotEmpty(),
		field.JSON("tipos", []string{}).
			Comment(`Tipos de evento suscritos; ["*"] son todos`).
			Annotations(entgql.Type("[String!]")),
		field.String("descripcion").Validate(maxChars(maxWebhookDescripcion)).Optional().Nillable(),
		field.Bool("activo").Default(true),
		field.String("secreto").NotEmpty().Sensitive().
			Comment("Secreto de firma vigente (whsec_…), cifrado si hay clave configurada").
			Annotations(entgql.Skip()),
		field.String("secreto_anterior").Optional().Nillable().Sensitive().
			Comment("Tras una rotación, el secreto anterior sigue firmando hasta secreto_anterior_hasta").
			Annotations(entgql.Skip()),
		field.Time("secreto_anterior_hasta").SchemaType(instantColumn).Optional().Nillable().
			Annotations(entgql.Skip()),
	}, timestamps()...)
}

// Edges of the Webhook. Deleting a webhook deletes its deliveries.
func (Webhook) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("entregas", Entrega.Type).
			Annotations(entsql.OnDelete(entsql.Cascade), entgql.RelayConnection()),
	}
}

// Annotations of the Webhook: the root webhooks connection, for the admin
// role only (internal/auth); its secrets never reach GraphQL but once, in
// the WebhookCreado of crearWebhook and rotarSecretoWebhook.
func (Webhook) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField("webhooks").Description("Los webhooks suscritos a los eventos de integración, " +
			"lo más nuevo primero. Solo para el rol admin."),
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
		entsql.IncrementStart(webhooksRangeStart),
	}
}
