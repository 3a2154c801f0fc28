package gqlserver_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/config"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/gqlserver"
	"github.com/banpro/factoring/internal/testkit"
)

// These tests specify the input limits (README, "Security"): every
// dimension of what a request sends is bounded before any resolver or SQL
// statement runs, for values written in the document and values sent as
// variables alike, with a VALIDATION_ERROR that names the argument.

// anidado nests leaf under key depth times: {key: {key: … leaf}}.
func anidado(depth int, key string, leaf any) any {
	v := leaf
	for range depth {
		v = map[string]any{key: v}
	}
	return v
}

// aristas nests leaf under depth edge predicates of facturas, alternating
// hasOperacionesWith (Factura → Operacion, Cliente → Operacion) and
// hasClienteWith (Operacion → Cliente): a filter a reviewer sent 100 deep,
// in 4 KB, that kept a PostgreSQL backend busy until the request's
// deadline.
func aristas(depth int, leaf any) any {
	v := leaf
	for i := range depth {
		key := "hasClienteWith"
		if (depth-1-i)%2 == 0 {
			key = "hasOperacionesWith"
		}
		v = map[string]any{key: v}
	}
	return v
}

// vacios is n empty filter objects.
func vacios(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{}
	}
	return out
}

// textos is n distinct strings.
func textos(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = fmt.Sprint(i)
	}
	return out
}

// cursorAnidado is a cursor as entgql encodes them (base64 of a
// MessagePack map {i: id, v: value}) whose value is a list nested depth
// levels deep.
func cursorAnidado(depth int) string {
	raw := []byte{0x82, 0xa1, 'i', 0x01, 0xa1, 'v'}
	raw = append(raw, bytes.Repeat([]byte{0x91}, depth)...) // fixarray of 1
	raw = append(raw, 0xc0)                                 // nil
	return base64.RawStdEncoding.EncodeToString(raw)
}

const (
	qClientes = `query($w: ClienteWhereInput) { clientes(where: $w) { totalCount } }`
	qFacturas = `query($w: FacturaWhereInput) { facturas(where: $w) { totalCount } }`
	qOps      = `query($w: OperacionWhereInput) { operaciones(where: $w) { totalCount } }`
	qDespues  = `query($a: Cursor) { clientes(first: 1, after: $a, orderBy: {field: RAZON_SOCIAL}) { edges { node { id } } } }`
	qPrimeros = `query($n: Int) { clientes(first: $n) { totalCount } }`
)

// Ensure that each input that stalled the server, sent as variables, is
// refused before anything runs (no SQL statement), with VALIDATION_ERROR
// on the argument, no data key, and without allocating much: the
// heaviest were 825 MB and several seconds of CPU before the limits.
func TestEntradasDesmedidasComoVariables(t *testing.T) {
	casos := []struct {
		name   string
		query  string
		vars   map[string]any
		field  string
		reason string // a part of the message
	}{
		{"aristas_100", qFacturas, map[string]any{"w": aristas(100, map[string]any{"creadoEnGT": "2000-01-01T00:00:00Z"})}, "where", "niveles"},
		{"aristas_6", qFacturas, map[string]any{"w": aristas(6, map[string]any{"creadoEnGT": "2000-01-01T00:00:00Z"})}, "where", "5 niveles de filtros"},
		{"not_9900", qClientes, map[string]any{"w": anidado(9900, "not", map[string]any{"rut": "x"})}, "where", "niveles"},
		{"not_6", qClientes, map[string]any{"w": anidado(6, "not", map[string]any{"rut": "x"})}, "where", "5 niveles de filtros"},
		{"and_or_6", qClientes, map[string]any{"w": map[string]any{"and": []any{map[string]any{"or": []any{map[string]any{"not": map[string]any{
			"hasFacturasWith": []any{map[string]any{"hasOperacionesWith": []any{map[string]any{"not": map[string]any{"creadoEnGT": "2000-01-01T00:00:00Z"}}}}}}}}}}}}, "where", "5 niveles de filtros"},
		{"predicados_51", qClientes, map[string]any{"w": map[string]any{"or": func() []any {
			out := make([]any, 25)
			for i := range out {
				out[i] = map[string]any{"rutContains": fmt.Sprint(i)}
			}
			return out
		}()}}, "where", "50 condiciones"},
		{"in_101", qClientes, map[string]any{"w": map[string]any{"rutIn": textos(101)}}, "where", "100 elementos"},
		{"in_70000", qClientes, map[string]any{"w": map[string]any{"rutIn": textos(70_000)}}, "where", "10000 valores"},
		{"or_10000_vacios", qClientes, map[string]any{"w": map[string]any{"or": vacios(9_998)}}, "where", "200 objetos"},
		{"or_vacio", qClientes, map[string]any{"w": map[string]any{"or": vacios(1)}}, "where", "vacío"},
		{"not_vacio", qClientes, map[string]any{"w": map[string]any{"not": map[string]any{}}}, "where", "vacío"},
		{"texto_1001", qClientes, map[string]any{"w": map[string]any{"razonSocialContainsFold": strings.Repeat("ñ", 1001)}}, "where", "1000 caracteres"},
		{"cursor_anidado_200000", qDespues, map[string]any{"a": cursorAnidado(200_000)}, "after", "cursor"},
		{"cursor_anidado_1", qDespues, map[string]any{"a": cursorAnidado(1)}, "after", "cursor"},
		{"cursor_1401", qDespues, map[string]any{"a": strings.Repeat("A", 1401)}, "after", "1400"},
		{"first_texto", qPrimeros, map[string]any{"n": "10"}, "first", "número"},
		{"int_texto_en_filtro", qOps, map[string]any{"w": map[string]any{"diasDescuentoGT": "10"}}, "where", "número"},
	}
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		c := servir(t, db, nil)
		for _, k := range casos {
			t.Run(k.name, func(t *testing.T) {
				body, err := json.Marshal(map[string]any{"query": k.query, "variables": k.vars})
				require.NoError(t, err)
				req := func() *http.Request {
					r, err := http.NewRequest(http.MethodPost, c.URL()+"/graphql", bytes.NewReader(body))
					require.NoError(t, err)
					r.Header.Set("Content-Type", "application/json")
					return r
				}
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				res := testkit.RequireNoSQL(t, db, func() testkit.Response { return c.Send(req()) })
				runtime.ReadMemStats(&after)
				assert.Equal(t, http.StatusUnprocessableEntity, res.Status, res.Raw)
				e := testkit.RequireGQLError(t, res, "VALIDATION_ERROR", k.field)
				assert.Contains(t, e.Extensions.Fields[k.field], k.reason, res.Raw)
				testkit.RequireNoDataKey(t, res)
				// Generous: the request's body, decoded, and the server's
				// buffers. Before the limits, not_9900 allocated 825 MB.
				alloc := after.TotalAlloc - before.TotalAlloc
				assert.Less(t, alloc, uint64(64<<20)+uint64(30*len(body)),
					"%s: %d bytes of %d allocated to refuse it", k.name, alloc, len(body))
			})
		}
	})
}

// Ensure that the limits hold for values written in the document as for
// variables.
func TestEntradasDesmedidasEnElDocumento(t *testing.T) {
	db := testkit.SQLite(t)
	c := servir(t, db, nil)
	lista := func(n int) string { return strings.TrimSuffix(strings.Repeat(`"x", `, n), ", ") }
	casos := []struct{ name, query, field string }{
		{"not_6", `{ clientes(where: ` + strings.Repeat(`{not: `, 6) + `{rut: "x"}` + strings.Repeat(`}`, 6) + `) { totalCount } }`, "where"},
		{"in_101", `{ clientes(where: {rutIn: [` + lista(101) + `]}) { totalCount } }`, "where"},
		{"texto_1001", `{ clientes(where: {rutContains: "` + strings.Repeat("a", 1001) + `"}) { totalCount } }`, "where"},
		{"or_vacio", `{ clientes(where: {or: [{}]}) { totalCount } }`, "where"},
		{"cursor_anidado", `{ clientes(after: "` + cursorAnidado(3) + `") { totalCount } }`, "after"},
		{"anidado_en_conexion_hija", `{ clientes(first: 1) { edges { node { facturas(where: ` + strings.Repeat(`{not: `, 6) + `{estado: DISPONIBLE}` + strings.Repeat(`}`, 6) + `) { totalCount } } } } }`, "where"},
		{"por_defecto_de_una_variable", `query($w: ClienteWhereInput = {rutIn: [` + lista(101) + `]}) { clientes(where: $w) { totalCount } }`, "where"},
	}
	for _, k := range casos {
		t.Run(k.name, func(t *testing.T) {
			res := testkit.RequireNoSQL(t, db, func() testkit.Response { return c.Do(k.query, nil) })
			assert.Equal(t, http.StatusUnprocessableEntity, res.Status, res.Raw)
			testkit.RequireGQLError(t, res, "VALIDATION_ERROR", k.field)
			testkit.RequireNoDataKey(t, res)
		})
	}
}

// Ensure that each limit admits its value: a filter 5 levels deep, 50
// conditions, a list of 100, a string of 1,000 characters, variables 12
// levels deep (5 levels of and/or over a list).
func TestEntradasEnElLimite(t *testing.T) {
	require.Equal(t, 5, gqlserver.MaxFilterDepth)
	require.Equal(t, 50, gqlserver.MaxFilterPredicates)
	require.Equal(t, 100, gqlserver.MaxListLength)
	require.Equal(t, 1000, gqlserver.MaxStringLength)
	require.Equal(t, 12, gqlserver.MaxVariableDepth)
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		c := servir(t, db, nil)
		b := testkit.NewFixture(t, db.Client)
		cl := b.Cliente()
		b.Factura(cl)
		rut := cl.Rut
		// and → or → and → or → and, a list at the bottom: 12 JSON levels.
		cinco := map[string]any{"and": []any{map[string]any{"or": []any{map[string]any{"and": []any{map[string]any{"or": []any{
			map[string]any{"and": []any{map[string]any{"rutIn": []any{rut}}}}}}}}}}}}
		var cuenta struct{ Clientes struct{ TotalCount int } }
		require.NoError(t, json.Unmarshal(pasa(t, c, qClientes, map[string]any{"w": cinco}).Data, &cuenta))
		assert.Equal(t, 1, cuenta.Clientes.TotalCount)

		pasa(t, c, qFacturas, map[string]any{"w": aristas(5, map[string]any{"creadoEnGT": "2000-01-01T00:00:00Z"})})
		pasa(t, c, qClientes, map[string]any{"w": anidado(5, "not", map[string]any{"rut": "x"})})

		// 50 conditions: an or of 24 objects of one condition each, the or
		// itself and one more.
		or := make([]any, 24)
		for i := range or {
			or[i] = map[string]any{"rutContains": fmt.Sprint(i)}
		}
		pasa(t, c, qClientes, map[string]any{"w": map[string]any{"or": or, "estado": "ACTIVO"}})

		pasa(t, c, qClientes, map[string]any{"w": map[string]any{"rutIn": append(textos(99), rut)}})
		pasa(t, c, qClientes, map[string]any{"w": map[string]any{"razonSocialContainsFold": strings.Repeat("ñ", 1000)}})
		pasa(t, c, qPrimeros, map[string]any{"n": 10})
		pasa(t, c, qOps, map[string]any{"w": map[string]any{"diasDescuentoGT": 10}})
	})
}

// Ensure that every cursor the API hands out is accepted back, for every
// order of every connection, and that the longest one it can hand out
// (ordered by RAZON_SOCIAL after a razón social of 255 four-byte
// characters) fits MaxCursorLength.
func TestCursoresDeLaAPIAceptados(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		c := servir(t, db, nil)
		b := testkit.NewFixture(t, db.Client)
		largo := strings.Repeat("𝄞", 255)
		cl := b.Cliente(func(c *ent.ClienteCreate) { c.SetRazonSocial(largo) })
		b.Cliente()
		fs := []*ent.Factura{b.Factura(cl), b.Factura(cl)}
		op := b.Operacion(cl, fs)
		b.Operacion(cl, fs[:1])
		_ = op

		conexiones := []struct{ path, fields string }{
			{"clientes", "RUT RAZON_SOCIAL LINEA_CREDITO LINEA_DISPONIBLE ESTADO CREADO_EN"},
			{"facturas", "NUMERO_FACTURA MONTO_TOTAL FECHA_EMISION FECHA_VENCIMIENTO ESTADO CREADO_EN"},
			{"operaciones", "FECHA_SOLICITUD MONTO_TOTAL_FACTURAS ESTADO CREADO_EN"},
		}
		for _, cx := range conexiones {
			for _, f := range strings.Fields(cx.fields) {
				for _, dir := range []string{"ASC", "DESC"} {
					q := fmt.Sprintf(`query($a: Cursor) { %s(first: 1, after: $a, orderBy: {field: %s, direction: %s}) { edges { cursor } pageInfo { endCursor } } }`, cx.path, f, dir)
					var out map[string]struct{ PageInfo testkit.PageInfo }
					res := pasa(t, c, q, nil)
					require.NoError(t, json.Unmarshal(res.Data, &out))
					cursor := out[cx.path].PageInfo.EndCursor
					require.NotNil(t, cursor, "%s %s %s: %s", cx.path, f, dir, res.Raw)
					pasa(t, c, q, map[string]any{"a": *cursor})
				}
			}
		}

		// The longest cursor: after the cliente of the longest name.
		q := `{ clientes(first: 1, orderBy: {field: RAZON_SOCIAL, direction: DESC}) { edges { cursor node { id } } } }`
		var out struct {
			Clientes struct {
				Edges []struct {
					Cursor string
					Node   struct{ ID string }
				}
			}
		}
		res := pasa(t, c, q, nil)
		require.NoError(t, json.Unmarshal(res.Data, &out))
		require.Equal(t, gid.Encode(cl.ID), out.Clientes.Edges[0].Node.ID, res.Raw)
		largest := out.Clientes.Edges[0].Cursor
		t.Logf("the longest cursor has %d characters", len(largest))
		assert.LessOrEqual(t, len(largest), gqlserver.MaxCursorLength)
		assert.Greater(t, len(largest), gqlserver.MaxCursorLength-100, "MaxCursorLength is the longest cursor, with little to spare")
		pasa(t, c, qDespues, map[string]any{"a": largest})
	})
}

// Ensure that introspection counts in a query's cost and aliases: 100
// aliased __schema fields (13 KB in) answered 2.2 MB with a cost of 0.
func TestIntrospeccionCuentaEnCostoYAlias(t *testing.T) {
	db := testkit.SQLite(t)
	c := servir(t, db, nil)
	schema := func(n int) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			fmt.Fprintf(&b, " s%d: __schema { types { name fields { name type { name } } } }", i)
		}
		return b.String() + " }"
	}
	uno, _ := costo(t, pasa(t, c, `{ __schema { queryType { name } } }`, nil))
	t.Logf("__schema costs %d", uno)
	assert.Greater(t, uno, 800, "__schema may return every type, field, argument…: it is not free")
	tipo, _ := costo(t, pasa(t, c, `{ __type(name: "Cliente") { name } }`, nil))
	assert.Greater(t, tipo, 10)
	assert.Less(t, tipo, uno)

	treinta, _ := costo(t, pasa(t, c, schema(30), nil))
	assert.Equal(t, 30*uno, treinta)
	for _, n := range []int{31, 100} {
		res := rechazada(t, db, c, schema(n), nil, "ALIAS_LIMIT_EXCEEDED")
		assert.Less(t, len(res.Raw), 1000, res.Raw)
		testkit.RequireNoDataKey(t, res)
	}
	// Under a smaller cost limit, introspection is what exceeds it.
	caro := servir(t, db, func(cfg *config.Config) { cfg.MaxComplexity = 2 * uno })
	pasa(t, caro, schema(2), nil)
	rechazada(t, db, caro, schema(3), nil, "COMPLEXITY_LIMIT_EXCEEDED")
}
