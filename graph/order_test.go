package graph_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/testkit"
)

// evento is an OperacionEvento as the order tests read it.
type evento struct {
	ID   string `json:"id"`
	Tipo string `json:"tipo"`
}

func tipos(c testkit.Conn[evento]) []string {
	out := make([]string, len(c.Edges))
	for i, e := range c.Edges {
		out[i] = e.Node.Tipo
	}
	return out
}

func TestOrdenPorDefecto(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		fx := testkit.NewFixture(t, db.Client)
		// Rows are written in one order and dated in another, so an order
		// by id (either way) cannot pass for the order by date.
		c1 := fx.Cliente(clienteCreadoEn(instant("2026-02-01T00:00:00Z")))
		c2 := fx.Cliente(clienteCreadoEn(instant("2026-01-01T00:00:00Z")))
		c3 := fx.Cliente(clienteCreadoEn(instant("2026-03-01T00:00:00Z")))
		c4 := fx.Cliente(clienteCreadoEn(instant("2026-01-15T00:00:00Z")))
		f1 := fx.Factura(c1, facturaCreadaEn(instant("2026-02-10T00:00:00Z")))
		f2 := fx.Factura(c1, facturaCreadaEn(instant("2026-02-05T00:00:00Z")))
		f3 := fx.Factura(c1, facturaCreadaEn(instant("2026-02-20T00:00:00Z")))
		f4 := fx.Factura(c3, facturaCreadaEn(instant("2026-03-05T00:00:00Z")))
		todas := []*ent.Factura{f1, f2, f3}
		o1 := fx.Operacion(c1, todas, operacionSolicitada("2026-02-25T00:00:00Z"))
		o2 := fx.Operacion(c1, []*ent.Factura{f1}, operacionSolicitada("2026-02-28T00:00:00Z"))
		o3 := fx.Operacion(c1, []*ent.Factura{f1}, operacionSolicitada("2026-02-21T00:00:00Z"))
		// o1's trail, written out of order: CREADA (by the fixture), then
		// FINALIZADA, DESEMBOLSADA and APROBADA dated backwards.
		pendiente, aprobada, desembolsada := estado.OperacionPendiente, estado.OperacionAprobada, estado.OperacionDesembolsada
		fx.EventoEn(instant("2026-03-10T00:00:00Z"), o1, estado.EventoFinalizada, &desembolsada, estado.OperacionFinalizada)
		fx.EventoEn(instant("2026-03-05T00:00:00Z"), o1, estado.EventoDesembolsada, &aprobada, estado.OperacionDesembolsada)
		fx.EventoEn(instant("2026-03-01T00:00:00Z"), o1, estado.EventoAprobada, &pendiente, estado.OperacionAprobada)
		historia := []string{"CREADA", "APROBADA", "DESEMBOLSADA", "FINALIZADA"}
		c, _ := testkit.Serve(t, db, testkit.ServeOptions{})

		clientesNuevosPrimero := testkit.IDOf(c3, c1, c4, c2)
		facturasNuevasPrimero := testkit.IDOf(f4, f3, f1, f2)
		facturasDeC1 := testkit.IDOf(f3, f1, f2)
		operacionesDeC1 := testkit.IDOf(o2, o1, o3) // by fechaSolicitud, not by creation

		t.Run("raiz", func(t *testing.T) {
			got := testkit.Data[struct {
				Clientes    testkit.Conn[testkit.Node]
				Facturas    testkit.Conn[testkit.Node]
				Operaciones testkit.Conn[testkit.Node]
			}](t, c, `{
			  clientes { edges { node { id } } }
			  facturas { edges { node { id } } }
			  operaciones { edges { node { id } } }
			}`, nil)
			assert.Equal(t, clientesNuevosPrimero, testkit.IDs(got.Clientes), "clientes: creadoEn descendente")
			assert.Equal(t, facturasNuevasPrimero, testkit.IDs(got.Facturas), "facturas: creadoEn descendente")
			assert.Equal(t, operacionesDeC1, testkit.IDs(got.Operaciones), "operaciones: fechaSolicitud descendente")
		})

		t.Run("raiz_con_orderBy_de_una_variable_omitida", func(t *testing.T) {
			got := testkit.Data[struct{ Clientes testkit.Conn[testkit.Node] }](t, c, `query($orden: ClienteOrder) {
			  clientes(orderBy: $orden) { edges { node { id } } }
			}`, nil)
			assert.Equal(t, clientesNuevosPrimero, testkit.IDs(got.Clientes))
		})

		t.Run("raiz_con_orderBy_null", func(t *testing.T) {
			got := testkit.Data[struct{ Clientes testkit.Conn[testkit.Node] }](t, c, `{ clientes(orderBy: null) { edges { node { id } } } }`, nil)
			assert.Equal(t, clientesNuevosPrimero, testkit.IDs(got.Clientes), "null is no order given: the default one")
			got = testkit.Data[struct{ Clientes testkit.Conn[testkit.Node] }](t, c, `query($orden: ClienteOrder) {
			  clientes(orderBy: $orden) { edges { node { id } } }
			}`, map[string]any{"orden": nil})
			assert.Equal(t, clientesNuevosPrimero, testkit.IDs(got.Clientes))
		})

		t.Run("anidado_con_orderBy_null", func(t *testing.T) {
			got := testkit.Data[struct {
				Cliente struct{ Facturas testkit.Conn[testkit.Node] }
			}](t, c, `query($id: ID!, $orden: FacturaOrder) { cliente(id: $id) { facturas(orderBy: $orden) { edges { node { id } } } } }`,
				map[string]any{"id": testkit.IDOf(c1)[0], "orden": nil})
			assert.Equal(t, facturasDeC1, testkit.IDs(got.Cliente.Facturas))
			got = testkit.Data[struct {
				Cliente struct{ Facturas testkit.Conn[testkit.Node] }
			}](t, c, `query($id: ID!) { cliente(id: $id) { facturas(orderBy: null) { edges { node { id } } } } }`,
				map[string]any{"id": testkit.IDOf(c1)[0]})
			assert.Equal(t, facturasDeC1, testkit.IDs(got.Cliente.Facturas))
		})

		// The nested lists are loaded along three paths (eager loading under
		// a connection, under a single entity, and the node interface); each
		// must keep the default order.
		type anidado struct {
			ID          string
			Facturas    testkit.Conn[testkit.Node]
			Operaciones testkit.Conn[struct {
				ID      string
				Eventos testkit.Conn[evento]
			}]
		}
		const camposAnidados = `id
		  facturas { edges { node { id } } }
		  operaciones { edges { node { id eventos { edges { node { id tipo } } } } } }`
		checkAnidado := func(t *testing.T, got anidado) {
			t.Helper()
			assert.Equal(t, facturasDeC1, testkit.IDs(got.Facturas), "Cliente.facturas: creadoEn descendente")
			var ops []string
			for _, o := range got.Operaciones.Nodes() {
				ops = append(ops, o.ID)
				if o.ID == testkit.IDOf(o1)[0] {
					assert.Equal(t, historia, tipos(o.Eventos), "Operacion.eventos: cronológico")
				}
			}
			assert.Equal(t, operacionesDeC1, ops, "Cliente.operaciones: fechaSolicitud descendente")
		}

		t.Run("anidado_bajo_la_conexion_raiz", func(t *testing.T) {
			got := testkit.Data[struct{ Clientes testkit.Conn[anidado] }](t, c, `{
			  clientes(where: {hasFacturas: true, hasOperaciones: true}) { edges { node { `+camposAnidados+` } } }
			}`, nil)
			require.Len(t, got.Clientes.Edges, 1)
			checkAnidado(t, got.Clientes.Edges[0].Node)
		})

		t.Run("anidado_bajo_cliente_por_id", func(t *testing.T) {
			got := testkit.Data[struct{ Cliente anidado }](t, c, `query($id: ID!) { cliente(id: $id) { `+camposAnidados+` } }`,
				map[string]any{"id": testkit.IDOf(c1)[0]})
			checkAnidado(t, got.Cliente)
		})

		t.Run("anidado_bajo_node", func(t *testing.T) {
			got := testkit.Data[struct{ Node anidado }](t, c, `query($id: ID!) { node(id: $id) { ... on Cliente { `+camposAnidados+` } } }`,
				map[string]any{"id": testkit.IDOf(c1)[0]})
			checkAnidado(t, got.Node)
		})

		t.Run("eventos_cronologicos_bajo_la_conexion_de_operaciones", func(t *testing.T) {
			got := testkit.Data[struct {
				Operaciones testkit.Conn[struct{ Eventos testkit.Conn[evento] }]
			}](t, c, `{ operaciones(where: {hasEventosWith: [{tipo: FINALIZADA}]}) { edges { node { eventos { edges { node { id tipo } } } } } } }`, nil)
			require.Len(t, got.Operaciones.Edges, 1)
			assert.Equal(t, historia, tipos(got.Operaciones.Edges[0].Node.Eventos))
		})

		t.Run("eventos_cronologicos_bajo_operacion_por_id", func(t *testing.T) {
			got := testkit.Data[struct {
				Operacion struct{ Eventos testkit.Conn[evento] }
			}](t, c, `query($id: ID!) {
			  operacion(id: $id) { eventos { edges { node { id tipo } } } }
			}`, map[string]any{"id": testkit.IDOf(o1)[0]})
			assert.Equal(t, historia, tipos(got.Operacion.Eventos))
		})

		t.Run("facturas_de_una_operacion_y_operaciones_de_una_factura", func(t *testing.T) {
			got := testkit.Data[struct {
				Operacion struct{ Facturas testkit.Conn[testkit.Node] }
				Factura   struct{ Operaciones testkit.Conn[testkit.Node] }
			}](t, c, `query($o: ID!, $f: ID!) {
			  operacion(id: $o) { facturas { edges { node { id } } } }
			  factura(id: $f) { operaciones { edges { node { id } } } }
			}`, map[string]any{"o": testkit.IDOf(o1)[0], "f": testkit.IDOf(f1)[0]})
			assert.Equal(t, facturasDeC1, testkit.IDs(got.Operacion.Facturas), "Operacion.facturas: creadoEn descendente")
			assert.Equal(t, operacionesDeC1, testkit.IDs(got.Factura.Operaciones), "Factura.operaciones: fechaSolicitud descendente")
		})

		t.Run("eventos_en_orden_inverso_si_se_pide", func(t *testing.T) {
			got := testkit.Data[struct {
				Operacion struct{ Eventos testkit.Conn[evento] }
			}](t, c, `query($id: ID!) {
			  operacion(id: $id) { eventos(orderBy: {field: FECHA, direction: DESC}) { edges { node { id tipo } } } }
			}`, map[string]any{"id": testkit.IDOf(o1)[0]})
			assert.Equal(t, testkit.Reversed(historia), tipos(got.Operacion.Eventos))
		})
	})
}

// clienteLineas builds clientes with these credit lines (ties included) and
// returns them in the order lineaCredito ASC, id ASC.
func clienteLineas(fx *testkit.Fixture, lineas ...string) []*ent.Cliente {
	var rows []*ent.Cliente
	for _, l := range lineas {
		rows = append(rows, fx.Cliente(clienteLinea(l)))
	}
	slices.SortStableFunc(rows, func(a, b *ent.Cliente) int {
		if c := a.LineaCredito.Cmp(b.LineaCredito); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return rows
}

// clientesPaginados pages through all clientes in the order of $orden.
const clientesPaginados = `query($orden: ClienteOrder, $first: Int, $after: Cursor, $last: Int, $before: Cursor) {
  clientes(orderBy: $orden, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id } }
  }
}`

// pageThrough walks a whole connection, size rows at a time, forwards
// (first/after) or backwards (last/before), and returns the ids in the
// connection's order. query takes $first, $after, $last and $before besides
// vars; path leads from data to the connection. It checks the page flags
// and that totalCount never changes.
func pageThrough(t *testing.T, c *testkit.Client, query string, vars map[string]any, path []string, size int, forwards bool, total int) []string {
	t.Helper()
	var pages [][]string
	var cursor *string
	for range total + 1 {
		v := maps.Clone(vars)
		if v == nil {
			v = map[string]any{}
		}
		if forwards {
			v["first"], v["after"] = size, cursor
		} else {
			v["last"], v["before"] = size, cursor
		}
		raw := testkit.Data[json.RawMessage](t, c, query, v)
		for _, name := range path {
			if i, err := strconv.Atoi(name); err == nil {
				var a []json.RawMessage
				require.NoError(t, json.Unmarshal(raw, &a))
				require.Greater(t, len(a), i)
				raw = a[i]
				continue
			}
			var m map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(raw, &m))
			raw = m[name]
		}
		var got testkit.Conn[testkit.Node]
		require.NoError(t, json.Unmarshal(raw, &got))
		assert.Equal(t, total, got.TotalCount, "totalCount counts the whole connection on every page")
		require.NotEmpty(t, got.Edges, "a page after a cursor that said there was more")
		assert.Equal(t, got.Edges[0].Cursor, *got.PageInfo.StartCursor)
		assert.Equal(t, got.Edges[len(got.Edges)-1].Cursor, *got.PageInfo.EndCursor)
		pages = append(pages, testkit.IDs(got))
		more := got.PageInfo.HasNextPage
		cursor = got.PageInfo.EndCursor
		if !forwards {
			more = got.PageInfo.HasPreviousPage
			cursor = got.PageInfo.StartCursor
		}
		if !more {
			break
		}
	}
	if !forwards {
		slices.Reverse(pages)
	}
	return slices.Concat(pages...)
}

func TestOrdenExplicitoConPaginacion(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		fx := testkit.NewFixture(t, db.Client)
		asc := testkit.IDOf(clienteLineas(fx, "3000000.00", "1000000.00", "2000000.00", "1000000.00", "5000000.00", "2000000.00", "4000000.00")...)
		c, _ := testkit.Serve(t, db, testkit.ServeOptions{})
		porLineaAsc := map[string]any{"field": "LINEA_CREDITO", "direction": "ASC"}
		porLineaDesc := map[string]any{"field": "LINEA_CREDITO", "direction": "DESC"}

		t.Run("una_sola_pagina", func(t *testing.T) {
			got := testkit.Data[struct{ Clientes testkit.Conn[testkit.Node] }](t, c, `{
			  clientes(orderBy: {field: LINEA_CREDITO, direction: ASC}) { edges { node { id } } }
			}`, nil).Clientes
			assert.Equal(t, asc, testkit.IDs(got))
		})
		// Ensure that cursors carry the order's value: pages of 2 over rows
		// with equal lines neither skip nor repeat a row.
		for _, size := range []int{1, 2, 3} {
			t.Run(fmt.Sprintf("hacia_adelante_asc_de_a_%d", size), func(t *testing.T) {
				assert.Equal(t, asc, pageThrough(t, c, clientesPaginados, map[string]any{"orden": porLineaAsc}, []string{"clientes"}, size, true, len(asc)))
			})
			t.Run(fmt.Sprintf("hacia_atras_asc_de_a_%d", size), func(t *testing.T) {
				assert.Equal(t, asc, pageThrough(t, c, clientesPaginados, map[string]any{"orden": porLineaAsc}, []string{"clientes"}, size, false, len(asc)))
			})
			t.Run(fmt.Sprintf("hacia_adelante_desc_de_a_%d", size), func(t *testing.T) {
				assert.Equal(t, testkit.Reversed(asc), pageThrough(t, c, clientesPaginados, map[string]any{"orden": porLineaDesc}, []string{"clientes"}, size, true, len(asc)))
			})
			t.Run(fmt.Sprintf("hacia_atras_desc_de_a_%d", size), func(t *testing.T) {
				assert.Equal(t, testkit.Reversed(asc), pageThrough(t, c, clientesPaginados, map[string]any{"orden": porLineaDesc}, []string{"clientes"}, size, false, len(asc)))
			})
		}
		// The same through the nested loading paths, which read the cursor
		// on their own: Cliente.facturas by amount, under cliente(id) and
		// under the root connection, and the root facturas by a Date.
		cliente := fx.Cliente()
		var facturas []*ent.Factura
		for i, monto := range []string{"300.50", "100.00", "200.00", "100.00", "500.00", "200.00", "0.01"} {
			facturas = append(facturas, fx.Factura(cliente, facturaMonto(monto),
				facturaEmitida(fmt.Sprintf("2026-0%d-%02d", 1+i%3, 10-i))))
		}
		porMonto := slices.Clone(facturas)
		slices.SortStableFunc(porMonto, func(a, b *ent.Factura) int {
			if c := b.MontoTotal.Cmp(a.MontoTotal); c != 0 {
				return c
			}
			return cmp.Compare(b.ID, a.ID)
		})
		porEmision := slices.Clone(facturas)
		slices.SortStableFunc(porEmision, func(a, b *ent.Factura) int {
			if c := a.FechaEmision.Compare(b.FechaEmision); c != 0 {
				return c
			}
			return cmp.Compare(a.ID, b.ID)
		})
		const facturasDeUnCliente = `query($id: ID!, $first: Int, $after: Cursor, $last: Int, $before: Cursor) {
		  cliente(id: $id) {
		    facturas(orderBy: {field: MONTO_TOTAL, direction: DESC}, first: $first, after: $after, last: $last, before: $before) {
		      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } }
		    }
		  }
		}`
		const facturasBajoClientes = `query($id: ID!, $first: Int, $after: Cursor, $last: Int, $before: Cursor) {
		  clientes(where: {id: $id}) { edges { node {
		    facturas(orderBy: {field: MONTO_TOTAL, direction: DESC}, first: $first, after: $after, last: $last, before: $before) {
		      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } }
		    }
		  } } }
		}`
		const facturasPorEmision = `query($first: Int, $after: Cursor, $last: Int, $before: Cursor) {
		  facturas(orderBy: {field: FECHA_EMISION, direction: ASC}, first: $first, after: $after, last: $last, before: $before) {
		    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } }
		  }
		}`
		idCliente := map[string]any{"id": testkit.IDOf(cliente)[0]}
		for _, forwards := range []bool{true, false} {
			t.Run(direccion("facturas_por_monto_bajo_cliente_por_id", forwards), func(t *testing.T) {
				assert.Equal(t, testkit.IDOf(porMonto...),
					pageThrough(t, c, facturasDeUnCliente, idCliente, []string{"cliente", "facturas"}, 2, forwards, len(facturas)))
			})
			t.Run(direccion("facturas_por_monto_bajo_la_conexion_de_clientes", forwards), func(t *testing.T) {
				assert.Equal(t, testkit.IDOf(porMonto...),
					pageThrough(t, c, facturasBajoClientes, idCliente, []string{"clientes", "edges", "0", "node", "facturas"}, 2, forwards, len(facturas)))
			})
			t.Run(direccion("facturas_por_fecha_de_emision", forwards), func(t *testing.T) {
				assert.Equal(t, testkit.IDOf(porEmision...),
					pageThrough(t, c, facturasPorEmision, nil, []string{"facturas"}, 3, forwards, len(facturas)))
			})
		}

		t.Run("orden_por_omision_paginado", func(t *testing.T) {
			// Rows were built one second apart: newest first is id DESC here.
			newest := testkit.Reversed(testkit.IDOf(fxClientesByID(t, db)...))
			assert.Equal(t, newest, pageThrough(t, c, clientesPaginados, nil, []string{"clientes"}, 3, true, len(newest)))
			assert.Equal(t, newest, pageThrough(t, c, clientesPaginados, nil, []string{"clientes"}, 3, false, len(newest)))
		})
	})
}

func direccion(name string, forwards bool) string {
	if forwards {
		return name + "_hacia_adelante"
	}
	return name + "_hacia_atras"
}

func fxClientesByID(t *testing.T, db *database.DB) []*ent.Cliente {
	t.Helper()
	rows, err := db.Client.Cliente.Query().Order(ent.Asc("id")).All(t.Context())
	require.NoError(t, err)
	return rows
}
