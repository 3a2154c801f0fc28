package graph_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/testkit"
)

// arbol builds nClientes clientes with nFacturas facturas each. Each
// cliente's facturas go two by two into APROBADA operaciones (CREADA and
// APROBADA events), and its first factura was also in an earlier RECHAZADA
// operación (CREADA and RECHAZADA), so every level of the graph has rows and
// a factura can have several operaciones.
func arbol(t *testing.T, db *database.DB, nClientes, nFacturas int) []*ent.Cliente {
	t.Helper()
	fx := testkit.NewFixture(t, db.Client)
	pendiente := estado.OperacionPendiente
	var clientes []*ent.Cliente
	for range nClientes {
		c := fx.Cliente()
		clientes = append(clientes, c)
		var fs []*ent.Factura
		for range nFacturas {
			fs = append(fs, fx.Factura(c))
		}
		rechazada := fx.Operacion(c, fs[:1], operacionEstado(estado.OperacionRechazada))
		fx.Evento(rechazada, estado.EventoRechazada, &pendiente, estado.OperacionRechazada)
		for i := 0; i < len(fs); i += 2 {
			op := fx.Operacion(c, fs[i:min(i+2, len(fs))], operacionEstado(estado.OperacionAprobada))
			fx.Evento(op, estado.EventoAprobada, &pendiente, estado.OperacionAprobada)
		}
		// Audit entries: two for the cliente, one per factura.
		auditar(t, db, estado.AudClienteCreado, c.ID, c.CreadoEn)
		auditar(t, db, estado.AudClienteActivado, c.ID, c.CreadoEn)
		for _, f := range fs {
			auditar(t, db, estado.AudFacturaRegistrada, f.ID, f.CreadoEn)
		}
	}
	return clientes
}

// auditar appends an audit entry of kind tipo about entity id.
func auditar(t *testing.T, db *database.DB, tipo estado.TipoAuditoria, id int, fecha time.Time) {
	t.Helper()
	c := db.Client.EventoAuditoria.Create().SetEntidad(tipo.Entidad()).SetEntidadID(id).SetTipo(tipo).SetFecha(fecha).
		SetRequestID("fixture").SetActor("fixture").SetDetalle(map[string]any{})
	if tipo.Entidad() == estado.EntidadCliente {
		c.SetClienteID(id)
	} else {
		c.SetFacturaID(id)
	}
	require.NoError(t, c.Exec(context.Background()))
}

// The queries of the test; totalCount is asked at every level, since it is
// loaded apart from the rows.
const (
	arbolDesdeClientes = `query Arbol {
	  clientes(first: 100) {
	    totalCount pageInfo { hasNextPage endCursor }
	    edges { cursor node {
	      id rut lineaUtilizada
	      facturas { totalCount edges { node {
	        id numeroFactura montoTotal cliente { id }
	        operaciones { totalCount edges { node {
	          id estado
	          eventos { totalCount edges { node { id tipo fecha } } }
	          facturas { totalCount edges { node { id } } }
	        } } }
	      } } }
	      operaciones { totalCount edges { node {
	        id montoTotalFacturas cliente { rut }
	        facturas { totalCount edges { node { id estado } } }
	        eventos { totalCount edges { node { id tipo operacion { id } } } }
	      } } }
	    } }
	  }
	}`
	arbolDesdeOperaciones = `query Operaciones {
	  operaciones(first: 100) { totalCount edges { node {
	    id cliente { id razonSocial }
	    facturas { totalCount edges { node {
	      id operaciones { totalCount edges { node { id estado } } }
	    } } }
	    eventos { totalCount edges { node { tipo } } }
	  } } }
	}`
	arbolDesdeFacturas = `query Facturas {
	  facturas(first: 100) { totalCount edges { node {
	    id cliente { rut }
	    operaciones { totalCount edges { node {
	      id facturas { totalCount edges { node { id } } }
	      eventos { totalCount edges { node { id } } }
	    } } }
	  } } }
	}`
	arbolDesdeUnCliente = `query Cliente($id: ID!) {
	  cliente(id: $id) {
	    facturas { totalCount edges { node {
	      id operaciones { totalCount edges { node {
	        id eventos { totalCount edges { node { tipo } } }
	      } } }
	    } } }
	    operaciones { totalCount edges { node {
	      id facturas { totalCount edges { node { id } } }
	    } } }
	  }
	}`
	arbolDeAuditoria = `query Auditoria {
	  clientes(first: 100) { totalCount edges { node {
	    eventos { totalCount edges { node { id tipo actor cliente { id } } } }
	    facturas { totalCount edges { node {
	      eventos { totalCount edges { node { id tipo detalle } } }
	    } } }
	  } } }
	}`
	arbolDesdeNodes = `query Nodes($ids: [ID!]!) {
	  nodes(ids: $ids) { id ... on Cliente {
	    facturas { totalCount edges { node {
	      operaciones { totalCount edges { node {
	        eventos { totalCount edges { node { tipo } } }
	      } } }
	    } } }
	  } }
	}`
)

// measure runs query and returns the statements it took and its data.
func measure(t *testing.T, c *testkit.Client, n *database.StatementCounter, query string, vars map[string]any) (int64, json.RawMessage) {
	t.Helper()
	n.Reset()
	got := testkit.Data[json.RawMessage](t, c, query, vars)
	return n.Load(), got
}

// Ensure that the number of SQL statements of a nested query does not grow
// with the rows it returns: no N+1 at any level, on either database.
func TestSinNMasUno(t *testing.T) {
	for name, dia := range map[string]string{"sqlite": dialect.SQLite, "postgres": dialect.Postgres} {
		t.Run(name, func(t *testing.T) {
			small, nSmall := testkit.CountedDB(t, dia)
			big, nBig := testkit.CountedDB(t, dia)
			clientesSmall := arbol(t, small, 2, 1)
			clientesBig := arbol(t, big, 20, 10)
			// These queries ask for whole default pages at every level on
			// purpose: the point is the statement count, not the query
			// limits, which are raised here.
			cfg := testkit.Config(t)
			cfg.MaxDepth, cfg.MaxComplexity = 20, 1<<40
			cSmall, _ := testkit.Serve(t, small, testkit.ServeOptions{Config: &cfg})
			cBig, _ := testkit.Serve(t, big, testkit.ServeOptions{Config: &cfg})

			cases := []struct {
				name      string
				query     string
				vars      func([]*ent.Cliente) map[string]any
				checkBig  func(t *testing.T, data json.RawMessage)
				checkSize string
			}{
				{name: "clientes_facturas_operaciones_eventos", query: arbolDesdeClientes, checkBig: func(t *testing.T, raw json.RawMessage) {
					var got struct {
						Clientes testkit.Conn[struct {
							Facturas testkit.Conn[struct {
								Operaciones testkit.Conn[struct {
									Eventos  testkit.Conn[testkit.Node]
									Facturas testkit.Conn[testkit.Node]
								}]
							}]
							Operaciones testkit.Conn[struct{ Eventos testkit.Conn[testkit.Node] }]
						}]
					}
					require.NoError(t, json.Unmarshal(raw, &got))
					require.Len(t, got.Clientes.Edges, 20)
					assert.Equal(t, 20, got.Clientes.TotalCount)
					for _, cl := range got.Clientes.Nodes() {
						require.Len(t, cl.Facturas.Edges, 10)
						assert.Equal(t, 10, cl.Facturas.TotalCount)
						require.Len(t, cl.Operaciones.Edges, 6)
						assert.Equal(t, 6, cl.Operaciones.TotalCount)
						for _, op := range cl.Operaciones.Nodes() {
							assert.Len(t, op.Eventos.Edges, 2)
						}
						fs := cl.Facturas.Nodes()
						oldest := fs[len(fs)-1]
						require.Len(t, oldest.Operaciones.Edges, 2, "the first factura is in two operaciones")
						assert.Equal(t, 2, oldest.Operaciones.TotalCount)
						for _, op := range oldest.Operaciones.Nodes() {
							assert.Equal(t, 2, op.Eventos.TotalCount)
							assert.Len(t, op.Eventos.Edges, 2)
							assert.NotEmpty(t, op.Facturas.Edges)
						}
					}
				}},
				{name: "operaciones_facturas_operaciones", query: arbolDesdeOperaciones, checkBig: func(t *testing.T, raw json.RawMessage) {
					var got struct {
						Operaciones testkit.Conn[struct {
							Facturas testkit.Conn[struct{ Operaciones testkit.Conn[testkit.Node] }]
							Eventos  testkit.Conn[testkit.Node]
						}]
					}
					require.NoError(t, json.Unmarshal(raw, &got))
					assert.Equal(t, 120, got.Operaciones.TotalCount)
					require.Len(t, got.Operaciones.Edges, 100)
					for _, op := range got.Operaciones.Nodes() {
						assert.NotEmpty(t, op.Facturas.Edges)
						assert.Len(t, op.Eventos.Edges, 2)
						for _, f := range op.Facturas.Nodes() {
							assert.NotEmpty(t, f.Operaciones.Edges)
						}
					}
				}},
				{name: "facturas_operaciones_facturas", query: arbolDesdeFacturas, checkBig: func(t *testing.T, raw json.RawMessage) {
					var got struct {
						Facturas testkit.Conn[struct {
							Operaciones testkit.Conn[struct {
								Facturas testkit.Conn[testkit.Node]
								Eventos  testkit.Conn[testkit.Node]
							}]
						}]
					}
					require.NoError(t, json.Unmarshal(raw, &got))
					assert.Equal(t, 200, got.Facturas.TotalCount)
					require.Len(t, got.Facturas.Edges, 100)
					for _, f := range got.Facturas.Nodes() {
						require.NotEmpty(t, f.Operaciones.Edges)
						for _, op := range f.Operaciones.Nodes() {
							assert.NotEmpty(t, op.Facturas.Edges)
							assert.Len(t, op.Eventos.Edges, 2)
						}
					}
				}},
				{name: "clientes_y_facturas_con_sus_eventos", query: arbolDeAuditoria, checkBig: func(t *testing.T, raw json.RawMessage) {
					var got struct {
						Clientes testkit.Conn[struct {
							Eventos  testkit.Conn[testkit.Node]
							Facturas testkit.Conn[struct{ Eventos testkit.Conn[testkit.Node] }]
						}]
					}
					require.NoError(t, json.Unmarshal(raw, &got))
					require.Len(t, got.Clientes.Edges, 20)
					for _, cl := range got.Clientes.Nodes() {
						assert.Equal(t, 2, cl.Eventos.TotalCount)
						assert.Len(t, cl.Eventos.Edges, 2)
						require.Len(t, cl.Facturas.Edges, 10)
						for _, f := range cl.Facturas.Nodes() {
							assert.Len(t, f.Eventos.Edges, 1)
						}
					}
				}},
				{name: "un_cliente_por_id", query: arbolDesdeUnCliente,
					vars: func(cs []*ent.Cliente) map[string]any { return map[string]any{"id": testkit.IDOf(cs[0])[0]} },
					checkBig: func(t *testing.T, raw json.RawMessage) {
						var got struct {
							Cliente struct {
								Facturas testkit.Conn[struct {
									Operaciones testkit.Conn[struct{ Eventos testkit.Conn[testkit.Node] }]
								}]
								Operaciones testkit.Conn[struct{ Facturas testkit.Conn[testkit.Node] }]
							}
						}
						require.NoError(t, json.Unmarshal(raw, &got))
						require.Len(t, got.Cliente.Facturas.Edges, 10)
						require.Len(t, got.Cliente.Operaciones.Edges, 6)
						for _, f := range got.Cliente.Facturas.Nodes() {
							require.NotEmpty(t, f.Operaciones.Edges)
							for _, op := range f.Operaciones.Nodes() {
								assert.Len(t, op.Eventos.Edges, 2)
							}
						}
					}},
				{name: "nodes_de_clientes", query: arbolDesdeNodes,
					vars: func(cs []*ent.Cliente) map[string]any { return map[string]any{"ids": testkit.IDOf(cs...)} },
					checkBig: func(t *testing.T, raw json.RawMessage) {
						var got struct {
							Nodes []struct {
								Facturas testkit.Conn[struct {
									Operaciones testkit.Conn[struct{ Eventos testkit.Conn[testkit.Node] }]
								}]
							}
						}
						require.NoError(t, json.Unmarshal(raw, &got))
						require.Len(t, got.Nodes, 20)
						for _, n := range got.Nodes {
							require.Len(t, n.Facturas.Edges, 10)
							for _, f := range n.Facturas.Nodes() {
								require.NotEmpty(t, f.Operaciones.Edges)
								assert.Len(t, f.Operaciones.Edges[0].Node.Eventos.Edges, 2)
							}
						}
					}},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					var varsSmall, varsBig map[string]any
					if tc.vars != nil {
						varsSmall, varsBig = tc.vars(clientesSmall), tc.vars(clientesBig)
					}
					stmtsSmall, _ := measure(t, cSmall, nSmall, tc.query, varsSmall)
					stmtsBig, raw := measure(t, cBig, nBig, tc.query, varsBig)
					tc.checkBig(t, raw)
					t.Logf("%s, %s: %d sentencias SQL con 2 clientes × 1 factura, %d con 20 clientes × 10 facturas",
						name, tc.name, stmtsSmall, stmtsBig)
					assert.Equal(t, stmtsSmall, stmtsBig, "the statements must not grow with the rows")
					assert.Positive(t, stmtsBig)
				})
			}
		})
	}
}
