package graph_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/testkit"
)

// Ensure that pageInfo alone never costs a COUNT(*): entgql computes it from
// the page (first + 1 rows); only totalCount, or pageInfo without edges,
// needs the count. Root and nested connections, both dialects.
func TestPageInfoSinCount(t *testing.T) {
	testkit.EachDBCounted(t, func(t *testing.T, db *database.DB, n *database.StatementCounter) {
		fx := testkit.NewFixture(t, db.Client)
		for range 3 {
			c := fx.Cliente()
			for range 3 {
				fx.Factura(c)
			}
		}
		c, _ := testkit.Serve(t, db, testkit.ServeOptions{})
		type page struct {
			TotalCount int
			PageInfo   struct{ HasNextPage bool }
			Edges      []struct {
				Node struct {
					Facturas struct {
						TotalCount int
						PageInfo   struct{ HasNextPage bool }
						Edges      []json.RawMessage
					}
				}
			}
		}
		run := func(query string) (page, int64) {
			t.Helper()
			n.Reset()
			got := testkit.Data[struct{ Clientes page }](t, c, query, nil)
			return got.Clientes, n.Load()
		}

		got, stmts := run(`{ clientes(first: 2) { pageInfo { hasNextPage } edges { node {
			facturas(first: 2) { pageInfo { hasNextPage } edges { node { id } } } } } } }`)
		assert.EqualValues(t, 2, stmts, "one query for the clientes, one for their facturas: no COUNT")
		assert.True(t, got.PageInfo.HasNextPage, "3 clientes, a page of 2")
		require.Len(t, got.Edges, 2)
		assert.True(t, got.Edges[0].Node.Facturas.PageInfo.HasNextPage, "3 facturas, a page of 2")
		assert.Len(t, got.Edges[0].Node.Facturas.Edges, 2)

		got, stmts = run(`{ clientes(first: 5) { pageInfo { hasNextPage } edges { node {
			facturas(first: 5) { pageInfo { hasNextPage } edges { node { id } } } } } } }`)
		assert.EqualValues(t, 2, stmts)
		assert.False(t, got.PageInfo.HasNextPage, "the whole list fits")
		assert.False(t, got.Edges[0].Node.Facturas.PageInfo.HasNextPage)

		got, stmts = run(`{ clientes(first: 2) { totalCount pageInfo { hasNextPage } edges { node {
			facturas(first: 2) { totalCount edges { node { id } } } } } } }`)
		assert.EqualValues(t, 4, stmts, "totalCount at both levels: one COUNT each")
		assert.Equal(t, 3, got.TotalCount)
		assert.Equal(t, 3, got.Edges[0].Node.Facturas.TotalCount)

		got, stmts = run(`{ clientes(first: 2) { pageInfo { hasNextPage } } }`)
		assert.EqualValues(t, 1, stmts, "pageInfo without edges needs the count")
		assert.True(t, got.PageInfo.HasNextPage)
	})
}
