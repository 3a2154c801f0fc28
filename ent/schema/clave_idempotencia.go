package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// ClaveIdempotencia is one Idempotency-Key a subject sent with a mutation:
// the fingerprint of the request it first came with and, once the mutation
// is done, the response to replay. It is the server's bookkeeping, never a
// GraphQL type (internal/idempotencia owns it; README, "Retrying
// mutations").
type ClaveIdempotencia struct {
	ent.Schema
}

// The states of a key: the mutation runs (EN_CURSO) or ran (COMPLETADA:
// its transaction committed, or its answer is a business error worth
// replaying).
const (
	claveEnCurso    = "EN_CURSO"
	claveCompletada = "COMPLETADA"
)

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
		field.Enum("estado").Values(claveEnCurso, claveCompletada),
		// intento names the run that holds the key: the completion and the
		// release of a run whose lease another run took over find no row.
		field.String("intento").MaxLen(64).NotEmpty(),
		// respuesta is the response body, byte for byte; estado_http its
		// status. Empty while the mutation runs, and for good when the
		// server stopped between the mutation's commit and saving it.
		field.Bytes("respuesta").Optional().Nillable(),
		field.Int("estado_http").Optional().Nillable(),
		field.Time("creado_en").SchemaType(instantColumn),
		// vigente_hasta is the lease of the running attempt: past it, a
		// crashed run's key is free again (if the mutation never
		// committed) or known to have lost its response.
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
		entsql.Checks(map[string]string{
			"claves_idempotencia_estado_valido": inList("estado", []string{claveEnCurso, claveCompletada}),
		}),
	}
}
