package graph_test

import (
	"context"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/cliente"
	"github.com/banpro/factoring/ent/factura"
	"github.com/banpro/factoring/ent/operacion"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/testkit"
)

const paginasPorPadre = `query {
  clientes(first: 3) { edges { node {
    id
    facturas(first: 2) { pageInfo { hasNextPage } edges { node {
      id
      operaciones(first: 1) { pageInfo { hasNextPage } edges { node { id } } }
    } } }
  } } }
}`

type paginaFactura struct {
	ID          string
	Operaciones testkit.Conn[testkit.Node]
}

type paginaCliente struct {
	ID       string
	Facturas testkit.Conn[paginaFactura]
}

// The nested pages of a list of parents hold each parent's own first n
// children, in the connection's order, whatever the other parents hold:
// checked against the same pages read one parent at a time with ent. On
// PostgreSQL they are read with one LATERAL join per level, naming each
// parent once; on SQLite with the window function.
func TestPaginasAnidadasPorPadre(t *testing.T) {
	for name, dia := range map[string]string{"sqlite": dialect.SQLite, "postgres": dialect.Postgres} {
		t.Run(name, func(t *testing.T) {
			rec := &sqlRecorder{}
			opts := database.Options{WrapDriver: rec.wrap}
			var db *database.DB
			if dia == dialect.Postgres {
				db = testkit.PostgresWith(t, opts)
			} else {
				db = testkit.SQLiteWith(t, opts)
			}
			// 4 clientes of 5 facturas each; a cliente's first factura is
			// in two operaciones, the others in one.
			arbol(t, db, 4, 5)
			c, _ := testkit.Serve(t, db, testkit.ServeOptions{})
			rec.take()
			got := testkit.Data[struct{ Clientes testkit.Conn[paginaCliente] }](t, c, paginasPorPadre, nil)
			stmts := rec.take()

			ctx := context.Background()
			clientes := db.Client.Cliente.Query().Order(ent.Desc(cliente.FieldCreadoEn), ent.Desc(cliente.FieldID)).Limit(3).AllX(ctx)
			require.Len(t, got.Clientes.Edges, 3)
			operacionesDeAlguna := 0
			for i, cl := range got.Clientes.Nodes() {
				assert.Equal(t, testkit.IDOf(clientes[i])[0], cl.ID)
				facturas := db.Client.Factura.Query().Where(factura.ClienteID(clientes[i].ID)).
					Order(ent.Desc(factura.FieldCreadoEn), ent.Desc(factura.FieldID)).AllX(ctx)
				require.Len(t, cl.Facturas.Edges, 2)
				assert.True(t, cl.Facturas.PageInfo.HasNextPage)
				for j, f := range cl.Facturas.Nodes() {
					assert.Equal(t, testkit.IDOf(facturas[j])[0], f.ID, "cliente %d, factura %d", i, j)
					ops := facturas[j].QueryOperaciones().
						Order(ent.Desc(operacion.FieldFechaSolicitud), ent.Desc(operacion.FieldID)).AllX(ctx)
					require.Len(t, f.Operaciones.Edges, min(1, len(ops)))
					if len(ops) > 0 {
						assert.Equal(t, testkit.IDOf(ops[0])[0], f.Operaciones.Edges[0].Node.ID)
					}
					assert.Equal(t, len(ops) > 1, f.Operaciones.PageInfo.HasNextPage)
					operacionesDeAlguna += len(ops)
				}
			}
			require.Positive(t, operacionesDeAlguna)

			require.Len(t, stmts, 3, "one statement per level: %v", stmts)
			for _, stmt := range stmts[1:] {
				text := stmt.query
				if dia == dialect.Postgres {
					assert.Contains(t, text, "CROSS JOIN LATERAL")
					assert.NotContains(t, text, " IN (", "the parents are named once, in the LATERAL join")
				} else {
					assert.Contains(t, strings.ToUpper(text), "ROW_NUMBER() OVER")
				}
			}
		})
	}
}
