package graph_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/testkit"
)

// The filters of the original REST API, each expressed through `where`.

const clientesWhere = `query($where: ClienteWhereInput) {
  clientes(where: $where) { totalCount edges { node { id } } }
}`

const facturasWhere = `query($where: FacturaWhereInput) {
  facturas(where: $where) { totalCount edges { node { id } } }
}`

const operacionesWhere = `query($where: OperacionWhereInput) {
  operaciones(where: $where) { totalCount edges { node { id } } }
}`

// filterCase is one filter and the exact page it must return, newest first.
type filterCase struct {
	name  string
	where map[string]any
	want  []string
}

func TestFiltrosClientes(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		fx := testkit.NewFixture(t, db.Client)
		alpha := fx.Cliente(clienteRazonSocial("Alpha Factoring SpA"), clienteLinea("1000000.00"))
		beta := fx.Cliente(clienteRazonSocial("Beta Comercial Ltda"), clienteEstado(estado.ClienteSuspendido), clienteLinea("5000000.00"))
		gamma := fx.Cliente(clienteRazonSocial("Inversiones ALPHA Sur"), clienteLinea("20000000.00"))
		delta := fx.Cliente(clienteRazonSocial("Delta SpA"), clienteRut("77.777.777-7"), clienteEstado(estado.ClientePendiente), clienteLinea("0.00"))
		epsilon := fx.Cliente(clienteRazonSocial("Epsilon SA"), clienteEstado(estado.ClienteBloqueado), clienteLinea("7500000.50"))
		zeta := fx.Cliente(clienteRazonSocial("Zeta Ltda"), clienteEstado(estado.ClienteSuspendido), clienteLinea("10000000.00"))
		c, _ := testkit.Serve(t, db, testkit.ServeOptions{})

		cases := []filterCase{
			{"sin_filtro_devuelve_todos", nil, testkit.IDOf(zeta, epsilon, delta, gamma, beta, alpha)},
			{"por_estado", map[string]any{"estado": "ACTIVO"}, testkit.IDOf(gamma, alpha)},
			{"por_varios_estados", map[string]any{"estadoIn": []string{"SUSPENDIDO", "BLOQUEADO"}}, testkit.IDOf(zeta, epsilon, beta)},
			{"rango_de_linea_incluye_los_extremos", map[string]any{
				"lineaCreditoGTE": "5000000", "lineaCreditoLTE": "10000000.00",
			}, testkit.IDOf(zeta, epsilon, beta)},
			{"rango_de_linea_con_entero_json", map[string]any{
				"lineaCreditoGTE": 5000000, "lineaCreditoLTE": "7500000.50",
			}, testkit.IDOf(epsilon, beta)},
			// Ensure that the comparison is exact to the cent, not a float's.
			{"rango_de_linea_exacto_al_centavo", map[string]any{"lineaCreditoGTE": "7500000.49", "lineaCreditoLT": "7500000.51"}, testkit.IDOf(epsilon)},
			{"linea_cero", map[string]any{"lineaCreditoLTE": "0"}, testkit.IDOf(delta)},
			{"texto_en_razon_social_sin_distinguir_mayusculas_o_en_rut", map[string]any{"or": []any{
				map[string]any{"razonSocialContainsFold": "alpha"},
				map[string]any{"rutContains": "777.777"},
			}}, testkit.IDOf(delta, gamma, alpha)},
			{"texto_y_estado_combinados", map[string]any{
				"estado": "ACTIVO",
				"or": []any{
					map[string]any{"razonSocialContainsFold": "ALPHA"},
					map[string]any{"rutContains": "777.777"},
				},
			}, testkit.IDOf(gamma, alpha)},
			{"sin_resultados", map[string]any{"razonSocialContainsFold": "omega"}, []string{}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got := testkit.Data[struct{ Clientes testkit.Conn[testkit.Node] }](t, c, clientesWhere, map[string]any{"where": tc.where}).Clientes
				assert.Equal(t, tc.want, testkit.IDs(got))
				assert.Equal(t, len(tc.want), got.TotalCount)
			})
		}

		t.Run("como_literales_en_la_consulta", func(t *testing.T) {
			got := testkit.Data[struct{ Clientes testkit.Conn[testkit.Node] }](t, c, `{
			  clientes(where: {
			    estadoIn: [ACTIVO, PENDIENTE, BLOQUEADO]
			    lineaCreditoGTE: 0, lineaCreditoLTE: "7500000.50"
			    or: [{razonSocialContainsFold: "alpha"}, {rutContains: "777.777"}, {razonSocialContainsFold: "epsilon"}]
			  }) { totalCount edges { node { id } } }
			}`, nil).Clientes
			assert.Equal(t, testkit.IDOf(epsilon, delta, alpha), testkit.IDs(got))
			assert.Equal(t, 3, got.TotalCount)
		})
	})
}

func TestFiltrosFacturas(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		fx := testkit.NewFixture(t, db.Client)
		a, b := fx.Cliente(), fx.Cliente()
		fA1 := fx.Factura(a, facturaRutDeudor("76.543.210-3"), facturaEmitida("2026-01-31"))
		fA2 := fx.Factura(a, facturaEstado(estado.FacturaPagada), facturaRutDeudor("77.777.777-7"), facturaEmitida("2026-02-01"))
		fB1 := fx.Factura(b, facturaEstado(estado.FacturaAnulada), facturaRutDeudor("88.888.888-8"), facturaEmitida("2026-02-14"))
		fA3 := fx.Factura(a, facturaRutDeudor("76.543.210-3"), facturaEmitida("2026-02-28"))
		fB2 := fx.Factura(b, facturaEstado(estado.FacturaPagada), facturaRutDeudor("76.543.210-3"), facturaEmitida("2026-03-01"))
		c, _ := testkit.Serve(t, db, testkit.ServeOptions{})
		idA, idB := testkit.IDOf(a)[0], testkit.IDOf(b)[0]

		cases := []filterCase{
			{"sin_filtro_devuelve_todas", nil, testkit.IDOf(fB2, fA3, fB1, fA2, fA1)},
			{"por_cliente", map[string]any{"hasClienteWith": []any{map[string]any{"id": idA}}}, testkit.IDOf(fA3, fA2, fA1)},
			{"por_otro_cliente", map[string]any{"hasClienteWith": []any{map[string]any{"id": idB}}}, testkit.IDOf(fB2, fB1)},
			{"por_estado", map[string]any{"estado": "PAGADA"}, testkit.IDOf(fB2, fA2)},
			{"por_rut_deudor", map[string]any{"rutDeudor": "76.543.210-3"}, testkit.IDOf(fB2, fA3, fA1)},
			{"rango_de_fecha_de_emision_incluye_los_extremos", map[string]any{
				"fechaEmisionGTE": "2026-02-01", "fechaEmisionLTE": "2026-02-28",
			}, testkit.IDOf(fA3, fB1, fA2)},
			{"cliente_estado_y_fechas_combinados", map[string]any{
				"hasClienteWith":  []any{map[string]any{"id": idA}},
				"estado":          "DISPONIBLE",
				"fechaEmisionGTE": "2026-02-01",
			}, testkit.IDOf(fA3)},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got := testkit.Data[struct{ Facturas testkit.Conn[testkit.Node] }](t, c, facturasWhere, map[string]any{"where": tc.where}).Facturas
				assert.Equal(t, tc.want, testkit.IDs(got))
				assert.Equal(t, len(tc.want), got.TotalCount)
			})
		}

		t.Run("como_literales_en_la_consulta", func(t *testing.T) {
			got := testkit.Data[struct{ Facturas testkit.Conn[testkit.Node] }](t, c, `query($a: ID!) {
			  facturas(where: {hasClienteWith: [{id: $a}], rutDeudor: "76.543.210-3", fechaEmisionLTE: "2026-02-28"}) {
			    totalCount edges { node { id } }
			  }
			}`, map[string]any{"a": idA}).Facturas
			assert.Equal(t, testkit.IDOf(fA3, fA1), testkit.IDs(got))
			assert.Equal(t, 2, got.TotalCount)
		})

		t.Run("las_facturas_de_un_cliente_tambien_anidadas", func(t *testing.T) {
			got := testkit.Data[struct {
				Cliente struct{ Facturas testkit.Conn[testkit.Node] }
			}](t, c, `query($id: ID!) {
			  cliente(id: $id) { facturas(where: {estado: DISPONIBLE}) { totalCount edges { node { id } } } }
			}`, map[string]any{"id": idA}).Cliente.Facturas
			assert.Equal(t, testkit.IDOf(fA3, fA1), testkit.IDs(got))
			assert.Equal(t, 2, got.TotalCount)
		})
	})
}

func TestFiltrosOperaciones(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		fx := testkit.NewFixture(t, db.Client)
		a, b := fx.Cliente(), fx.Cliente()
		oA1 := fx.Operacion(a, []*ent.Factura{fx.Factura(a)}, operacionSolicitada("2026-03-01T10:00:00Z"))
		oB1 := fx.Operacion(b, []*ent.Factura{fx.Factura(b)}, operacionSolicitada("2026-03-10T00:00:00Z"), operacionEstado(estado.OperacionRechazada))
		oA2 := fx.Operacion(a, []*ent.Factura{fx.Factura(a), fx.Factura(a)}, operacionSolicitada("2026-03-15T10:00:00Z"), operacionEstado(estado.OperacionAprobada))
		oB2 := fx.Operacion(b, []*ent.Factura{fx.Factura(b)}, operacionSolicitada("2026-04-01T00:00:00Z"))
		c, _ := testkit.Serve(t, db, testkit.ServeOptions{})
		idA, idB := testkit.IDOf(a)[0], testkit.IDOf(b)[0]

		cases := []filterCase{
			{"sin_filtro_devuelve_todas_por_fecha_de_solicitud", nil, testkit.IDOf(oB2, oA2, oB1, oA1)},
			{"por_cliente", map[string]any{"hasClienteWith": []any{map[string]any{"id": idA}}}, testkit.IDOf(oA2, oA1)},
			{"por_otro_cliente", map[string]any{"hasClienteWith": []any{map[string]any{"id": idB}}}, testkit.IDOf(oB2, oB1)},
			{"por_estado", map[string]any{"estado": "PENDIENTE"}, testkit.IDOf(oB2, oA1)},
			{"por_varios_estados", map[string]any{"estadoIn": []string{"APROBADA", "RECHAZADA"}}, testkit.IDOf(oA2, oB1)},
			{"rango_de_fecha_de_solicitud_incluye_los_extremos", map[string]any{
				"fechaSolicitudGTE": "2026-03-10T00:00:00Z", "fechaSolicitudLTE": "2026-03-15T10:00:00Z",
			}, testkit.IDOf(oA2, oB1)},
			// Ensure that an instant with an offset means the same instant.
			{"rango_con_desfase_horario", map[string]any{
				"fechaSolicitudGTE": "2026-03-09T21:00:00-03:00", "fechaSolicitudLT": "2026-03-15T07:00:00-03:00",
			}, testkit.IDOf(oB1)},
			{"cliente_y_estado_combinados", map[string]any{
				"hasClienteWith": []any{map[string]any{"id": idB}},
				"estado":         "RECHAZADA",
			}, testkit.IDOf(oB1)},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got := testkit.Data[struct{ Operaciones testkit.Conn[testkit.Node] }](t, c, operacionesWhere, map[string]any{"where": tc.where}).Operaciones
				assert.Equal(t, tc.want, testkit.IDs(got))
				assert.Equal(t, len(tc.want), got.TotalCount)
			})
		}

		t.Run("como_literales_en_la_consulta", func(t *testing.T) {
			got := testkit.Data[struct{ Operaciones testkit.Conn[testkit.Node] }](t, c, `{
			  operaciones(where: {estadoNotIn: [RECHAZADA], fechaSolicitudGTE: "2026-03-01T10:00:00Z", fechaSolicitudLT: "2026-04-01T00:00:00Z"}) {
			    totalCount edges { node { id } }
			  }
			}`, nil).Operaciones
			assert.Equal(t, testkit.IDOf(oA2, oA1), testkit.IDs(got))
			assert.Equal(t, 2, got.TotalCount)
		})

		t.Run("las_operaciones_de_un_cliente_tambien_anidadas", func(t *testing.T) {
			got := testkit.Data[struct {
				Cliente struct{ Operaciones testkit.Conn[testkit.Node] }
			}](t, c, `query($id: ID!) {
			  cliente(id: $id) { operaciones(where: {estado: PENDIENTE}) { totalCount edges { node { id } } } }
			}`, map[string]any{"id": idB}).Cliente.Operaciones
			assert.Equal(t, testkit.IDOf(oB2), testkit.IDs(got))
			assert.Equal(t, 1, got.TotalCount)
		})
	})
}
