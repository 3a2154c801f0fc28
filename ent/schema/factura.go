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

// Factura is an invoice of a cliente, owed by a debtor (deudor).
type Factura struct {
	ent.Schema
}

// Fields of the Factura.
func (Factura) Fields() []ent.Field {
	return append([]ent.Field{
		field.Int("cliente_id").Immutable().
			Annotations(entgql.Skip()),
		field.String("numero_factura").Validate(maxChars(50)).NotEmpty().Immutable().
			Annotations(entgql.OrderField("NUMERO_FACTURA")),
		field.Int("deudor_id").Immutable().
			Comment("El deudor de rut_deudor").
			Annotations(entgql.Skip()),
		field.String("rut_deudor").MaxLen(12).NotEmpty().Immutable().
			Comment("RUT del deudor en forma canónica, p. ej. 76.543.210-3"),
		field.String("razon_social_deudor").Validate(maxChars(255)).NotEmpty().Immutable().
			Comment("La razón social del deudor como la escribe la factura"),
		field.Float("monto_total").GoType(decimalGo).SchemaType(moneyColumn).Immutable().
			Annotations(decimalGQL, entgql.OrderField("MONTO_TOTAL")),
		field.Time("fecha_emision").SchemaType(dateColumn).Immutable().
			Annotations(dateGQL, entgql.OrderField("FECHA_EMISION")),
		field.Time("fecha_vencimiento").SchemaType(dateColumn).Immutable().
			Annotations(dateGQL, entgql.OrderField("FECHA_VENCIMIENTO")),
		field.Time("fecha_recepcion").SchemaType(dateColumn).Immutable().
			Comment("Cuando el deudor recibió la factura: desde ella corren los 8 días para reclamarla (Ley 19.983)").
			Annotations(dateGQL),
		field.Enum("estado").GoType(estado.Factura("")).Default(string(estado.FacturaDisponible)).
			Annotations(entgql.Type("EstadoFactura"), entgql.OrderField("ESTADO")),
		field.Enum("estado_acuse").GoType(estado.Acuse("")).Default(string(estado.AcusePendiente)).
			Comment("El acuse de recibo del deudor: PENDIENTE, ACEPTADA o RECLAMADA").
			Annotations(entgql.Type("EstadoAcuse")),
		field.String("motivo_acuse").Validate(maxChars(500)).Optional().Nillable().
			Comment("Lo que dijo el deudor al aceptarla o reclamarla"),
		field.String("motivo_anulacion").Validate(maxChars(500)).Optional().Nillable(),
	}, timestamps()...)
}

// Edges of the Factura.
func (Factura) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("cliente", Cliente.Type).Ref("facturas").
			Field("cliente_id").Unique().Required().Immutable(),
		edge.From("deudor", Deudor.Type).Ref("facturas").
			Field("deudor_id").Unique().Required().Immutable(),
		edge.From("operaciones", Operacion.Type).Ref("facturas").
			Through("operacion_facturas", OperacionFactura.Type).
			Annotations(entgql.RelayConnection()),
		edge.To("eventos", EventoAuditoria.Type).
			Comment("La auditoría de la factura (las operaciones que la retienen, ceden o liberan las registran en las suyas), en el orden en que ocurrió").
			Annotations(entgql.RelayConnection()),
	}
}

// Indexes of the Factura: the per-cliente uniqueness, then one per filter
// and default order.
func (Factura) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("cliente_id", "numero_factura").Unique(),
		index.Fields("cliente_id", "creado_en"),
		index.Fields("estado"),
		index.Fields("rut_deudor"),
		index.Fields("deudor_id", "creado_en"),
		index.Fields("fecha_emision"),
		index.Fields("fecha_vencimiento"),
		index.Fields("creado_en"),
	}
}

// Annotations of the Factura.
func (Factura) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField("facturas"),
		entgql.RelayConnection(),
		entsql.Checks(map[string]string{
			"facturas_monto_total_positivo":     "monto_total > 0",
			"facturas_vencimiento_tras_emision": "fecha_vencimiento > fecha_emision",
			"facturas_estado_valido":            inList("estado", estado.Factura("").Values()),
			"facturas_estado_acuse_valido":      inList("estado_acuse", estado.Acuse("").Values()),
			"facturas_recepcion_desde_emision":  "fecha_recepcion >= fecha_emision",
		}),
	}
}
