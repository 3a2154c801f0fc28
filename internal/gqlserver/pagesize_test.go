package gqlserver_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/testkit"
)

func TestPaginacion(t *testing.T) {
	testkit.EachDBCounted(t, func(t *testing.T, db *database.DB, stmts *database.StatementCounter) {
		fx := testkit.NewFixture(t, db.Client)
		var clientes []*ent.Cliente
		for range 7 {
			clientes = append(clientes, fx.Cliente())
		}
		// The oldest cliente has 60 facturas: more than a default page.
		conFacturas := clientes[0]
		var facturas []*ent.Factura
		for range 60 {
			facturas = append(facturas, fx.Factura(conFacturas))
		}
		c, _ := testkit.Serve(t, db, testkit.ServeOptions{})
		newest := testkit.Reversed(testkit.IDOf(clientes...))         // c7 … c1
		facturasNewest := testkit.Reversed(testkit.IDOf(facturas...)) // f60 … f1

		const q = `query($first: Int, $after: Cursor, $last: Int, $before: Cursor) {
		  clientes(first: $first, after: $after, last: $last, before: $before) {
		    totalCount
		    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
		    edges { cursor node { id } }
		  }
		}`
		page := func(t *testing.T, vars map[string]any) testkit.Conn[testkit.Node] {
			t.Helper()
			return testkit.Data[struct{ Clientes testkit.Conn[testkit.Node] }](t, c, q, vars).Clientes
		}

		t.Run("hacia_adelante", func(t *testing.T) {
			p1 := page(t, map[string]any{"first": 3})
			assert.Equal(t, newest[0:3], testkit.IDs(p1))
			assert.Equal(t, testkit.PageInfo{HasNextPage: true, HasPreviousPage: false, StartCursor: &p1.Edges[0].Cursor, EndCursor: &p1.Edges[2].Cursor}, p1.PageInfo)
			assert.Equal(t, 7, p1.TotalCount)

			p2 := page(t, map[string]any{"first": 3, "after": *p1.PageInfo.EndCursor})
			assert.Equal(t, newest[3:6], testkit.IDs(p2))
			assert.True(t, p2.PageInfo.HasNextPage)
			assert.True(t, p2.PageInfo.HasPreviousPage, "a page after a cursor has rows before it")
			assert.Equal(t, 7, p2.TotalCount, "totalCount counts the whole connection, not the page")

			p3 := page(t, map[string]any{"first": 3, "after": *p2.PageInfo.EndCursor})
			assert.Equal(t, newest[6:], testkit.IDs(p3))
			assert.False(t, p3.PageInfo.HasNextPage)
			assert.Equal(t, 7, p3.TotalCount)

			p4 := page(t, map[string]any{"first": 3, "after": *p3.PageInfo.EndCursor})
			assert.Empty(t, p4.Edges)
			assert.False(t, p4.PageInfo.HasNextPage)
			assert.Nil(t, p4.PageInfo.EndCursor)
			assert.Equal(t, 7, p4.TotalCount)
		})

		t.Run("hacia_atras", func(t *testing.T) {
			p1 := page(t, map[string]any{"last": 3})
			assert.Equal(t, newest[4:7], testkit.IDs(p1), "the last rows, still in the connection's order")
			assert.True(t, p1.PageInfo.HasPreviousPage)
			assert.False(t, p1.PageInfo.HasNextPage)
			assert.Equal(t, 7, p1.TotalCount)

			p2 := page(t, map[string]any{"last": 3, "before": *p1.PageInfo.StartCursor})
			assert.Equal(t, newest[1:4], testkit.IDs(p2))
			assert.True(t, p2.PageInfo.HasPreviousPage)
			assert.True(t, p2.PageInfo.HasNextPage, "a page before a cursor has rows after it")
			assert.Equal(t, 7, p2.TotalCount)

			p3 := page(t, map[string]any{"last": 3, "before": *p2.PageInfo.StartCursor})
			assert.Equal(t, newest[0:1], testkit.IDs(p3))
			assert.False(t, p3.PageInfo.HasPreviousPage)
			assert.Equal(t, 7, p3.TotalCount)
		})

		t.Run("una_pagina_exacta_no_tiene_siguiente", func(t *testing.T) {
			p := page(t, map[string]any{"first": 7})
			assert.Equal(t, newest, testkit.IDs(p))
			assert.False(t, p.PageInfo.HasNextPage)
			p = page(t, map[string]any{"first": 100})
			assert.Equal(t, newest, testkit.IDs(p))
			assert.False(t, p.PageInfo.HasNextPage)
		})

		t.Run("before_sin_last_es_la_pagina_anterior_al_cursor", func(t *testing.T) {
			all := page(t, map[string]any{"first": 7})
			got := testkit.Data[struct{ Clientes testkit.Conn[testkit.Node] }](t, c, `query($before: Cursor) {
			  clientes(before: $before) { pageInfo { hasNextPage hasPreviousPage } edges { node { id } } }
			}`, map[string]any{"before": all.Edges[3].Cursor}).Clientes
			assert.Equal(t, newest[0:3], testkit.IDs(got))
			assert.True(t, got.PageInfo.HasNextPage)
			assert.False(t, got.PageInfo.HasPreviousPage)
		})

		// Ensure that a cursor is never applied in the wrong direction:
		// entgql would read before as after when paging forwards (and the
		// reverse) and answer a wrong page, so those mixes are refused.
		mixes := []struct {
			name  string
			vars  map[string]any
			field string
		}{
			{"rechaza_first_con_before", map[string]any{"first": 3, "before": 5}, "before"},
			{"rechaza_last_con_after", map[string]any{"last": 3, "after": 1}, "after"},
			{"rechaza_after_y_before_juntos", map[string]any{"after": 1, "before": 5}, "before"},
		}
		for _, tc := range mixes {
			t.Run(tc.name, func(t *testing.T) {
				all := page(t, map[string]any{"first": 7})
				vars := map[string]any{}
				for k, v := range tc.vars {
					vars[k] = v
					if i, ok := v.(int); ok && (k == "after" || k == "before") {
						vars[k] = all.Edges[i].Cursor
					}
				}
				stmts.Reset()
				res := c.Do(q, vars)
				testkit.RequireGQLError(t, res, "VALIDATION_ERROR", tc.field)
				testkit.RequireNullData(t, res)
				assert.Zero(t, stmts.Load())
			})
		}

		// Every connection takes 1 to 100 rows through first or last, never
		// both; a wrong value is refused before anything runs.
		rejected := []struct {
			name   string
			query  string
			vars   map[string]any
			fields []string
		}{
			{"rechaza_first_0", `{ clientes(first: 0) { totalCount } }`, nil, []string{"first"}},
			{"rechaza_first_negativo", `{ clientes(first: -1) { totalCount } }`, nil, []string{"first"}},
			{"rechaza_first_101", `{ clientes(first: 101) { totalCount } }`, nil, []string{"first"}},
			{"rechaza_last_0", `{ clientes(last: 0) { totalCount } }`, nil, []string{"last"}},
			{"rechaza_last_101", `{ clientes(last: 101) { totalCount } }`, nil, []string{"last"}},
			{"rechaza_first_y_last_juntos", `{ clientes(first: 2, last: 2) { totalCount } }`, nil, []string{"first", "last"}},
			{"rechaza_first_0_en_variable", `query($n: Int) { clientes(first: $n) { totalCount } }`, map[string]any{"n": 0}, []string{"first"}},
			{"rechaza_first_101_en_variable", `query($n: Int) { clientes(first: $n) { totalCount } }`, map[string]any{"n": 101}, []string{"first"}},
			{"rechaza_last_101_en_variable", `query($n: Int) { clientes(last: $n) { totalCount } }`, map[string]any{"n": 101}, []string{"last"}},
			{"rechaza_first_y_last_en_variables", `query($f: Int, $l: Int) { clientes(first: $f, last: $l) { totalCount } }`,
				map[string]any{"f": 1, "l": 1}, []string{"first", "last"}},
			{"rechaza_first_101_anidado", `{ clientes { edges { node { facturas(first: 101) { totalCount } } } } }`, nil, []string{"first"}},
			{"rechaza_last_101_anidado_bajo_cliente", `query($id: ID!) { cliente(id: $id) { operaciones(last: 101) { totalCount } } }`,
				map[string]any{"id": gid.Encode(conFacturas.ID)}, []string{"last"}},
			{"rechaza_first_0_en_eventos", `{ operaciones { edges { node { eventos(first: 0) { totalCount } } } } }`, nil, []string{"first"}},
			{"rechaza_first_101_en_un_fragmento", `{ clientes { ...F } } fragment F on ClienteConnection { edges { node { facturas(first: 101) { totalCount } } } }`,
				nil, []string{"first"}},
			{"rechaza_first_101_en_un_fragmento_en_linea", `{ node(id: "Q2xpZW50ZTox") { ... on Cliente { facturas(first: 101) { totalCount } } } }`,
				nil, []string{"first"}},
			// Ensure that a valid connection before the wrong one has not run
			// either: the whole operation is refused.
			{"rechaza_toda_la_operacion", `{ a: clientes { totalCount edges { node { id } } } b: facturas(first: 101) { totalCount } }`,
				nil, []string{"first"}},
			{"rechaza_nodes_con_101_ids", `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`,
				map[string]any{"ids": manyIDs(101)}, []string{"ids"}},
			{"rechaza_nodes_con_101_ids_aunque_haya_otros_campos", `query($ids: [ID!]!) { clientes { totalCount } nodes(ids: $ids) { id } }`,
				map[string]any{"ids": manyIDs(101)}, []string{"ids"}},
		}
		for _, tc := range rejected {
			t.Run(tc.name, func(t *testing.T) {
				stmts.Reset()
				res := c.Do(tc.query, tc.vars)
				testkit.RequireGQLError(t, res, "VALIDATION_ERROR", tc.fields...)
				testkit.RequireNullData(t, res)
				assert.Zero(t, stmts.Load(), "a refused query runs no SQL")
			})
		}

		t.Run("acepta_nodes_con_100_ids", func(t *testing.T) {
			res := c.Do(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": manyIDs(100)})
			for _, e := range res.Errors {
				assert.Equal(t, "NOT_FOUND", e.Extensions.Code, "ids that name no node, not a refusal: %s", res.Raw)
			}
		})

		// Without first or last a connection returns one default page (50),
		// at the root and nested, however the field is reached.
		type facturasPage struct {
			TotalCount int
			PageInfo   testkit.PageInfo
			Edges      []struct{ Node testkit.Node }
		}
		checkDefault := func(t *testing.T, got facturasPage) {
			t.Helper()
			require.Len(t, got.Edges, 50, "the default page size")
			assert.Equal(t, 60, got.TotalCount)
			assert.True(t, got.PageInfo.HasNextPage)
			for i, e := range got.Edges {
				if !assert.Equal(t, facturasNewest[i], e.Node.ID, "the newest 50, in order") {
					break
				}
			}
		}
		const page50 = `totalCount pageInfo { hasNextPage } edges { node { id } }`
		idCliente := map[string]any{"id": gid.Encode(conFacturas.ID)}
		defaults := []struct {
			name  string
			query string
			vars  map[string]any
			path  []string
		}{
			{"raiz", `{ facturas { ` + page50 + ` } }`, nil, []string{"facturas"}},
			{"raiz_first_null", `{ facturas(first: null) { ` + page50 + ` } }`, nil, []string{"facturas"}},
			{"raiz_first_variable_omitida", `query($n: Int) { facturas(first: $n) { ` + page50 + ` } }`, nil, []string{"facturas"}},
			{"raiz_first_variable_null", `query($n: Int) { facturas(first: $n) { ` + page50 + ` } }`, map[string]any{"n": nil}, []string{"facturas"}},
			{"raiz_first_y_last_null", `{ facturas(first: null, last: null) { ` + page50 + ` } }`, nil, []string{"facturas"}},
			{"anidado_bajo_cliente", `query($id: ID!) { cliente(id: $id) { facturas { ` + page50 + ` } } }`, idCliente, []string{"cliente", "facturas"}},
			{"anidado_bajo_cliente_first_null", `query($id: ID!) { cliente(id: $id) { facturas(first: null) { ` + page50 + ` } } }`,
				idCliente, []string{"cliente", "facturas"}},
			{"anidado_bajo_cliente_variable_null", `query($id: ID!, $n: Int) { cliente(id: $id) { facturas(first: $n) { ` + page50 + ` } } }`,
				map[string]any{"id": idCliente["id"], "n": nil}, []string{"cliente", "facturas"}},
			{"anidado_bajo_la_conexion_de_clientes", `query($id: ID!) { clientes(where: {id: $id}) { edges { node { facturas { ` + page50 + ` } } } } }`,
				idCliente, []string{"clientes", "edges", "0", "node", "facturas"}},
			{"anidado_bajo_la_conexion_de_clientes_first_null", `query($id: ID!) { clientes(where: {id: $id}) { edges { node { facturas(first: null) { ` + page50 + ` } } } } }`,
				idCliente, []string{"clientes", "edges", "0", "node", "facturas"}},
			{"anidado_bajo_node", `query($id: ID!) { node(id: $id) { ... on Cliente { facturas { ` + page50 + ` } } } }`, idCliente, []string{"node", "facturas"}},
			{"en_un_fragmento", `query($id: ID!) { cliente(id: $id) { ...F } } fragment F on Cliente { facturas { ` + page50 + ` } }`,
				idCliente, []string{"cliente", "facturas"}},
			{"en_un_fragmento_de_la_raiz", `{ ...Q } fragment Q on Query { facturas { ` + page50 + ` } }`, nil, []string{"facturas"}},
			{"en_un_fragmento_en_linea", `query($id: ID!) { cliente(id: $id) { ... on Cliente { facturas { ` + page50 + ` } } } }`,
				idCliente, []string{"cliente", "facturas"}},
			{"en_un_fragmento_anidado_bajo_la_conexion", `query($id: ID!) { clientes(where: {id: $id}) { edges { node { ...F } } } } fragment F on Cliente { ... on Cliente { facturas { ` + page50 + ` } } }`,
				idCliente, []string{"clientes", "edges", "0", "node", "facturas"}},
		}
		for _, tc := range defaults {
			t.Run("pagina_por_omision_"+tc.name, func(t *testing.T) {
				raw := testkit.Data[map[string]any](t, c, tc.query, tc.vars)
				var got facturasPage
				decodePath(t, raw, tc.path, &got)
				checkDefault(t, got)
			})
		}

		t.Run("pagina_por_omision_con_last_null_en_variable", func(t *testing.T) {
			got := testkit.Data[struct{ Facturas facturasPage }](t, c, `query($n: Int) { facturas(last: $n) { totalCount edges { node { id } } } }`,
				map[string]any{"n": nil}).Facturas
			assert.Len(t, got.Edges, 50)
			assert.Equal(t, 60, got.TotalCount)
		})

		t.Run("una_variable_compartida_se_resuelve_en_cada_conexion", func(t *testing.T) {
			got := testkit.Data[struct {
				Facturas facturasPage
				Clientes struct {
					Edges []struct {
						Node struct{ Facturas facturasPage }
					}
				}
			}](t, c, `query($n: Int) {
			  facturas(first: $n) { totalCount edges { node { id } } }
			  clientes(first: $n) { edges { node { facturas(first: $n) { totalCount edges { node { id } } } } } }
			}`, map[string]any{"n": nil})
			assert.Len(t, got.Facturas.Edges, 50)
			require.Len(t, got.Clientes.Edges, 7)
			assert.Len(t, got.Clientes.Edges[6].Node.Facturas.Edges, 50)
		})
	})
}

// manyIDs returns n well-formed cliente ids.
func manyIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = gid.Encode(i + 1)
	}
	return out
}

// decodePath decodes the value at path inside v (maps and, by index, lists
// as decoded from JSON) into dst.
func decodePath(t *testing.T, v any, path []string, dst any) {
	t.Helper()
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			var i int
			_, err := fmt.Sscan(p, &i)
			require.NoError(t, err)
			require.Greater(t, len(x), i)
			v = x[i]
		default:
			t.Fatalf("no %q in %v", strings.Join(path, "."), v)
		}
	}
	b, err := json.Marshal(v)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, dst))
}
