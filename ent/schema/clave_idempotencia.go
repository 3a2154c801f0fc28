package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// ClaveIdempotencia is one Idempotency-Key a subject sent with a mutation
// that ran: the fingerprint of its request and the response to replay. The
// mutation's own transaction writes the row, so a key has a row exactly
// when its mutation committed (or was refused for a business reason, whose
// answer is kept too). It is the server's bookkeeping, never a GraphQL type
// (internal/idempotencia owns it; README, "Retrying mutations").
type ClaveIdempotencia struct {
	ent.Schema
}

// Fields of the ClaveIdempotencia.
func (ClaveIdempotencia) Fields() []ent.Field {
	return []ent.Field{
		// sujeto is the key's scope: the authenticated subject, "anonimo"
		// when authentication is off.
		field.String("sujeto").MaxLen(255).NotEmpty().Immutable(),
		field.String("clave").MaxLen(255).NotEmpty().Immutable(),
		// huella is the SHA-256 of the request: operation text, operation
		// name and canonical variables.
		field.Bytes("huella").MaxLen(32).NotEmpty(),
		// intento names the run that wrote the row: only that run saves
		// its response on it.
		field.String("intento").MaxLen(64).NotEmpty(),
		// respuesta is the response body, byte for byte, and estado_http
		// its status: empty between the mutation's commit and the moment
		// its response is saved, and for good if the server stopped in
		// between.
		field.Bytes("respuesta").Optional().Nillable(),
		field.Int("estado_http").Optional().Nillable(),
		field.Time("creado_en").SchemaType(instantColumn),
		// vigente_hasta ends the wait for a response not saved yet: past
		// it, the response is known to be lost.
		field.Time("vigente_hasta").SchemaType(instantColumn),
		field.Time("expira_en").SchemaType(instantColumn),
	}
}

// Indexes of the ClaveIdempotencia: one key per subject, and the purge of
// expired keys.
func (ClaveIdempotencia) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("sujeto", "clave").Unique(),
		index.Fields("expira_en"),
	}
}

// claveIdempotenciaIDs is the table's id range. ent's global ids give each
// new table the next free range; a fixed one keeps this table's from
// clashing with tables added on other branches at the same time. Its ids
// never leave the server.
var claveIdempotenciaIDs = 16 << 32

// Annotations of the ClaveIdempotencia.
func (ClaveIdempotencia) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Annotation{Table: "claves_idempotencia", IncrementStart: &claveIdempotenciaIDs},
		entgql.Skip(entgql.SkipAll),
	}
}
