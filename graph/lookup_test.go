package graph_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/testkit"
)

// wireID is a well-formed API id of type tipo that names row n of its type
// (which may not exist).
func wireID(tipo string, n int) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%s:%d", tipo, n))
}

func TestBusquedaPorID(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		fx := testkit.NewFixture(t, db.Client)
		cliente := fx.Cliente(clienteRut("12.345.678-5"), clienteRazonSocial("Empresa Alpha SpA"))
		conK := fx.Cliente(clienteRut("10.000.013-K"))
		factura := fx.Factura(cliente)
		operacion := fx.Operacion(cliente, []*ent.Factura{factura})
		eventos, err := operacion.QueryEventos().All(t.Context())
		require.NoError(t, err)
		require.Len(t, eventos, 1)
		evento := eventos[0]
		c, _ := testkit.Serve(t, db, testkit.ServeOptions{})
		idCliente, idFactura, idOperacion, idEvento := testkit.IDOf(cliente)[0], testkit.IDOf(factura)[0], testkit.IDOf(operacion)[0], testkit.IDOf(evento)[0]

		t.Run("encuentra_cada_entidad_por_su_id", func(t *testing.T) {
			got := testkit.Data[struct {
				Cliente   struct{ ID, Rut string }
				Factura   struct{ ID, NumeroFactura string }
				Operacion struct {
					ID      string
					Cliente struct{ ID string }
				}
			}](t, c, `query($c: ID!, $f: ID!, $o: ID!) {
			  cliente(id: $c) { id rut }
			  factura(id: $f) { id numeroFactura }
			  operacion(id: $o) { id cliente { id } }
			}`, map[string]any{"c": idCliente, "f": idFactura, "o": idOperacion})
			assert.Equal(t, idCliente, got.Cliente.ID)
			assert.Equal(t, "12.345.678-5", got.Cliente.Rut)
			assert.Equal(t, idFactura, got.Factura.ID)
			assert.Equal(t, factura.NumeroFactura, got.Factura.NumeroFactura)
			assert.Equal(t, idOperacion, got.Operacion.ID)
			assert.Equal(t, idCliente, got.Operacion.Cliente.ID)
		})

		// An id that names no row: data.x is null and one NOT_FOUND error
		// at its path.
		notFound := []struct {
			name, query string
			id          string
		}{
			{"cliente_inexistente", `query($id: ID!) { cliente(id: $id) { id } }`, wireID("Cliente", 999999)},
			{"factura_inexistente", `query($id: ID!) { factura(id: $id) { id } }`, wireID("Factura", 999999)},
			{"operacion_inexistente", `query($id: ID!) { operacion(id: $id) { id } }`, wireID("Operacion", 999999)},
			{"node_inexistente", `query($id: ID!) { node(id: $id) { id } }`, wireID("Factura", 999999)},
			{"evento_inexistente_como_node", `query($id: ID!) { node(id: $id) { id } }`, wireID("OperacionEvento", 999999)},
			// Ensure that an id of another type does not find the row of
			// the asked type, nor any other.
			{"id_de_factura_en_cliente", `query($id: ID!) { cliente(id: $id) { id } }`, idFactura},
			{"id_de_cliente_en_factura", `query($id: ID!) { factura(id: $id) { id } }`, idCliente},
			{"id_de_cliente_en_operacion", `query($id: ID!) { operacion(id: $id) { id } }`, idCliente},
			{"id_de_evento_en_operacion", `query($id: ID!) { operacion(id: $id) { id } }`, idEvento},
		}
		for _, tc := range notFound {
			t.Run("no_encontrado_"+tc.name, func(t *testing.T) {
				res := c.Do(tc.query, map[string]any{"id": tc.id})
				e := testkit.RequireGQLError(t, res, "NOT_FOUND")
				var m map[string]json.RawMessage
				require.NoError(t, json.Unmarshal(res.Data, &m), res.Raw)
				require.Len(t, m, 1, res.Raw)
				for name, v := range m {
					assert.JSONEq(t, "null", string(v), "data.%s", name)
					assert.Equal(t, []any{name}, e.Path)
				}
				assert.Equal(t, 200, res.Status, "a field error is a GraphQL response, not an HTTP error")
			})
		}

		t.Run("no_encontrado_como_literal", func(t *testing.T) {
			res := c.Do(fmt.Sprintf(`{ cliente(id: %q) { id } }`, wireID("Cliente", 424242)), nil)
			testkit.RequireGQLError(t, res, "NOT_FOUND")
			assert.JSONEq(t, "null", string(field(t, res, "cliente")))
		})

		t.Run("no_encontrado_no_afecta_a_los_demas_campos", func(t *testing.T) {
			res := c.Do(`query($c: ID!, $x: ID!) { a: cliente(id: $c) { id } b: cliente(id: $x) { id } }`,
				map[string]any{"c": idCliente, "x": wireID("Cliente", 424242)})
			e := testkit.RequireGQLError(t, res, "NOT_FOUND")
			assert.Equal(t, []any{"b"}, e.Path)
			assert.JSONEq(t, fmt.Sprintf(`{"a": {"id": %q}, "b": null}`, idCliente), string(res.Data))
		})

		t.Run("cliente_por_rut_en_cualquier_forma", func(t *testing.T) {
			for _, spelling := range []string{"12.345.678-5", "12345678-5", "123456785", " 12.345.678-5 ", "012.345.678-5", "0012345678-5"} {
				got := testkit.Data[struct{ ClientePorRut struct{ ID, Rut string } }](t, c,
					`query($rut: String!) { clientePorRut(rut: $rut) { id rut } }`, map[string]any{"rut": spelling})
				assert.Equal(t, idCliente, got.ClientePorRut.ID, "spelling %q", spelling)
				assert.Equal(t, "12.345.678-5", got.ClientePorRut.Rut)
			}
			for _, spelling := range []string{"10.000.013-K", "10.000.013-k", "10000013k", " 010.000.013-k "} {
				got := testkit.Data[struct{ ClientePorRut struct{ ID string } }](t, c,
					`query($rut: String!) { clientePorRut(rut: $rut) { id } }`, map[string]any{"rut": spelling})
				assert.Equal(t, testkit.IDOf(conK)[0], got.ClientePorRut.ID, "spelling %q", spelling)
			}
		})

		t.Run("cliente_por_rut_desconocido", func(t *testing.T) {
			res := c.Do(`{ clientePorRut(rut: "11.111.111-1") { id } }`, nil)
			e := testkit.RequireGQLError(t, res, "NOT_FOUND")
			assert.Equal(t, []any{"clientePorRut"}, e.Path)
			assert.JSONEq(t, "null", string(field(t, res, "clientePorRut")))
		})

		for _, bad := range []string{"12.345.678-9", "abc", "", "12.345.678"} {
			t.Run(fmt.Sprintf("cliente_por_rut_invalido_%q", bad), func(t *testing.T) {
				res := c.Do(`query($rut: String!) { clientePorRut(rut: $rut) { id } }`, map[string]any{"rut": bad})
				testkit.RequireGQLError(t, res, "VALIDATION_ERROR", "rut")
				assert.JSONEq(t, "null", string(field(t, res, "clientePorRut")))
			})
		}

		t.Run("node_de_cada_tipo", func(t *testing.T) {
			const q = `query($c: ID!, $f: ID!, $o: ID!, $e: ID!) {
			  c: node(id: $c) { __typename id ... on Cliente { rut } }
			  f: node(id: $f) { __typename id ... on Factura { numeroFactura cliente { rut } } }
			  o: node(id: $o) { __typename id ... on Operacion { estado facturas { totalCount } } }
			  e: node(id: $e) { __typename id ... on OperacionEvento { tipo operacion { id } } }
			}`
			got := testkit.Data[map[string]map[string]any](t, c, q, map[string]any{"c": idCliente, "f": idFactura, "o": idOperacion, "e": idEvento})
			assert.Equal(t, map[string]any{"__typename": "Cliente", "id": idCliente, "rut": "12.345.678-5"}, got["c"])
			assert.Equal(t, map[string]any{"__typename": "Factura", "id": idFactura, "numeroFactura": factura.NumeroFactura,
				"cliente": map[string]any{"rut": "12.345.678-5"}}, got["f"])
			assert.Equal(t, map[string]any{"__typename": "Operacion", "id": idOperacion, "estado": "PENDIENTE",
				"facturas": map[string]any{"totalCount": float64(1)}}, got["o"])
			assert.Equal(t, map[string]any{"__typename": "OperacionEvento", "id": idEvento, "tipo": "CREADA",
				"operacion": map[string]any{"id": idOperacion}}, got["e"])
		})

		t.Run("nodes_con_uno_existente_y_uno_inexistente", func(t *testing.T) {
			missing := wireID("Cliente", 424242)
			res := c.Do(`query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Cliente { rut } } }`,
				map[string]any{"ids": []string{idCliente, missing}})
			e := testkit.RequireGQLError(t, res, "NOT_FOUND")
			assert.Equal(t, []any{"nodes", float64(1)}, e.Path)
			assert.JSONEq(t, fmt.Sprintf(`[{"id": %q, "rut": "12.345.678-5"}, null]`, idCliente), string(field(t, res, "nodes")))
		})

		t.Run("nodes_de_varios_tipos_y_huecos", func(t *testing.T) {
			res := c.Do(`query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`,
				map[string]any{"ids": []string{wireID("Factura", 424242), idFactura, idCliente, wireID("Operacion", 424242), idEvento}})
			require.Len(t, res.Errors, 2, res.Raw)
			var paths [][]any
			for _, e := range res.Errors {
				assert.Equal(t, "NOT_FOUND", e.Extensions.Code)
				assert.NotEmpty(t, e.Extensions.RequestID)
				paths = append(paths, e.Path)
			}
			assert.ElementsMatch(t, [][]any{{"nodes", float64(0)}, {"nodes", float64(3)}}, paths)
			assert.JSONEq(t, fmt.Sprintf(`[null, {"__typename": "Factura", "id": %q}, {"__typename": "Cliente", "id": %q}, null,
				{"__typename": "OperacionEvento", "id": %q}]`, idFactura, idCliente, idEvento), string(field(t, res, "nodes")))
		})

		t.Run("nodes_con_un_solo_id_inexistente", func(t *testing.T) {
			res := c.Do(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []string{wireID("Cliente", 424242)}})
			e := testkit.RequireGQLError(t, res, "NOT_FOUND")
			assert.Equal(t, []any{"nodes", float64(0)}, e.Path)
			assert.JSONEq(t, `[null]`, string(field(t, res, "nodes")))
		})

		t.Run("nodes_vacio", func(t *testing.T) {
			got := testkit.Data[struct{ Nodes []any }](t, c, `{ nodes(ids: []) { id } }`, nil)
			assert.Empty(t, got.Nodes)
		})
	})
}
