package graph_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/testkit"
)

type conteoRes struct {
	Valor  int
	Exacto bool
}

// TestConteoAcotado ensures that conteoClientes, conteoFacturas,
// conteoOperaciones and conteoDeudores count exactly up to hasta and cap
// the answer above it (exacto false), that they apply the list's where
// input (the same rows as the list's totalCount), and that each is one
// statement that reads at most hasta + 1 rows: a LIMIT inside the count,
// which PostgreSQL's plan keeps under the aggregate.
func TestConteoAcotado(t *testing.T) {
	rec := &sqlRecorder{}
	testkit.EachDBWith(t, database.Options{WrapDriver: rec.wrap}, func(t *testing.T, db *database.DB) {
		fx := testkit.NewFixture(t, db.Client)
		a := fx.Cliente()
		b := fx.Cliente(clienteEstado(estado.ClienteSuspendido))
		fa := make([]*ent.Factura, 5)
		for i := range fa {
			fa[i] = fx.Factura(a)
		}
		fx.Factura(b, facturaEstado(estado.FacturaAnulada))
		fx.Factura(b, facturaEstado(estado.FacturaAnulada))
		fx.Operacion(a, fa[:1])                                                                          // PENDIENTE: fa[0] EN_PROCESO
		fx.Operacion(a, fa[1:2], func(c *ent.OperacionCreate) { c.SetEstado(estado.OperacionAprobada) }) // fa[1] EN_PROCESO
		c, _ := testkit.Serve(t, db, testkit.ServeOptions{})
		idA := testkit.IDOf(a)[0]

		// Each case is a filter and how many rows match it: 2 clientes, 7
		// facturas (3 DISPONIBLE, 2 EN_PROCESO, 2 ANULADA; 5 of a), 2
		// operaciones, 7 deudores (one per factura).
		cases := []struct {
			name, conteo, lista, tipo string
			where                     map[string]any
			n                         int
		}{
			{"clientes", "conteoClientes", "clientes", "ClienteWhereInput", nil, 2},
			{"clientes_activos", "conteoClientes", "clientes", "ClienteWhereInput", map[string]any{"estado": "ACTIVO"}, 1},
			{"facturas", "conteoFacturas", "facturas", "FacturaWhereInput", nil, 7},
			{"facturas_where_vacio", "conteoFacturas", "facturas", "FacturaWhereInput", map[string]any{}, 7},
			{"facturas_disponibles", "conteoFacturas", "facturas", "FacturaWhereInput", map[string]any{"estado": "DISPONIBLE"}, 3},
			{"facturas_no_disponibles", "conteoFacturas", "facturas", "FacturaWhereInput", map[string]any{"not": map[string]any{"estado": "DISPONIBLE"}}, 4},
			{"facturas_de_un_cliente", "conteoFacturas", "facturas", "FacturaWhereInput", map[string]any{"hasClienteWith": []any{map[string]any{"id": idA}}}, 5},
			{"facturas_de_un_cliente_en_proceso_o_anuladas", "conteoFacturas", "facturas", "FacturaWhereInput", map[string]any{
				"hasClienteWith": []any{map[string]any{"id": idA}},
				"or":             []any{map[string]any{"estado": "EN_PROCESO"}, map[string]any{"estado": "ANULADA"}},
			}, 2},
			{"facturas_de_nadie", "conteoFacturas", "facturas", "FacturaWhereInput", map[string]any{"rutDeudor": "1-9"}, 0},
			{"operaciones", "conteoOperaciones", "operaciones", "OperacionWhereInput", nil, 2},
			{"operaciones_aprobadas", "conteoOperaciones", "operaciones", "OperacionWhereInput", map[string]any{"estado": "APROBADA"}, 1},
			{"deudores", "conteoDeudores", "deudores", "DeudorWhereInput", nil, 7},
			{"deudores_con_facturas_anuladas", "conteoDeudores", "deudores", "DeudorWhereInput", map[string]any{
				"hasFacturasWith": []any{map[string]any{"estado": "ANULADA"}},
			}, 2},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				q := fmt.Sprintf(`query($w: %s, $h: Int) { %s(where: $w, hasta: $h) { valor exacto } }`, tc.tipo, tc.conteo)
				contar := func(hasta any) (conteoRes, recordedSQL) {
					t.Helper()
					rec.take()
					res := c.Do(q, map[string]any{"w": tc.where, "h": hasta})
					require.Empty(t, res.Errors, res.Raw)
					var got conteoRes
					require.NoError(t, json.Unmarshal(field(t, res, tc.conteo), &got))
					stmts := rec.take()
					require.Len(t, stmts, 1, "a bounded count is one statement")
					return got, stmts[0]
				}

				lista := fmt.Sprintf(`query($w: %s) { %s(where: $w) { totalCount } }`, tc.tipo, tc.lista)
				var total struct{ TotalCount int }
				require.NoError(t, json.Unmarshal(field(t, c.Do(lista, map[string]any{"w": tc.where}), tc.lista), &total))
				require.Equal(t, tc.n, total.TotalCount, "the list's totalCount counts the same rows")

				got, _ := contar(nil)
				assert.Equal(t, conteoRes{tc.n, true}, got, "hasta null: the default, 1000")
				if tc.n >= 1 {
					got, _ = contar(tc.n)
					assert.Equal(t, conteoRes{tc.n, true}, got, "exactly hasta rows: exact")
				}
				if tc.n >= 2 {
					got, stmt := contar(tc.n - 1)
					assert.Equal(t, conteoRes{tc.n - 1, false}, got, "one row more than hasta: capped")
					requireBounded(t, db, stmt, tc.n)
				}
				got, stmt := contar(1)
				assert.Equal(t, conteoRes{min(tc.n, 1), tc.n <= 1}, got)
				requireBounded(t, db, stmt, 2)
			})
		}

		t.Run("literales_y_alias_en_una_consulta", func(t *testing.T) {
			got := testkit.Data[map[string]conteoRes](t, c, `{
			  todas: conteoFacturas { valor exacto }
			  tope: conteoFacturas(hasta: 5) { valor exacto }
			  disponibles: conteoFacturas(where: { estado: DISPONIBLE }, hasta: 100000) { valor exacto }
			  clientes: conteoClientes(where: { estadoIn: [ACTIVO, SUSPENDIDO] }) { valor exacto }
			}`, nil)
			assert.Equal(t, map[string]conteoRes{
				"todas": {7, true}, "tope": {5, false}, "disponibles": {3, true}, "clientes": {2, true},
			}, got)
		})
	})
}

// requireBounded requires that stmt counts at most limit rows: its LIMIT
// is limit (a bound ent writes into the statement or passes as an
// argument), and on PostgreSQL the plan has a Limit node under the count.
func requireBounded(t *testing.T, db *database.DB, stmt recordedSQL, limit int) {
	t.Helper()
	q := strings.ToUpper(stmt.query)
	require.Contains(t, q, "COUNT(*)", stmt.query)
	require.Contains(t, q, fmt.Sprintf("LIMIT %d", limit), "the subquery reads at most hasta + 1 rows: %s", stmt.query)
	require.Less(t, strings.Index(q, "COUNT(*)"), strings.Index(q, "LIMIT"), "the LIMIT bounds the rows counted, not the count: %s", stmt.query)
	if db.Dialect != dialect.Postgres {
		return
	}
	var raw []byte
	require.NoError(t, db.SQL.QueryRowContext(t.Context(), "EXPLAIN (FORMAT JSON) "+stmt.query, stmt.args...).Scan(&raw))
	var plan []struct{ Plan planNode }
	require.NoError(t, json.Unmarshal(raw, &plan))
	require.Len(t, plan, 1)
	root := plan[0].Plan
	require.Equal(t, "Aggregate", root.NodeType, "%s", raw)
	assert.True(t, root.below("Limit"), "a Limit under the count: %s", raw)
}

type planNode struct {
	NodeType string     `json:"Node Type"`
	Plans    []planNode `json:"Plans"`
}

// below reports whether a node of type typ is somewhere under n.
func (n planNode) below(typ string) bool {
	for _, c := range n.Plans {
		if c.NodeType == typ || c.below(typ) {
			return true
		}
	}
	return false
}

// TestConteoHasta ensures that hasta outside 1…100000 is refused with
// VALIDATION_ERROR blaming hasta, before anything runs, whether written in
// the query or passed as a variable, and that both ends pass.
func TestConteoHasta(t *testing.T) {
	db := testkit.SQLite(t)
	fx := testkit.NewFixture(t, db.Client)
	fx.Factura(fx.Cliente())
	c, _ := testkit.Serve(t, db, testkit.ServeOptions{})

	for _, hasta := range []int{0, -1, 100_001, 1<<31 - 1} {
		for _, q := range []struct {
			doc  string
			vars map[string]any
		}{
			{fmt.Sprintf(`{ conteoFacturas(hasta: %d) { valor } }`, hasta), nil},
			{`query($h: Int) { conteoClientes(hasta: $h) { valor } }`, map[string]any{"h": hasta}},
			{`query($h: Int) { conteoOperaciones(hasta: $h) { valor } }`, map[string]any{"h": hasta}},
			{`query($h: Int) { conteoDeudores(hasta: $h) { valor } }`, map[string]any{"h": hasta}},
		} {
			res := testkit.RequireNoSQL(t, db, func() testkit.Response { return c.Do(q.doc, q.vars) })
			e := testkit.RequireGQLError(t, res, apperror.Validation, "hasta")
			assert.Equal(t, fmt.Sprintf("Debe estar entre 1 y 100000 (se recibió %d).", hasta), e.Extensions.Fields["hasta"], res.Raw)
		}
	}
	got := testkit.Data[map[string]conteoRes](t, c, `{
	  uno: conteoFacturas(hasta: 1) { valor exacto }
	  max: conteoFacturas(hasta: 100000) { valor exacto }
	}`, nil)
	assert.Equal(t, map[string]conteoRes{"uno": {1, true}, "max": {1, true}}, got)
}

// TestConteoRoles ensures that the counts are read as the lists are:
// every role may (they need Consultar), a token without a known role is
// refused with FORBIDDEN before anything runs.
func TestConteoRoles(t *testing.T) {
	db := testkit.SQLite(t)
	fx := testkit.NewFixture(t, db.Client)
	fx.Factura(fx.Cliente())
	cfg := testkit.WithAuth(testkit.Config(t))
	c, _ := testkit.Serve(t, db, testkit.ServeOptions{Config: &cfg})
	const q = `{ conteoClientes { valor } conteoFacturas { valor } conteoOperaciones { valor } conteoDeudores { valor } }`
	for _, role := range auth.Roles() {
		res := c.DoAs(testkit.Token(t, "persona-"+string(role), role), q, nil)
		require.Empty(t, res.Errors, "%s: %s", role, res.Raw)
		assert.JSONEq(t, `{"conteoClientes":{"valor":1},"conteoFacturas":{"valor":1},"conteoOperaciones":{"valor":0},"conteoDeudores":{"valor":1}}`,
			string(res.Data), role)
	}
	for _, tok := range []string{testkit.Token(t, "sin-roles"), testkit.Token(t, "desconocido", "superusuario")} {
		res := testkit.RequireNoSQL(t, db, func() testkit.Response { return c.DoAs(tok, `{ conteoFacturas { valor } }`, nil) })
		e := testkit.RequireGQLError(t, res, apperror.Forbidden)
		assert.Contains(t, e.Message, "conteoFacturas")
	}
}
