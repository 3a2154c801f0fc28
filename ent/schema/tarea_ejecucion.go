package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// TareaEjecucion is one scheduled run of a periodic job (the overdue job).
// Every replica tries to insert the row of a run; the unique index lets
// exactly one succeed, and that one runs the job.
type TareaEjecucion struct {
	ent.Schema
}

// Fields of the TareaEjecucion.
func (TareaEjecucion) Fields() []ent.Field {
	return []ent.Field{
		field.String("tarea").MaxLen(64).NotEmpty().Immutable(),
		field.Time("programada_para").SchemaType(instantColumn).Immutable(),
		field.String("replica").MaxLen(128).NotEmpty().Immutable(),
		field.Time("iniciada_en").SchemaType(instantColumn).Immutable(),
		field.Time("terminada_en").SchemaType(instantColumn).Optional().Nillable(),
		field.String("error").MaxLen(maxEntregaError).Optional().Nillable(),
	}
}

// Indexes of the TareaEjecucion.
func (TareaEjecucion) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tarea", "programada_para").Unique(),
	}
}

// Annotations of the TareaEjecucion.
func (TareaEjecucion) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(entgql.SkipAll),
		entsql.Table("tareas_ejecuciones"),
		entsql.IncrementStart(tareasEjecucionesRangeStart),
	}
}
