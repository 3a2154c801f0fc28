// Package paginacion holds the SQL of the nested pages that entgql's eager
// loading asks for: the first n children of each parent of a page, such as
// the first 10 facturas of each of 20 clientes.
//
// entgql limits those with ROW_NUMBER() OVER (PARTITION BY parent ORDER BY
// …), which reads and sorts every child of every parent to keep n of each:
// 1,050 facturas read to keep 220 on the benchmark's Q2. On PostgreSQL,
// PorPadre instead asks for each parent's page on its own, through a
// LATERAL subquery with ORDER BY … LIMIT n that walks the (parent, order)
// index and stops after n rows. SQLite has no LATERAL; there the window
// function stays, which on an embedded database of a single user is cheap
// enough.
package paginacion

import (
	"strconv"
	"strings"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
)

// Aliases of the parent list in the PostgreSQL statement. They are unlikely
// names on purpose: the child's columns share the scope of the outer query.
const (
	aliasPadres = "paginacion_padres"
	columnaID   = "paginacion_padre"
	columnaPos  = "paginacion_orden"
)

// Lateral says whether PorPadre writes a LATERAL join on this dialect, in
// which the parents are named once each, so the edge loader leaves out its
// own "parent IN (ids)" filter. On the other dialects PorPadre relies on it.
func Lateral(dialecto string) bool { return dialecto == dialect.Postgres }

// PorPadre returns the modifier of an eager-loaded edge query that keeps the
// first limite children of each parent, in the order orden. columna is the
// column the loader filters the children by (the foreign key of a one-to-many
// edge, or the join table's column of a many-to-many one) and padres the ids
// of the parents being loaded. The children come back grouped by parent, in
// the order of padres, and in orden within each parent.
//
// On PostgreSQL the statement is
//
//	SELECT <columns> FROM unnest($1::bigint[]) WITH ORDINALITY AS padres(id, orden)
//	CROSS JOIN LATERAL (<the loader's query> WHERE columna = padres.id ORDER BY orden LIMIT n) AS <table>
//	ORDER BY padres.orden, orden
//
// with the parents' ids as one array literal, so the statement's text is the
// same whatever the number of parents and pgx prepares it once per
// connection.
//
// With one parent (an operación by id) it is the loader's query with
// columna = id, ORDER BY orden and LIMIT n: there is nothing to join.
func PorPadre(columna string, padres []int, limite int, orden sql.Querier) func(*sql.Selector) {
	ventana := entgql.LimitPerRow(columna, limite, orden)
	return func(s *sql.Selector) {
		if !Lateral(s.Dialect()) {
			ventana(s)
			return
		}
		s.SetDistinct(false)
		if len(padres) == 1 {
			// One parent (an operación by id, say): its page is a plain
			// ORDER BY … LIMIT, with no LATERAL join to plan.
			s.Where(sql.P(func(b *sql.Builder) {
				b.Ident(columna).WriteString(" = ").Arg(padres[0])
			})).OrderExpr(orden).Limit(limite)
			return
		}
		hijos := s.Clone().
			Where(sql.P(func(b *sql.Builder) {
				b.Ident(columna).WriteString(" = ").Ident(aliasPadres).WriteByte('.').Ident(columnaID)
			})).
			OrderExpr(orden).
			Limit(limite)
		// The children's query is written out now, while s is still the
		// loader's query: its predicates (the cursor's, for one) name their
		// columns through s when written, and s is replaced below. Its
		// placeholders start at $2 because the outer statement's only
		// argument, the parents' array, comes first in it ($1).
		hijos.SetTotal(1)
		textoHijos, argsHijos := hijos.Query()
		if err := hijos.Err(); err != nil {
			s.AddError(err)
			return
		}
		tabla := s.TableName()
		lateral := sql.ExprFunc(func(b *sql.Builder) {
			b.WriteString("unnest(").Arg(arrayLiteral(padres)).WriteString("::bigint[]) WITH ORDINALITY AS ").
				Ident(aliasPadres).WriteByte('(').Ident(columnaID).Comma().Ident(columnaPos).WriteString(")").
				WriteString(" CROSS JOIN LATERAL (").Join(sql.Expr(textoHijos, argsHijos...)).WriteString(") AS ").Ident(tabla)
		})
		*s = *sql.Dialect(s.Dialect()).
			Select(s.UnqualifiedColumns()...).
			FromExpr(lateral).
			OrderExpr(sql.ExprFunc(func(b *sql.Builder) {
				b.Ident(aliasPadres).WriteByte('.').Ident(columnaPos).Comma().Join(orden)
			}))
	}
}

// arrayLiteral writes ids as PostgreSQL's text form of an array, {1,2,3}:
// one parameter whatever their number.
func arrayLiteral(ids []int) string {
	var b strings.Builder
	b.Grow(len(ids)*12 + 2)
	b.WriteByte('{')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(id))
	}
	b.WriteByte('}')
	return b.String()
}
