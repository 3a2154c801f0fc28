package gqlserver_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/httpserver"
	"github.com/banpro/factoring/internal/testkit"
)

func TestTransporte(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		fx := testkit.NewFixture(t, db.Client)
		fx.Cliente()
		fx.Cliente()
		c, _ := testkit.Serve(t, db, testkit.ServeOptions{})
		const totalCount = `{"clientes":{"totalCount":2}}`
		accept := func(v string) http.Header { return http.Header{"Accept": {v}} }

		t.Run("get_con_query", func(t *testing.T) {
			res := c.Get(url.Values{"query": {"{ clientes { totalCount } }"}}, nil)
			assert.Equal(t, http.StatusOK, res.Status, res.Raw)
			assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
			assert.JSONEq(t, totalCount, string(res.Data))
		})
		t.Run("get_con_variables_y_nombre_de_operacion", func(t *testing.T) {
			res := c.Get(url.Values{
				"query":         {"query A { x: clientes { totalCount } } query B($n: Int) { clientes(first: $n) { edges { node { id } } } }"},
				"operationName": {"B"},
				"variables":     {`{"n": 1}`},
			}, nil)
			assert.Equal(t, http.StatusOK, res.Status, res.Raw)
			var got struct{ Clientes struct{ Edges []any } }
			require.NoError(t, json.Unmarshal(res.Data, &got))
			assert.Len(t, got.Clientes.Edges, 1)
		})
		t.Run("get_con_variables_que_no_son_json", func(t *testing.T) {
			res := c.Get(url.Values{"query": {"{ clientes { totalCount } }"}, "variables": {"{nope"}}, nil)
			assert.Equal(t, http.StatusBadRequest, res.Status, res.Raw)
			testkit.RequireGQLError(t, res, "VALIDATION_ERROR", "variables")
		})
		t.Run("negociacion_graphql_response_json", func(t *testing.T) {
			for _, a := range []string{"application/graphql-response+json", "application/graphql-response+json, application/json;q=0.9"} {
				res := c.Post("application/json", strings.NewReader(`{"query":"{ clientes { totalCount } }"}`), accept(a))
				assert.Equal(t, http.StatusOK, res.Status)
				assert.Equal(t, "application/graphql-response+json", res.Header.Get("Content-Type"), "Accept: %s", a)
				assert.JSONEq(t, totalCount, string(res.Data))
				res = c.Get(url.Values{"query": {"{ clientes { totalCount } }"}}, accept(a))
				assert.Equal(t, "application/graphql-response+json", res.Header.Get("Content-Type"), "GET, Accept: %s", a)
			}
		})
		t.Run("negociacion_por_omision_application_json", func(t *testing.T) {
			for _, a := range []string{"", "application/json", "*/*", "text/html, */*"} {
				res := c.Post("application/json", strings.NewReader(`{"query":"{ clientes { totalCount } }"}`), accept(a))
				assert.Equal(t, "application/json", res.Header.Get("Content-Type"), "Accept: %q", a)
				assert.JSONEq(t, totalCount, string(res.Data))
			}
		})
		t.Run("content_type_json_con_charset", func(t *testing.T) {
			res := c.Post("application/json; charset=utf-8", strings.NewReader(`{"query":"{ clientes { totalCount } }"}`), nil)
			assert.Equal(t, http.StatusOK, res.Status, res.Raw)
			assert.JSONEq(t, totalCount, string(res.Data))
		})

		t.Run("mutacion_por_get_rechazada", func(t *testing.T) {
			res := c.Get(url.Values{"query": {`mutation { crearCliente(input: {rut: "11.111.111-1", razonSocial: "X", email: "x@x.cl", lineaCredito: "1"}) { id } }`}}, nil)
			assert.Equal(t, http.StatusMethodNotAllowed, res.Status, res.Raw)
			assert.Equal(t, "POST", res.Header.Get("Allow"))
			testkit.RequireGQLError(t, res, "VALIDATION_ERROR")
			n, err := db.Client.Cliente.Query().Count(t.Context())
			require.NoError(t, err)
			assert.Equal(t, 2, n, "the mutation did not run")
		})
		t.Run("post_text_plain_415", func(t *testing.T) {
			res := c.Post("text/plain", strings.NewReader(`{"query":"{ clientes { totalCount } }"}`), nil)
			assert.Equal(t, http.StatusUnsupportedMediaType, res.Status, res.Raw)
			testkit.RequireGQLError(t, res, "VALIDATION_ERROR")
		})
		t.Run("post_sin_content_type_415", func(t *testing.T) {
			res := c.Post("", strings.NewReader(`{"query":"{ clientes { totalCount } }"}`), nil)
			assert.Equal(t, http.StatusUnsupportedMediaType, res.Status, res.Raw)
			testkit.RequireGQLError(t, res, "VALIDATION_ERROR")
		})
		for _, m := range []string{http.MethodPut, http.MethodDelete, http.MethodPatch} {
			t.Run("metodo_"+m+"_405", func(t *testing.T) {
				req, err := http.NewRequest(m, c.URL()+"/graphql", strings.NewReader(`{"query":"{ clientes { totalCount } }"}`))
				require.NoError(t, err)
				req.Header.Set("Content-Type", "application/json")
				res := c.Send(req)
				assert.Equal(t, http.StatusMethodNotAllowed, res.Status, res.Raw)
				assert.Contains(t, res.Header.Get("Allow"), "POST")
				assert.Contains(t, res.Header.Get("Allow"), "GET")
				testkit.RequireGQLError(t, res, "VALIDATION_ERROR")
			})
		}

		t.Run("json_malformado_sin_eco_del_cuerpo", func(t *testing.T) {
			const secret = "sk_live_SECRETO_9f8e7d"
			for _, body := range []string{
				`{"query": "{ clientes { totalCount } }", "token": "` + secret + `"`,
				`{"query": "` + secret,
				secret,
				`{"query": {"` + secret + `": 1}}`,
				`{"query": "{ clientes { totalCount } }"} {"` + secret + `": 1}`,
				`{"query": "{ clientes { totalCount } }", "x": "` + secret + `"}}`,
				`{"query": "{ clientes { totalCount } }", "x": "` + secret + `"}]`,
			} {
				res := c.Post("application/json", strings.NewReader(body), nil)
				assert.GreaterOrEqual(t, res.Status, 400, res.Raw)
				assert.Less(t, res.Status, 500, res.Raw)
				testkit.RequireGQLError(t, res, "VALIDATION_ERROR")
				assert.NotContains(t, res.Raw, secret, "a malformed body is never echoed")
				assert.NotContains(t, res.Raw, "json:", "no decoder internals")
			}
		})
		t.Run("lote_json_rechazado", func(t *testing.T) {
			res := c.Post("application/json", strings.NewReader(`[{"query":"{ clientes { totalCount } }"},{"query":"{ clientes { totalCount } }"}]`), nil)
			assert.GreaterOrEqual(t, res.Status, 400, res.Raw)
			assert.Less(t, res.Status, 500, res.Raw)
			testkit.RequireGQLError(t, res, "BATCHING_NOT_SUPPORTED")
			if len(res.Data) > 0 {
				assert.JSONEq(t, "null", string(res.Data), "nothing ran")
			}
		})
		t.Run("cuerpo_de_1_mib_mas_un_byte_413", func(t *testing.T) {
			res := c.Post("application/json", bytes.NewReader(testkit.PaddedBody(t, httpserver.MaxBodyBytes+1)), nil)
			assert.Equal(t, http.StatusRequestEntityTooLarge, res.Status, res.Raw)
			testkit.RequireGQLError(t, res, "PAYLOAD_TOO_LARGE")
		})
		t.Run("cuerpo_de_exactamente_1_mib_pasa", func(t *testing.T) {
			res := c.Post("application/json", bytes.NewReader(testkit.PaddedBody(t, httpserver.MaxBodyBytes)), nil)
			assert.Equal(t, http.StatusOK, res.Status, res.Raw)
			assert.Empty(t, res.Errors)
			assert.JSONEq(t, totalCount, string(res.Data))
		})
		t.Run("error_de_sintaxis_graphql", func(t *testing.T) {
			res := c.Post("application/json", strings.NewReader(`{"query":"{ clientes { totalCount "}`), nil)
			e := testkit.RequireGQLError(t, res, "GRAPHQL_PARSE_FAILED")
			assert.Equal(t, "Consulta GraphQL inválida: Se esperaba Name y se encontró el fin del documento.", e.Message)
			assert.Equal(t, http.StatusUnprocessableEntity, res.Status, res.Raw)
			res = c.Post("application/json", strings.NewReader(`{"query":"{ clientes { totalCount "}`), accept("application/graphql-response+json"))
			testkit.RequireGQLError(t, res, "GRAPHQL_PARSE_FAILED")
			assert.Equal(t, http.StatusBadRequest, res.Status, "graphql-response+json: a request that never ran is a 400")
		})
		t.Run("campo_inexistente", func(t *testing.T) {
			res := c.Post("application/json", strings.NewReader(`{"query":"{ clientes { noExiste } }"}`), nil)
			e := testkit.RequireGQLError(t, res, "GRAPHQL_VALIDATION_FAILED")
			assert.Equal(t, `Consulta GraphQL inválida: No existe el campo "noExiste" en el tipo "ClienteConnection".`, e.Message)
			assert.Equal(t, http.StatusUnprocessableEntity, res.Status, res.Raw)
		})
		t.Run("sin_query", func(t *testing.T) {
			// No query at all is a malformed request, not a document.
			res := c.Post("application/json", strings.NewReader(`{"variables":{}}`), nil)
			testkit.RequireGQLError(t, res, "VALIDATION_ERROR", "query")
			res = c.Get(url.Values{}, nil)
			testkit.RequireGQLError(t, res, "VALIDATION_ERROR", "query")
		})
		t.Run("documento_sin_operaciones", func(t *testing.T) {
			res := c.Post("application/json", strings.NewReader(`{"query":"fragment F on Cliente { id }"}`), nil)
			testkit.RequireGQLError(t, res, "GRAPHQL_VALIDATION_FAILED")
		})
		t.Run("operation_name_desconocido", func(t *testing.T) {
			res := c.Post("application/json", strings.NewReader(`{"query":"query A { clientes { totalCount } }","operationName":"B"}`), nil)
			e := testkit.RequireGQLError(t, res, "VALIDATION_ERROR", "operationName")
			assert.Contains(t, e.Extensions.Fields["operationName"], `"B"`)
			res = c.Post("application/json", strings.NewReader(`{"query":"query A { clientes { totalCount } } query B { clientes { totalCount } }"}`), nil)
			testkit.RequireGQLError(t, res, "VALIDATION_ERROR", "operationName")
		})
	})
}
