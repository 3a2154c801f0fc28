package gqlserver_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/lexer"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/config"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/gqlserver"
	"github.com/banpro/factoring/internal/seed"
	"github.com/banpro/factoring/internal/testkit"
)

// These tests specify the limits of the issue "Security": every limit at
// its value passes, and at value + 1 is refused with its own code before
// anything runs (no SQL statement at all), with the query's cost in
// extensions.cost.

// servir serves the API over db with the default configuration (auth off)
// as edit leaves it.
func servir(t *testing.T, db *database.DB, edit func(*config.Config)) *testkit.Client {
	t.Helper()
	cfg := testkit.Config(t)
	if edit != nil {
		edit(&cfg)
	}
	c, _ := testkit.Serve(t, db, testkit.ServeOptions{Config: &cfg})
	return c
}

// rechazada posts query and requires that it was refused before execution:
// a 4xx, exactly one error with code, no data, no SQL statement run. It
// returns the response.
func rechazada(t *testing.T, db *database.DB, c *testkit.Client, query string, vars map[string]any, code apperror.Code) testkit.Response {
	t.Helper()
	res := testkit.RequireNoSQL(t, db, func() testkit.Response { return c.Do(query, vars) })
	require.GreaterOrEqual(t, res.Status, 400, res.Raw)
	require.Less(t, res.Status, 500, res.Raw)
	testkit.RequireGQLError(t, res, code)
	testkit.RequireNoDataKey(t, res)
	testkit.RequireNoLeaks(t, res)
	return res
}

// pasa posts query and requires that it ran without errors.
func pasa(t *testing.T, c *testkit.Client, query string, vars map[string]any) testkit.Response {
	t.Helper()
	res := c.Do(query, vars)
	require.Equal(t, http.StatusOK, res.Status, res.Raw)
	require.Empty(t, res.Errors, res.Raw)
	require.NotEmpty(t, res.Data, res.Raw)
	return res
}

// costo reads extensions.cost of a response, requiring it is there.
func costo(t *testing.T, res testkit.Response) (requested, limit int) {
	t.Helper()
	raw, ok := res.Extensions["cost"].(map[string]any)
	require.True(t, ok, "every response reports extensions.cost: %s", res.Raw)
	r, ok1 := raw["requested"].(float64)
	l, ok2 := raw["limit"].(float64)
	require.True(t, ok1 && ok2, "extensions.cost is {requested, limit}: %s", res.Raw)
	return int(r), int(l)
}

// paso is one field of a chain of nested fields and the type it returns.
type paso struct{ campo, tipo string }

// cadena returns the object fields of a query nested exactly depth levels
// deep (root fields are level 1; the scalar at the end is level depth):
// clientes(first: 1) → edges → node → facturas(first: 1) → edges → node →
// cliente → facturas(first: 1) → …
func cadena(depth int) []paso {
	out := []paso{{"clientes(first: 1)", "ClienteConnection"}, {"edges", "ClienteEdge"}, {"node", "Cliente"}}
	ciclo := []paso{{"facturas(first: 1)", "FacturaConnection"}, {"edges", "FacturaEdge"}, {"node", "Factura"}, {"cliente", "Cliente"}}
	for i := 0; len(out) < depth-1; i++ {
		out = append(out, ciclo[i%len(ciclo)])
	}
	return out[:depth-1]
}

// anidar renders pasos nested around inner.
func anidar(pasos []paso, inner string) string {
	for i := len(pasos) - 1; i >= 0; i-- {
		inner = pasos[i].campo + " { " + inner + " }"
	}
	return inner
}

// hoja is a scalar field of typ.
func hoja(typ string) string {
	switch {
	case strings.HasSuffix(typ, "Connection"):
		return "totalCount"
	case strings.HasSuffix(typ, "Edge"):
		return "cursor"
	}
	return "id"
}

// profunda is a query whose deepest field nests exactly depth levels.
func profunda(depth int) string {
	p := cadena(depth)
	return "{ " + anidar(p, hoja(p[len(p)-1].tipo)) + " }"
}

// profundaEnFragmento is profunda(depth) with every level below level k
// moved into a fragment called name, spread at level k.
func profundaEnFragmento(depth, k int, name string) string {
	p := cadena(depth)
	frag := fmt.Sprintf("fragment %s on %s { %s }", name, p[k-1].tipo, anidar(p[k:], hoja(p[len(p)-1].tipo)))
	return "{ " + anidar(p[:k], "..."+name) + " }\n" + frag
}

// profundaConAlias is profunda(depth) with its root field aliased alias.
func profundaConAlias(depth int, alias string) string {
	q := profunda(depth)
	return strings.Replace(q, "{ clientes(", "{ "+alias+": clientes(", 1)
}

// datosProfundos lays out a cliente with a factura (in an operación), so
// the chains above resolve to real rows at every level.
func datosProfundos(t *testing.T, db *database.DB) {
	t.Helper()
	b := testkit.NewFixture(t, db.Client)
	c := b.Cliente()
	b.Operacion(c, []*ent.Factura{b.Factura(c)})
}

// profundidadRegex reads the depth the server measured from its refusal.
var profundidadRegex = regexp.MustCompile(`anida (\d+) niveles`)

func TestLimiteDeProfundidad(t *testing.T) {
	// The chain builder itself: the depth is counted as documented.
	require.Equal(t, "{ clientes(first: 1) { edges { node { id } } } }", profunda(4))

	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		datosProfundos(t, db)
		c := servir(t, db, nil)
		sinIntrospeccion := servir(t, db, func(cfg *config.Config) { cfg.Introspection = false })
		require.Equal(t, 12, gqlserver.DefaultLimits.MaxDepth)

		t.Run("12_pasa_13_se_rechaza", func(t *testing.T) {
			res := pasa(t, c, profunda(12), nil)
			assert.Contains(t, string(res.Data), `"cliente":{"id"`, "the chain resolves real rows: %s", res.Raw)
			costo(t, res)
			res = rechazada(t, db, c, profunda(13), nil, "DEPTH_LIMIT_EXCEEDED")
			assert.Regexp(t, `anida 13 niveles; el máximo es 12`, res.Errors[0].Message)
			costo(t, res)
		})
		t.Run("mas_alla_de_lo_que_el_parser_anida", func(t *testing.T) {
			// gqlparser stops at 1000 nested levels, before the depth
			// limit sees the query: the refusal keeps its code.
			q := strings.Repeat("{ a ", 1001) + strings.Repeat("} ", 1001)
			rechazada(t, db, c, q, nil, "DEPTH_LIMIT_EXCEEDED")
		})
		t.Run("limite_configurado", func(t *testing.T) {
			c5 := servir(t, db, func(cfg *config.Config) { cfg.MaxDepth = 5 })
			pasa(t, c5, profunda(5), nil)
			rechazada(t, db, c5, profunda(6), nil, "DEPTH_LIMIT_EXCEEDED")
		})
		t.Run("los_fragmentos_son_transparentes", func(t *testing.T) {
			pasa(t, c, profundaEnFragmento(12, 3, "Resto"), nil)
			rechazada(t, db, c, profundaEnFragmento(13, 3, "Resto"), nil, "DEPTH_LIMIT_EXCEEDED")
			p := cadena(13)
			inline := "{ " + anidar(p[:3], "... on Cliente { "+anidar(p[3:], hoja(p[len(p)-1].tipo))+" }") + " }"
			rechazada(t, db, c, inline, nil, "DEPTH_LIMIT_EXCEEDED")
		})
		// A limit that skipped anything called __schema would let a deep
		// query through under that name: introspection is told by the
		// field, never by a fragment's or an alias's name.
		t.Run("fragmento_llamado___schema", func(t *testing.T) {
			for name, srv := range map[string]*testkit.Client{"con_introspeccion": c, "sin_introspeccion": sinIntrospeccion} {
				t.Run(name, func(t *testing.T) {
					deep := profundaEnFragmento(13, 3, "__schema")
					res := testkit.RequireNoSQL(t, db, func() testkit.Response { return srv.Do(deep, nil) })
					require.Len(t, res.Errors, 1, res.Raw)
					if res.Errors[0].Extensions.Code == string(apperror.GraphQLValidationFailed) {
						// gqlparser refusing the reserved name would be as good.
						t.Logf("gqlparser refuses a fragment named __schema: %s", res.Errors[0].Message)
						return
					}
					testkit.RequireGQLError(t, res, "DEPTH_LIMIT_EXCEEDED")
					pasa(t, srv, profundaEnFragmento(12, 3, "__schema"), nil)
				})
			}
		})
		t.Run("alias___schema_en_un_campo_real", func(t *testing.T) {
			for name, srv := range map[string]*testkit.Client{"con_introspeccion": c, "sin_introspeccion": sinIntrospeccion} {
				t.Run(name, func(t *testing.T) {
					res := pasa(t, srv, profundaConAlias(12, "__schema"), nil)
					assert.Contains(t, string(res.Data), `"__schema":{"edges"`)
					rechazada(t, db, srv, profundaConAlias(13, "__schema"), nil, "DEPTH_LIMIT_EXCEEDED")
				})
			}
		})
	})
}

// anchoPorAncho is clientes(first: n) × facturas(first: m), cost n + n·m.
const anchoPorAncho = `query($n: Int, $m: Int) { clientes(first: $n) { edges { node { facturas(first: $m) { totalCount } } } } }`

func TestLimiteDeComplejidad(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		b := testkit.NewFixture(t, db.Client)
		b.Factura(b.Cliente())
		c := servir(t, db, func(cfg *config.Config) { cfg.MaxComplexity = 2550 })

		t.Run("al_limite_pasa_y_uno_mas_se_rechaza", func(t *testing.T) {
			// 50 clientes, 50 facturas each: 50 + 2500 = 2550.
			res := pasa(t, c, `{ clientes(first: 50) { edges { node { facturas(first: 50) { totalCount } } } } }`, nil)
			r, l := costo(t, res)
			assert.Equal(t, [2]int{2550, 2550}, [2]int{r, l})
			// One more node (node(id:) may return one): 2551.
			res = rechazada(t, db, c, `{ clientes(first: 50) { edges { node { facturas(first: 50) { totalCount } } } } node(id: "x") { id } }`, nil, "COMPLEXITY_LIMIT_EXCEEDED")
			r, l = costo(t, res)
			assert.Equal(t, [2]int{2551, 2550}, [2]int{r, l})
			assert.Contains(t, res.Errors[0].Message, "2551")
		})
		t.Run("las_variables_multiplican", func(t *testing.T) {
			res := pasa(t, c, anchoPorAncho, map[string]any{"n": 51, "m": 49}) // 51 + 2499
			r, _ := costo(t, res)
			assert.Equal(t, 2550, r)
			res = rechazada(t, db, c, anchoPorAncho, map[string]any{"n": 51, "m": 50}, "COMPLEXITY_LIMIT_EXCEEDED") // 51 + 2550
			r, _ = costo(t, res)
			assert.Equal(t, 2601, r)
		})
		t.Run("sin_first_cuenta_la_pagina_por_omision", func(t *testing.T) {
			res := pasa(t, c, `{ clientes { edges { node { facturas { totalCount } } } } }`, nil)
			r, _ := costo(t, res)
			assert.Equal(t, 2550, r)
			res = pasa(t, c, anchoPorAncho, map[string]any{"n": nil, "m": nil})
			r, _ = costo(t, res)
			assert.Equal(t, 2550, r)
			res = rechazada(t, db, c, `{ clientes { edges { node { facturas(last: 51) { totalCount } } } } }`, nil, "COMPLEXITY_LIMIT_EXCEEDED")
			r, _ = costo(t, res)
			assert.Equal(t, 2600, r)
		})
		t.Run("nodes_cuenta_sus_ids", func(t *testing.T) {
			ids := make([]any, 100)
			for i := range ids {
				ids[i] = gid.Encode(1)
			}
			res := c.Do(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": ids})
			r, _ := costo(t, res)
			assert.Equal(t, 100, r)
		})

		t.Run("un_conteo_cuesta_un_punto_cada_100_filas", func(t *testing.T) {
			for q, want := range map[string]int{
				`{ conteoFacturas { valor } }`:                                    10, // hasta 1000 by default
				`{ conteoFacturas(hasta: 1) { valor } }`:                          1,
				`{ conteoFacturas(hasta: 101) { valor } }`:                        2,
				`{ conteoClientes(hasta: 100000) { valor } }`:                     1000,
				`{ a: conteoOperaciones { valor } b: conteoDeudores { exacto } }`: 20,
			} {
				r, _ := costo(t, pasa(t, c, q, nil))
				assert.Equal(t, want, r, q)
			}
			res := pasa(t, c, `query($h: Int) { conteoFacturas(hasta: $h) { valor } }`, map[string]any{"h": 250})
			r, _ := costo(t, res)
			assert.Equal(t, 3, r, "hasta as a variable")
			// 2,500 + 50 = 2,550 passes; one count more (10) does not.
			const pagina = `clientes(first: 50) { edges { node { facturas(first: 50) { totalCount } } } } `
			pasa(t, c, `{ `+pagina+`}`, nil)
			res = rechazada(t, db, c, `{ `+pagina+`conteoFacturas { valor } }`, nil, "COMPLEXITY_LIMIT_EXCEEDED")
			r, _ = costo(t, res)
			assert.Equal(t, 2560, r)
			// A count's bound is checked before its cost: VALIDATION_ERROR, not a cost.
			res = testkit.RequireNoSQL(t, db, func() testkit.Response { return c.Do(`{ conteoFacturas(hasta: 2147483647) { valor } }`, nil) })
			testkit.RequireGQLError(t, res, "VALIDATION_ERROR", "hasta")
		})

		cd := servir(t, db, nil)
		t.Run("costo_de_una_consulta_simple", func(t *testing.T) {
			res := pasa(t, cd, `{ clientes(first: 3) { totalCount edges { node { id rut } } } }`, nil)
			r, l := costo(t, res)
			assert.Equal(t, [2]int{3, 150_000}, [2]int{r, l})
			res = pasa(t, cd, `{ __typename }`, nil)
			r, l = costo(t, res)
			assert.Equal(t, [2]int{0, 150_000}, [2]int{r, l})
		})
		t.Run("tres_niveles_con_paginas_por_omision_pasan", func(t *testing.T) {
			res := pasa(t, cd, `{ clientes { edges { node { facturas { edges { node { operaciones { edges { node { id } } } } } } } } } }`, nil)
			r, _ := costo(t, res)
			assert.Equal(t, 127_550, r) // 50 + 50·50 + 50·50·50, as the README says
		})
		t.Run("100x100x100_se_rechaza_con_los_limites_por_omision", func(t *testing.T) {
			q := `{ clientes(first: 100) { edges { node { facturas(first: 100) { edges { node {
				operaciones(first: 100) { edges { node { id } } } } } } } } } }`
			res := rechazada(t, db, cd, q, nil, "COMPLEXITY_LIMIT_EXCEEDED")
			r, l := costo(t, res)
			assert.Equal(t, [2]int{1_010_100, 150_000}, [2]int{r, l})
			t.Logf("100×100×100: cost %d, limit %d", r, l)
		})
	})
}

func TestLimiteDeAlias(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		testkit.NewFixture(t, db.Client).Cliente()
		c := servir(t, db, nil)
		aliases := func(n int, first string) string {
			var b strings.Builder
			b.WriteString("{ ")
			if first != "" {
				fmt.Fprintf(&b, "%s: clientes(first: 1) { totalCount } ", first)
				n--
			}
			for i := range n {
				fmt.Fprintf(&b, "a%d: clientes(first: 1) { totalCount } ", i)
			}
			b.WriteString("}")
			return b.String()
		}
		require.Equal(t, 30, gqlserver.DefaultLimits.MaxAliases)
		res := pasa(t, c, aliases(30, ""), nil)
		assert.Contains(t, string(res.Data), `"a29":{"totalCount":1}`)
		res = rechazada(t, db, c, aliases(31, ""), nil, "ALIAS_LIMIT_EXCEEDED")
		assert.Contains(t, res.Errors[0].Message, "31")
		costo(t, res)

		t.Run("alias___schema_cuenta", func(t *testing.T) {
			pasa(t, c, aliases(30, "__schema"), nil)
			rechazada(t, db, c, aliases(31, "__schema"), nil, "ALIAS_LIMIT_EXCEEDED")
		})
		t.Run("alias_igual_al_nombre_no_cuenta", func(t *testing.T) {
			pasa(t, c, strings.Replace(aliases(31, ""), "a0: clientes", "clientes: clientes", 1), nil)
		})
		t.Run("alias_en_fragmentos_cuentan", func(t *testing.T) {
			q := "{ ...F }\nfragment F on Query " + aliases(31, "")
			rechazada(t, db, c, q, nil, "ALIAS_LIMIT_EXCEEDED")
		})
	})
}

// tokens counts q's lexer tokens the way gqlparser's parser does.
func tokens(t *testing.T, q string) int {
	t.Helper()
	lx := lexer.New(&ast.Source{Input: q})
	n := 0
	for {
		tok, err := lx.ReadToken()
		require.Nil(t, err)
		if tok.Kind == lexer.EOF {
			return n
		}
		n++
	}
}

// conTokens is a valid query of exactly n tokens: a clientes connection
// filtered by a variable whose default, a list of ids long enough to reach
// n, is declared in the document and not used (tokensVars sends the
// variable). A list in the filter itself may not be that long
// (MaxListLength). Repeating one field instead would also reach n, but
// gqlparser compares every pair of same-named fields: 5000 tokens of
// __typename cost it about 2 s of CPU.
func conTokens(t *testing.T, n int) string {
	t.Helper()
	// 32 tokens around the list: query ( $ ids : [ ID ! ] = [ ] ) { clientes ( first : 1 where : { idIn : $ ids } ) { totalCount } }
	q := `query($ids: [ID!] = [` + strings.Repeat(strconv.Quote(gid.Encode(1))+", ", n-32) + `]) { clientes(first: 1, where: { idIn: $ids }) { totalCount } }`
	require.Equal(t, n, tokens(t, q))
	// The parser agrees with the count: n tokens are fine under a limit of
	// n and too many under n - 1.
	_, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: q}, n)
	require.Nil(t, err)
	_, err = parser.ParseQueryWithTokenLimit(&ast.Source{Input: q}, n-1)
	require.NotNil(t, err)
	return q
}

// tokensVars are the variables of conTokens' queries.
var tokensVars = map[string]any{"ids": []any{gid.Encode(1)}}

func TestLimiteDeTokens(t *testing.T) {
	db := testkit.SQLite(t)
	testkit.NewFixture(t, db.Client).Cliente()
	t.Run("configurado_100", func(t *testing.T) {
		c := servir(t, db, func(cfg *config.Config) { cfg.MaxTokens = 100 })
		res := pasa(t, c, conTokens(t, 100), tokensVars)
		assert.JSONEq(t, `{"clientes":{"totalCount":1}}`, string(res.Data))
		res = rechazada(t, db, c, conTokens(t, 101), tokensVars, "TOKEN_LIMIT_EXCEEDED")
		assert.Contains(t, res.Errors[0].Message, "100")
	})
	t.Run("por_omision_5000", func(t *testing.T) {
		require.Equal(t, 5000, gqlserver.DefaultLimits.MaxTokens)
		c := servir(t, db, nil)
		pasa(t, c, conTokens(t, 5000), tokensVars)
		rechazada(t, db, c, conTokens(t, 5001), tokensVars, "TOKEN_LIMIT_EXCEEDED")
	})
}

func TestNodesAdmiteCienIDs(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		b := testkit.NewFixture(t, db.Client)
		ids := make([]any, 101)
		for i := range ids {
			ids[i] = gid.Encode(b.Cliente().ID)
		}
		c := servir(t, db, nil)
		q := `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`
		out := testkit.Data[struct{ Nodes []testkit.Node }](t, c, q, map[string]any{"ids": ids[:100]})
		assert.Len(t, out.Nodes, 100)
		res := testkit.RequireNoSQL(t, db, func() testkit.Response { return c.Do(q, map[string]any{"ids": ids}) })
		testkit.RequireGQLError(t, res, "VALIDATION_ERROR", "ids")
		testkit.RequireNullData(t, res)
		// The same with the ids written in the query.
		lit := make([]string, 101)
		for i, id := range ids {
			lit[i] = strconv.Quote(id.(string))
		}
		res = testkit.RequireNoSQL(t, db, func() testkit.Response {
			return c.Do(`{ nodes(ids: [`+strings.Join(lit, ", ")+`]) { id } }`, nil)
		})
		testkit.RequireGQLError(t, res, "VALIDATION_ERROR", "ids")
	})
}

func TestCuerpoDeUnMiB(t *testing.T) {
	db := testkit.SQLite(t)
	c := servir(t, db, nil)
	// A valid request padded with blanks inside the query (blanks are no
	// tokens) to exactly size bytes.
	cuerpo := func(size int) []byte {
		head, tail := `{"query":"{ clientes(first: 1) { totalCount } }`, `"}`
		b := []byte(head + strings.Repeat(" ", size-len(head)-len(tail)) + tail)
		require.Len(t, b, size)
		return b
	}
	const mib = 1 << 20
	res := c.Post("application/json", bytes.NewReader(cuerpo(mib)), nil)
	require.Equal(t, http.StatusOK, res.Status, "%.300s", res.Raw)
	require.Empty(t, res.Errors)

	res = testkit.RequireNoSQL(t, db, func() testkit.Response { return c.Post("application/json", bytes.NewReader(cuerpo(mib+1)), nil) })
	require.Equal(t, http.StatusRequestEntityTooLarge, res.Status, "%.300s", res.Raw)
	testkit.RequireGQLError(t, res, "PAYLOAD_TOO_LARGE")

	t.Run("sin_content_length", func(t *testing.T) {
		// A chunked body declares no length: it is cut at the limit.
		req, err := http.NewRequest(http.MethodPost, c.URL()+"/graphql", struct{ *bytes.Reader }{bytes.NewReader(cuerpo(mib + 1))})
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		require.Zero(t, req.ContentLength, "sent chunked")
		res := testkit.RequireNoSQL(t, db, func() testkit.Response { return c.Send(req) })
		require.Equal(t, http.StatusRequestEntityTooLarge, res.Status, "%.300s", res.Raw)
		testkit.RequireGQLError(t, res, "PAYLOAD_TOO_LARGE")
	})
}

func TestSinLotes(t *testing.T) {
	db := testkit.SQLite(t)
	testkit.NewFixture(t, db.Client).Cliente()
	c := servir(t, db, nil)
	for name, body := range map[string]string{
		"dos_operaciones": `[{"query":"{ clientes { totalCount } }"},{"query":"mutation { activarCliente(id: \"x\") { id } }"}]`,
		"una_operacion":   `[{"query":"{ clientes { totalCount } }"}]`,
		"con_blancos":     " \n\t[{\"query\":\"{ clientes { totalCount } }\"}]",
	} {
		t.Run(name, func(t *testing.T) {
			res := testkit.RequireNoSQL(t, db, func() testkit.Response { return c.Post("application/json", strings.NewReader(body), nil) })
			require.Equal(t, http.StatusBadRequest, res.Status, res.Raw)
			testkit.RequireGQLError(t, res, "BATCHING_NOT_SUPPORTED")
			testkit.RequireNullData(t, res)
		})
	}
}

func TestIntrospeccionDeshabilitada(t *testing.T) {
	db := testkit.SQLite(t)
	testkit.NewFixture(t, db.Client).Cliente()
	off := servir(t, db, func(cfg *config.Config) { cfg.Introspection = false })
	on := servir(t, db, nil)

	t.Run("__schema_y___type_se_rechazan", func(t *testing.T) {
		for name, q := range map[string]string{
			"__schema":                 `{ __schema { queryType { name } } }`,
			"__type":                   `{ __type(name: "Cliente") { name fields { name } } }`,
			"junto_a_datos":            `{ clientes { totalCount } __schema { types { name } } }`,
			"en_un_fragmento":          "{ ...F }\nfragment F on Query { __type(name: \"Cliente\") { name } }",
			"en_un_fragmento_en_linea": `{ ... on Query { __schema { queryType { name } } } }`,
			"con_alias":                `{ esquema: __schema { queryType { name } } }`,
		} {
			t.Run(name, func(t *testing.T) {
				res := rechazada(t, db, off, q, nil, "INTROSPECTION_DISABLED")
				costo(t, res)
			})
		}
	})
	t.Run("__typename_sirve", func(t *testing.T) {
		res := pasa(t, off, `{ __typename clientes { __typename totalCount } }`, nil)
		assert.JSONEq(t, `{"__typename":"Query","clientes":{"__typename":"ClienteConnection","totalCount":1}}`, string(res.Data))
	})
	t.Run("con_introspeccion_el_playground_la_tiene", func(t *testing.T) {
		res := pasa(t, on, `{ __schema { queryType { name } } __type(name: "Cliente") { name } }`, nil)
		assert.JSONEq(t, `{"__schema":{"queryType":{"name":"Query"}},"__type":{"name":"Cliente"}}`, string(res.Data))
	})
	t.Run("schema.graphql_no_existe", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodGet, off.URL()+"/schema.graphql", nil)
		require.NoError(t, err)
		res := off.Send(req)
		assert.Equal(t, http.StatusNotFound, res.Status)
		assert.NotContains(t, res.Raw, "type Cliente")
		req, err = http.NewRequest(http.MethodGet, on.URL()+"/schema.graphql", nil)
		require.NoError(t, err)
		res = on.Send(req)
		assert.Equal(t, http.StatusOK, res.Status)
		assert.Contains(t, res.Raw, "type Cliente")
	})
	// With introspection off the schema is not for guessing either: no
	// error suggests a name, whatever was misspelled.
	t.Run("sin_sugerencias", func(t *testing.T) {
		cases := []struct {
			name, query string
			// sugiere: with introspection on, gqlparser suggests a name
			// for this mistake (proof that the case exercises a suggestion).
			sugiere bool
		}{
			{"campo", `{ clientes { totalCont } }`, true},
			{"campo_raiz", `{ clientez { totalCount } }`, true},
			{"argumento", `{ clientes(frist: 1) { totalCount } }`, true},
			{"valor_de_enum", `{ clientes(where: { estado: ACTIV }) { totalCount } }`, true},
			{"valor_de_enum_en_orden", `{ clientes(orderBy: { field: CREADO, direction: DESC }) { totalCount } }`, true},
			{"campo_de_input", `{ clientes(where: { estad: ACTIVO }) { totalCount } }`, true},
			{"tipo_de_fragmento", "{ clientes { edges { node { ...F } } } }\nfragment F on Clientes { id }", true},
			{"argumento_de_mutacion", `mutation { activarCliente(idd: "x") { id } }`, true},
			{"tipo_de_variable", `query($w: ClientWhereInput) { clientes(where: $w) { totalCount } }`, false},
			{"hoja_sin_subcampos", `{ clientes }`, false},
			{"valor_de_enum_en_variable", `query($w: ClienteWhereInput) { clientes(where: $w) { totalCount } }`, false},
		}
		// A mistake in the document is GRAPHQL_VALIDATION_FAILED; one in a
		// variable's value, VALIDATION_ERROR.
		code := func(name string) apperror.Code {
			if name == "valor_de_enum_en_variable" {
				return apperror.Validation
			}
			return apperror.GraphQLValidationFailed
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				var vars map[string]any
				if strings.Contains(tc.query, "$w: ClienteWhereInput") {
					vars = map[string]any{"w": map[string]any{"estado": "ACTIV"}}
				}
				res := testkit.RequireNoSQL(t, db, func() testkit.Response { return off.Do(tc.query, vars) })
				require.NotEmpty(t, res.Errors, res.Raw)
				for _, e := range res.Errors {
					assert.Equal(t, string(code(tc.name)), e.Extensions.Code, res.Raw)
					assert.NotContains(t, strings.ToLower(e.Message), "did you mean", res.Raw)
					assert.NotContains(t, strings.ToLower(e.Message), "quiso", res.Raw)
				}
				testkit.RequireNoLeaks(t, res)
				if tc.sugiere {
					resOn := on.Do(tc.query, vars)
					require.NotEmpty(t, resOn.Errors, resOn.Raw)
					assert.Contains(t, resOn.Raw, "¿Quiso", "the query should draw a suggestion with introspection on")
				}
			})
		}
	})
}

// TestFragmentosRepetidosNoExplotan: a fragment spread twice, each level
// spreading the next twice, is 2^n fields for a naive walk; the limits must
// measure it in time linear in the document, or a 2 KB query would hold a
// CPU for hours before anything is refused.
func TestFragmentosRepetidosNoExplotan(t *testing.T) {
	db := testkit.SQLite(t)
	cliente := testkit.NewFixture(t, db.Client).Cliente()
	c := servir(t, db, nil)
	doc := func(n int, last string) string {
		var b strings.Builder
		b.WriteString("{ clientes(first: 1) { edges { node { ...F0 } } } }\n")
		for i := range n {
			fmt.Fprintf(&b, "fragment F%d on Cliente { ... on Cliente { ...F%d } ... on Cliente { ...F%d } }\n", i, i+1, i+1)
		}
		fmt.Fprintf(&b, "fragment F%d on Cliente { %s }\n", n, last)
		return b.String()
	}
	run := func(q string) testkit.Response {
		done := make(chan testkit.Response, 1)
		go func() { done <- c.Do(q, nil) }()
		select {
		case res := <-done:
			return res
		case <-time.After(10 * time.Second):
			t.Fatalf("the server has not answered a %d-byte query in 10 s", len(q))
		}
		return testkit.Response{}
	}
	t.Run("sin_costo", func(t *testing.T) {
		start := time.Now()
		res := run(doc(60, "id rut"))
		require.Empty(t, res.Errors, res.Raw)
		assert.JSONEq(t, `{"clientes":{"edges":[{"node":{"id":"`+gid.Encode(1)+`","rut":"`+cliente.Rut+`"}}]}}`, string(res.Data))
		assert.Less(t, time.Since(start), 2*time.Second)
	})
	t.Run("con_costo", func(t *testing.T) {
		// Each of the 2^60 copies asks for up to 100 facturas: the server
		// answers at once, with a cost that saturates instead of
		// overflowing into something small.
		start := time.Now()
		res := run(doc(60, "facturas(first: 100) { totalCount }"))
		assert.Less(t, time.Since(start), 2*time.Second)
		// A query charged for each copy: far over the limit, refused.
		testkit.RequireGQLError(t, res, "COMPLEXITY_LIMIT_EXCEEDED")
		r, _ := costo(t, res)
		assert.Greater(t, r, 150_000)
	})
	t.Run("con_alias", func(t *testing.T) {
		start := time.Now()
		res := run(doc(60, "a: __typename"))
		assert.Less(t, time.Since(start), 2*time.Second)
		testkit.RequireGQLError(t, res, "ALIAS_LIMIT_EXCEEDED") // 2^60 copies of the alias
	})
}

// README's GraphQL blocks, verbatim (README.md, "Querying" and "The cesión lifecycle").
const (
	readmeCartera = `query Cartera {
  clientes(first: 20, where: { estado: ACTIVO }) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      node {
        id rut razonSocial lineaCredito lineaDisponible lineaUtilizada estado
        facturas(first: 10, where: { estado: DISPONIBLE }) {
          totalCount
          edges {
            node {
              id numeroFactura rutDeudor montoTotal fechaVencimiento estado
              operaciones(first: 5) {
                edges { node { id estado montoTotalFacturas montoADesembolsar fechaSolicitud } }
              }
            }
          }
        }
      }
    }
  }
}`
	readmeOperacion = `query Operacion($id: ID!) {
  operacion(id: $id) {
    id estado fechaSolicitud fechaAprobacion
    montoTotalFacturas tasaDescuento diasDescuento montoDescuento montoADesembolsar
    cliente { rut razonSocial lineaDisponible }
    facturas { edges { node { numeroFactura montoTotal estado } } }
    eventos { edges { node { tipo fecha estadoAnterior estadoNuevo requestId actor detalle } } }
  }
}`
	readmeFiltros = `{
  # clientes by state, a credit-line range, and a text search on razón social or RUT
  clientes(where: {
    estado: ACTIVO, lineaCreditoGTE: "1000000", lineaCreditoLTE: "20000000",
    or: [{ razonSocialContainsFold: "alpha" }, { rutContains: "345" }]
  }) { edges { node { rut razonSocial } } }

  # facturas of a cliente, by state, debtor and issue date (fechaEmisionLTE bounds it above)
  facturas(where: {
    hasClienteWith: { rut: "12.345.678-5" }, estado: DISPONIBLE,
    rutDeudor: "76.543.210-3", fechaEmisionGTE: "2026-01-01"
  }) { totalCount edges { node { numeroFactura montoTotal } } }

  # operaciones of a cliente, by state and request date (fechaSolicitudLTE bounds it above)
  operaciones(where: {
    hasClienteWith: { rut: "12.345.678-5" }, estado: APROBADA,
    fechaSolicitudGTE: "2026-01-01T00:00:00Z"
  }, orderBy: { field: MONTO_TOTAL_FACTURAS, direction: DESC }) {
    edges { node { id montoTotalFacturas } }
  }

  clientePorRut(rut: "12345678-5") { id razonSocial }   # any spelling of the RUT
}`
	readmeConteos = `query Conteos {
  # every factura: "más de 1000" once there are more (the whole table, read 1001 rows at most)
  todas: conteoFacturas { valor exacto }

  # a cliente's facturas still to cede: "más de 5" beyond five
  porCeder: conteoFacturas(where: {
    hasClienteWith: { rut: "12.345.678-5" }, estado: DISPONIBLE
  }, hasta: 5) { valor exacto }

  # the operaciones awaiting approval, exact up to 1000 (the default hasta)
  pendientes: conteoOperaciones(where: { estado: PENDIENTE }) { valor exacto }
}`
	readmeEjemploCesion = `query EjemploCesion {
  clientePorRut(rut: "76.086.428-5") {
    id razonSocial estado lineaDisponible
    facturas(where: { numeroFactura: "A-1001" }) {
      edges { node { id montoTotal fechaVencimiento estado } }
    }
  }
}`
	readmeCrearOperacion = `mutation CrearOperacion($c: ID!, $f: ID!) {
  crearOperacion(input: { clienteId: $c, facturaIds: [$f] }) {
    id estado diasDescuento montoDescuento montoADesembolsar
  }
}`
	readmeAprobar     = `mutation Aprobar($o: ID!) { aprobarOperacion(id: $o) { estado cliente { lineaDisponible lineaUtilizada } } }`
	readmeDesembolsar = `mutation Desembolsar($o: ID!) { desembolsarOperacion(id: $o) { estado fechaDesembolso } }`
	readmePagar       = `mutation Pagar($f: ID!) { pagarFactura(id: $f) { numeroFactura estado } }`
	readmeFinalizar   = `mutation Finalizar($o: ID!) { finalizarOperacion(id: $o) {
  estado cliente { lineaDisponible }
  eventos { edges { node { tipo estadoAnterior estadoNuevo requestId actor detalle } } } } }`
	readmeRechazar = `mutation Rechazar($o: ID!) { rechazarOperacion(id: $o, motivo: "Deudor con mora") {
  estado facturas { edges { node { numeroFactura estado } } } } }`
	readmeCrearCliente = `mutation { crearCliente(input: { rut: "78.222.333-K", razonSocial: "Comercial Oriente SpA",
  email: "finanzas@oriente.cl", lineaCredito: "1000000" }) { id estado lineaDisponible } }`
	readmeActivar   = `mutation Activar($c: ID!) { activarCliente(id: $c) { razonSocial estado } }`
	readmeRegistrar = `mutation Registrar($c: ID!) { registrarFactura(input: { clienteId: $c, numeroFactura: "N-0001",
  rutDeudor: "76.543.210-3", razonSocialDeudor: "Deudor Uno SpA", montoTotal: "450000.00",
  fechaEmision: "2026-11-20", fechaVencimiento: "2027-02-18" }) { id numeroFactura estado } }`
	readmeRiesgo = `query Riesgo {
  deudorPorRut(rut: "76.543.210-3") {
    id razonSocial estado lineaExposicion exposicion
    facturas(first: 10, where: { estadoIn: [CEDIDA, VENCIDA, EN_PROCESO] }) {
      edges { node { numeroFactura montoTotal estado cliente { razonSocial concentracionMaxima } } }
    }
  }
  deudores(first: 10, orderBy: { field: RAZON_SOCIAL, direction: ASC }) {
    totalCount edges { node { rut razonSocial estado lineaExposicion exposicion } } }
}`
	readmeFijarLinea = `mutation FijarLinea($d: ID!) { fijarLineaExposicion(id: $d, lineaExposicion: "2500000") {
  razonSocial lineaExposicion exposicion } }`
	readmeAcuse = `mutation Acuse($f: ID!) { registrarAcuseFactura(id: $f, estado: ACEPTADA) {
  numeroFactura fechaRecepcion estadoAcuse } }`
	readmeCurl = `{ clientes(first: 5) { totalCount } }`
)

// The ids the README's variables name: those of a freshly seeded demo.
const (
	readmeIDSur        = "Q2xpZW50ZTo1"
	readmeIDNorte      = "Q2xpZW50ZTo2"
	readmeIDA1001      = "RmFjdHVyYToxMQ"
	readmeIDFinalizada = "T3BlcmFjaW9uOjE"
	readmeIDPendiente  = "T3BlcmFjaW9uOjU"
	readmeIDNueva      = "T3BlcmFjaW9uOjY"
	readmeIDDeudorUno  = "RGV1ZG9yOjI"
	readmeIDF1105      = "RmFjdHVyYToxMg"
)

// readmeBlocks are the copies above, which must stay verbatim in README.md.
var readmeBlocks = []string{readmeCartera, readmeOperacion, readmeFiltros, readmeConteos, readmeEjemploCesion, readmeCrearOperacion,
	readmeAprobar, readmeDesembolsar, readmePagar, readmeFinalizar, readmeRechazar, readmeCrearCliente, readmeActivar,
	readmeRegistrar, readmeRiesgo, readmeFijarLinea, readmeAcuse, readmeCurl}

// TestLimitesConsultasDelREADME runs every GraphQL block of the README
// under the default limits, over the demo data the README's examples are
// written for: all pass. It measures each one's depth (as the server
// counts it, read from its refusal under a limit of 1) and cost
// (extensions.cost), and pins them, so a change of limits or README that
// would refuse a documented query fails here.
func TestLimitesConsultasDelREADME(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		c := servir(t, db, nil)
		estricto := servir(t, db, func(cfg *config.Config) { cfg.MaxDepth = 1 })

		// The demo data, loaded on the server's business date.
		_, err := seed.Run(t.Context(), db, seed.Options{Clock: clock.NewFixed(testkit.Hoy), TimeZone: testkit.Santiago})
		require.NoError(t, err)

		readme, err := os.ReadFile("../../README.md")
		require.NoError(t, err)
		for _, b := range readmeBlocks {
			require.Contains(t, string(readme), b, "README.md changed: copy its GraphQL blocks here again")
		}

		type medida struct{ depth, cost int }
		got := map[string]medida{}
		run := func(name, q string, vars map[string]any) json.RawMessage {
			t.Helper()
			// Refused under a depth limit of 1, before anything runs: the
			// message tells the depth the server measured.
			res := rechazada(t, db, estricto, q, vars, "DEPTH_LIMIT_EXCEEDED")
			m := profundidadRegex.FindStringSubmatch(res.Errors[0].Message)
			require.Len(t, m, 2, res.Raw)
			depth, _ := strconv.Atoi(m[1])
			res = pasa(t, c, q, vars)
			cost, limit := costo(t, res)
			assert.Equal(t, gqlserver.DefaultLimits.MaxComplexity, limit)
			assert.LessOrEqual(t, depth, gqlserver.DefaultLimits.MaxDepth)
			got[name] = medida{depth, cost}
			n := tokens(t, q)
			assert.Less(t, n, gqlserver.DefaultLimits.MaxTokens)
			t.Logf("%-16s depth %2d  cost %5d  tokens %3d", name, depth, cost, n)
			return res.Data
		}
		id := func(raw json.RawMessage, field string) string {
			var m map[string]struct{ ID string }
			require.NoError(t, json.Unmarshal(raw, &m))
			require.NotEmpty(t, m[field].ID)
			return m[field].ID
		}

		run("Cartera", readmeCartera, nil)
		run("Operacion", readmeOperacion, map[string]any{"id": readmeIDFinalizada})
		run("filtros", readmeFiltros, nil)
		run("Conteos", readmeConteos, nil)
		run("EjemploCesion", readmeEjemploCesion, nil)
		o := id(run("crearOperacion", readmeCrearOperacion, map[string]any{"c": readmeIDSur, "f": readmeIDA1001}), "crearOperacion")
		require.Equal(t, readmeIDNueva, o)
		run("aprobarOperacion", readmeAprobar, map[string]any{"o": o})
		run("desembolsar", readmeDesembolsar, map[string]any{"o": o})
		run("pagarFactura", readmePagar, map[string]any{"f": readmeIDA1001})
		run("finalizar", readmeFinalizar, map[string]any{"o": o})
		run("rechazar", readmeRechazar, map[string]any{"o": readmeIDPendiente})
		id(run("crearCliente", readmeCrearCliente, nil), "crearCliente")
		run("activarCliente", readmeActivar, map[string]any{"c": readmeIDNorte})
		run("registrarFactura", readmeRegistrar, map[string]any{"c": readmeIDNorte})
		run("Riesgo", readmeRiesgo, nil)
		run("FijarLinea", readmeFijarLinea, map[string]any{"d": readmeIDDeudorUno})
		run("Acuse", readmeAcuse, map[string]any{"f": readmeIDF1105})
		run("curl", readmeCurl, nil)

		assert.Equal(t, map[string]medida{
			"EjemploCesion":    {5, 51},
			"crearCliente":     {2, 1},
			"activarCliente":   {2, 1},
			"registrarFactura": {2, 1},
			"Riesgo":           {6, 31},
			"FijarLinea":       {2, 1},
			"Acuse":            {2, 1},
			"crearOperacion":   {2, 1},
			"aprobarOperacion": {3, 2},
			"desembolsar":      {2, 1},
			"pagarFactura":     {2, 1},
			"finalizar":        {5, 52},
			"Operacion":        {5, 102},
			"Cartera":          {10, 1220},
			"filtros":          {4, 151},
			"Conteos":          {2, 21},
			"rechazar":         {5, 51},
			"curl":             {2, 5},
		}, got)
	})
}
