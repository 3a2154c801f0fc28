// Package schema holds the hand-written ent schemas of the factoring domain:
// Cliente, Factura, Deudor, Operacion (with its OperacionFactura join
// table), OperacionEvento and EventoAuditoria. Everything else under ent/ is
// generated from them.
package schema

import (
	"fmt"
	"unicode/utf8"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/schema/field"
	"github.com/shopspring/decimal"
)

// Column types shared by the schemas.
//
// Money is numeric(15,2): a shopspring decimal in Go and the Decimal scalar in
// GraphQL. SQLite has no exact decimal type; its NUMERIC affinity keeps 15
// significant digits, which is exactly what numeric(15,2) holds, so every
// amount reads back as written. Arithmetic on amounts is done in Go.
var (
	moneyColumn   = map[string]string{dialect.Postgres: "numeric(15,2)", dialect.SQLite: "numeric(15,2)"}
	rateColumn    = map[string]string{dialect.Postgres: "numeric(5,2)", dialect.SQLite: "numeric(5,2)"}
	dateColumn    = map[string]string{dialect.Postgres: "date", dialect.SQLite: "date"}
	instantColumn = map[string]string{dialect.Postgres: "timestamptz"}

	decimalGo  = decimal.Decimal{}
	decimalGQL = entgql.Type("Decimal")
	dateGQL    = entgql.Type("Date")
)

// timestamps are the creadoEn/actualizadoEn pair every entity has. The
// services set both from the injectable clock, so there is no default here.
func timestamps() []ent.Field {
	return []ent.Field{
		field.Time("creado_en").SchemaType(instantColumn).Immutable().
			Annotations(entgql.OrderField("CREADO_EN")),
		field.Time("actualizado_en").SchemaType(instantColumn),
	}
}

// inList renders a CHECK that column holds one of values.
func inList(column string, values []string) string {
	s := column + " IN ("
	for i, v := range values {
		if i > 0 {
			s += ", "
		}
		s += "'" + v + "'"
	}
	return s + ")"
}

// maxChars bounds a text field in characters, as docs/dominio.md counts
// lengths ("razonSocial 1..255"). ent's MaxLen counts bytes, so a value the services
// accept (255 "ñ") would fail ent's own check and surface as an internal
// error.
func maxChars(n int) func(string) error {
	return func(s string) error {
		if utf8.RuneCountInString(s) > n {
			return fmt.Errorf("admite como máximo %d caracteres", n)
		}
		return nil
	}
}
