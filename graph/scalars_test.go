package graph_test

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/testkit"
)

// A value that fails its scalar's parsing is a VALIDATION_ERROR naming the
// argument or input field, as a literal and as a variable, and nothing runs.
func TestEscalaresInvalidos(t *testing.T) {
	testkit.EachDBCounted(t, func(t *testing.T, db *database.DB, stmts *database.StatementCounter) {
		fx := testkit.NewFixture(t, db.Client)
		cliente := fx.Cliente()
		fx.Factura(cliente)
		c, _ := testkit.Serve(t, db, testkit.ServeOptions{})
		idCliente := testkit.IDOf(cliente)[0]

		cases := []struct {
			name  string
			query string
			vars  map[string]any
			field string
		}{
			// Date
			{"fecha_dd_mm_aaaa_literal", `{ facturas(where: {fechaEmisionGTE: "01-02-2026"}) { totalCount } }`, nil, "fechaEmisionGTE"},
			{"fecha_dd_mm_aaaa_en_variable", `query($d: Date) { facturas(where: {fechaEmisionGTE: $d}) { totalCount } }`,
				map[string]any{"d": "01-02-2026"}, "fechaEmisionGTE"},
			{"fecha_dd_mm_aaaa_dentro_de_un_input_en_variable", `query($w: FacturaWhereInput) { facturas(where: $w) { totalCount } }`,
				map[string]any{"w": map[string]any{"fechaEmisionGTE": "01-02-2026"}}, "fechaEmisionGTE"},
			{"fecha_inexistente", `{ facturas(where: {fechaEmisionLTE: "2026-02-30"}) { totalCount } }`, nil, "fechaEmisionLTE"},
			{"fecha_con_hora", `{ facturas(where: {fechaEmisionLTE: "2026-02-03T00:00:00Z"}) { totalCount } }`, nil, "fechaEmisionLTE"},
			{"fecha_anidada_bajo_cliente", `query($id: ID!) { cliente(id: $id) { facturas(where: {fechaEmisionGTE: "01-02-2026"}) { totalCount } } }`,
				map[string]any{"id": idCliente}, "fechaEmisionGTE"},
			// Decimal
			{"decimal_texto_no_numerico", `{ clientes(where: {lineaCreditoGTE: "abc"}) { totalCount } }`, nil, "lineaCreditoGTE"},
			{"decimal_tres_decimales", `{ clientes(where: {lineaCreditoGTE: "1.234"}) { totalCount } }`, nil, "lineaCreditoGTE"},
			{"decimal_float_literal", `{ clientes(where: {lineaCreditoGTE: 10.5}) { totalCount } }`, nil, "lineaCreditoGTE"},
			{"decimal_catorce_digitos", `{ clientes(where: {lineaCreditoGTE: "12345678901234"}) { totalCount } }`, nil, "lineaCreditoGTE"},
			{"decimal_texto_en_variable", `query($d: Decimal) { clientes(where: {lineaCreditoGTE: $d}) { totalCount } }`,
				map[string]any{"d": "abc"}, "lineaCreditoGTE"},
			{"decimal_tres_decimales_en_variable", `query($d: Decimal) { clientes(where: {lineaCreditoGTE: $d}) { totalCount } }`,
				map[string]any{"d": "1.234"}, "lineaCreditoGTE"},
			{"decimal_float_json_en_variable", `query($d: Decimal) { clientes(where: {lineaCreditoGTE: $d}) { totalCount } }`,
				map[string]any{"d": 10.5}, "lineaCreditoGTE"},
			{"decimal_float_json_dentro_de_un_input_en_variable", `query($w: ClienteWhereInput) { clientes(where: $w) { totalCount } }`,
				map[string]any{"w": map[string]any{"lineaCreditoGTE": 10.5}}, "lineaCreditoGTE"},
			// ID
			{"id_malformado_literal", `{ cliente(id: "xyz") { id } }`, nil, "id"},
			{"id_malformado_en_variable", `query($id: ID!) { cliente(id: $id) { id } }`, map[string]any{"id": "xyz"}, "id"},
			{"id_numerico_en_variable", `query($id: ID!) { cliente(id: $id) { id } }`, map[string]any{"id": 1}, "id"},
			{"id_malformado_en_node", `{ node(id: "xyz") { id } }`, nil, "id"},
			{"id_de_tipo_desconocido", `{ factura(id: "VXN1YXJpbzox") { id } }`, nil, "id"}, // "Usuario:1"
			{"id_malformado_en_nodes", `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []string{idCliente, "xyz"}}, "ids"},
			{"id_malformado_en_un_filtro", `{ facturas(where: {hasClienteWith: [{id: "xyz"}]}) { totalCount } }`, nil, "id"},
			// Cursor
			{"cursor_malformado_literal", `{ clientes(after: "no-es-un-cursor") { totalCount } }`, nil, "after"},
			{"cursor_malformado_en_variable", `query($c: Cursor) { clientes(after: $c) { totalCount } }`, map[string]any{"c": "no-es-un-cursor"}, "after"},
			{"cursor_malformado_en_before", `query($c: Cursor) { clientes(last: 2, before: $c) { totalCount } }`, map[string]any{"c": "%%%"}, "before"},
			{"cursor_malformado_anidado", `query($id: ID!) { cliente(id: $id) { facturas(after: "xyz") { totalCount } } }`,
				map[string]any{"id": idCliente}, "after"},
		}
		for _, tc := range cases {
			t.Run("rechaza_"+tc.name, func(t *testing.T) {
				stmts.Reset()
				res := c.Do(tc.query, tc.vars)
				e := testkit.RequireGQLError(t, res, "VALIDATION_ERROR", tc.field)
				assert.NotContains(t, res.Raw, "strconv", "no Go internals in a message")
				assert.NotContains(t, res.Raw, "msgpack")
				assert.NotContains(t, res.Raw, "base64")
				assert.NotEqual(t, "Error interno del servidor", e.Message)
				if len(res.Data) > 0 && string(res.Data) != "null" {
					// A field error: the field is null, nothing else is there.
					assert.Regexp(t, `^\{"[A-Za-z]+":null\}$`, string(res.Data))
				}
			})
		}

		t.Run("un_decimal_entero_o_texto_si_se_acepta", func(t *testing.T) {
			for _, v := range []any{"10", "10.5", "10.50", 10} {
				testkit.Data[struct{ Clientes testkit.Conn[testkit.Node] }](t, c, `query($d: Decimal) { clientes(where: {lineaCreditoGTE: $d}) { totalCount } }`,
					map[string]any{"d": v})
			}
		})
	})
}

var (
	timeRFC3339UTC = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$`)
	dateISO        = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	twoDecimals    = regexp.MustCompile(`^-?\d+\.\d{2}$`)
)

func TestEscalaresEnLaRespuesta(t *testing.T) {
	testkit.EachDBCounted(t, func(t *testing.T, db *database.DB, _ *database.StatementCounter) {
		fx := testkit.NewFixture(t, db.Client)
		cliente := fx.Cliente(clienteLinea("7500000.5"), func(c *ent.ClienteCreate) {
			c.SetLineaDisponible(testkit.Dec("5000000"))
		})
		f1 := fx.Factura(cliente, facturaMonto("1000"), facturaEmitida("2026-02-03"))
		f2 := fx.Factura(cliente, facturaMonto("0.1"))
		op := fx.Operacion(cliente, []*ent.Factura{f1, f2})
		c, _ := testkit.Serve(t, db, testkit.ServeOptions{})

		got := testkit.Data[struct {
			Cliente struct {
				LineaCredito, LineaDisponible, LineaUtilizada string
				FechaRegistro, CreadoEn, ActualizadoEn        string
			}
			Operacion struct {
				MontoTotalFacturas, TasaDescuento, MontoDescuento, MontoADesembolsar string
				FechaSolicitud                                                       string
				FechaAprobacion                                                      *string
				Facturas                                                             testkit.Conn[struct {
					MontoTotal, FechaEmision, FechaVencimiento string
				}]
				Eventos testkit.Conn[struct {
					Fecha   string
					Detalle map[string]any
				}]
			}
		}](t, c, `query($c: ID!, $o: ID!) {
		  cliente(id: $c) { lineaCredito lineaDisponible lineaUtilizada fechaRegistro creadoEn actualizadoEn }
		  operacion(id: $o) {
		    montoTotalFacturas tasaDescuento montoDescuento montoADesembolsar fechaSolicitud fechaAprobacion
		    facturas { edges { node { montoTotal fechaEmision fechaVencimiento } } }
		    eventos { edges { node { fecha detalle } } }
		  }
		}`, map[string]any{"c": testkit.IDOf(cliente)[0], "o": testkit.IDOf(op)[0]})

		t.Run("decimal_es_texto_con_dos_decimales", func(t *testing.T) {
			assert.Equal(t, "7500000.50", got.Cliente.LineaCredito)
			assert.Equal(t, "5000000.00", got.Cliente.LineaDisponible)
			assert.Equal(t, "2500000.50", got.Cliente.LineaUtilizada)
			assert.Equal(t, "1000.10", got.Operacion.MontoTotalFacturas)
			assert.Equal(t, "2.00", got.Operacion.TasaDescuento)
			for _, v := range []string{got.Operacion.MontoDescuento, got.Operacion.MontoADesembolsar} {
				assert.Regexp(t, twoDecimals, v)
			}
			var montos []string
			for _, f := range got.Operacion.Facturas.Nodes() {
				montos = append(montos, f.MontoTotal)
			}
			assert.Equal(t, []string{"0.10", "1000.00"}, montos)
		})

		t.Run("date_es_aaaa_mm_dd", func(t *testing.T) {
			fs := got.Operacion.Facturas.Nodes()
			require.Len(t, fs, 2)
			assert.Equal(t, "2026-02-03", fs[1].FechaEmision)
			assert.Equal(t, "2026-12-31", fs[1].FechaVencimiento)
			for _, f := range fs {
				assert.Regexp(t, dateISO, f.FechaEmision)
				assert.Regexp(t, dateISO, f.FechaVencimiento)
			}
		})

		t.Run("time_es_rfc3339_en_utc", func(t *testing.T) {
			assert.Equal(t, cliente.CreadoEn.UTC().Format("2006-01-02T15:04:05Z"), got.Cliente.CreadoEn)
			for _, v := range []string{got.Cliente.FechaRegistro, got.Cliente.CreadoEn, got.Cliente.ActualizadoEn, got.Operacion.FechaSolicitud} {
				assert.Regexp(t, timeRFC3339UTC, v)
			}
			assert.Nil(t, got.Operacion.FechaAprobacion, "an instant not yet reached is null")
			require.Len(t, got.Operacion.Eventos.Edges, 1)
			assert.Regexp(t, timeRFC3339UTC, got.Operacion.Eventos.Edges[0].Node.Fecha)
			assert.Equal(t, map[string]any{"fixture": true}, got.Operacion.Eventos.Edges[0].Node.Detalle, "detalle is a JSON object")
		})

		t.Run("linea_utilizada_sola_no_depende_de_otros_campos_pedidos", func(t *testing.T) {
			// Ensure that field collection, which selects only the asked
			// columns, still loads what a derived field needs.
			got := testkit.Data[struct {
				Cliente  struct{ LineaUtilizada string }
				Clientes testkit.Conn[struct{ LineaUtilizada string }]
			}](t, c, `query($c: ID!) {
			  cliente(id: $c) { lineaUtilizada }
			  clientes { edges { node { lineaUtilizada } } }
			}`, map[string]any{"c": testkit.IDOf(cliente)[0]})
			assert.Equal(t, "2500000.50", got.Cliente.LineaUtilizada)
			assert.Equal(t, "2500000.50", got.Clientes.Edges[0].Node.LineaUtilizada)
		})
	})
}
