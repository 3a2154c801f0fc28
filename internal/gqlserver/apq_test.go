package gqlserver_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/testkit"
)

func sha(query string) string {
	sum := sha256.Sum256([]byte(query))
	return hex.EncodeToString(sum[:])
}

// persisted is the extensions object of an automatic persisted query.
func persisted(hash string, version int) map[string]any {
	return map[string]any{"persistedQuery": map[string]any{"version": version, "sha256Hash": hash}}
}

// postAPQ posts an APQ request: query may be empty (hash only).
func postAPQ(t *testing.T, c *testkit.Client, query string, ext map[string]any, vars map[string]any) testkit.Response {
	t.Helper()
	body := map[string]any{"extensions": ext, "variables": vars}
	if query != "" {
		body["query"] = query
	}
	b, err := json.Marshal(body)
	require.NoError(t, err)
	return c.Post("application/json", bytes.NewReader(b), nil)
}

// getAPQ sends an APQ request over GET, as Apollo's link does with
// useGETForHashedQueries.
func getAPQ(t *testing.T, c *testkit.Client, ext map[string]any, vars map[string]any) testkit.Response {
	t.Helper()
	e, err := json.Marshal(ext)
	require.NoError(t, err)
	params := url.Values{"extensions": {string(e)}}
	if vars != nil {
		v, err := json.Marshal(vars)
		require.NoError(t, err)
		params.Set("variables", string(v))
	}
	return c.Get(params, nil)
}

// requireNotFound asserts the answer Apollo's persisted-query link takes as
// "send the full query": the message PersistedQueryNotFound, the code
// PERSISTED_QUERY_NOT_FOUND, HTTP 200, nothing run.
func requirePersistedQueryNotFound(t *testing.T, res testkit.Response) {
	t.Helper()
	e := testkit.RequireGQLError(t, res, apperror.PersistedQueryNotFound)
	assert.Equal(t, "PersistedQueryNotFound", e.Message)
	assert.Equal(t, http.StatusOK, res.Status, res.Raw)
	testkit.RequireNullData(t, res)
}

// Ensure automatic persisted queries over POST and GET: an unknown hash is
// PERSISTED_QUERY_NOT_FOUND; the full query with its hash runs and is
// remembered, so the hash alone runs it from then on, with any variables;
// a hash that is not the query's, or another protocol version, is a
// VALIDATION_ERROR; a mutation sent by hash is still refused over GET; and
// the server remembers a bounded number of queries.
func TestConsultasPersistidas(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		fx := testkit.NewFixture(t, db.Client)
		fx.Cliente()
		fx.Cliente()
		c, _ := testkit.Serve(t, db, testkit.ServeOptions{})
		const q = `query Total($n: Int) { clientes(first: $n) { totalCount edges { node { id } } } }`

		t.Run("hash_desconocido_post", func(t *testing.T) {
			res := testkit.RequireNoSQL(t, db, func() testkit.Response {
				return postAPQ(t, c, "", persisted(sha(q), 1), nil)
			})
			requirePersistedQueryNotFound(t, res)
		})
		t.Run("hash_desconocido_get", func(t *testing.T) {
			requirePersistedQueryNotFound(t, getAPQ(t, c, persisted(sha(q+" "), 1), nil))
		})
		t.Run("registrar_y_usar", func(t *testing.T) {
			res := postAPQ(t, c, q, persisted(sha(q), 1), map[string]any{"n": 1})
			require.Empty(t, res.Errors, res.Raw)
			assert.JSONEq(t, `2`, string(gjson(t, res.Data, "clientes", "totalCount")))
			for name, res := range map[string]testkit.Response{
				"post": postAPQ(t, c, "", persisted(sha(q), 1), map[string]any{"n": 2}),
				"get":  getAPQ(t, c, persisted(sha(q), 1), map[string]any{"n": 2}),
			} {
				require.Empty(t, res.Errors, "%s: %s", name, res.Raw)
				assert.Equal(t, http.StatusOK, res.Status, name)
				var got struct {
					Clientes testkit.Conn[testkit.Node]
				}
				require.NoError(t, json.Unmarshal(res.Data, &got))
				assert.Len(t, got.Clientes.Edges, 2, "%s: the variables of this request", name)
			}
		})
		t.Run("hash_que_no_es_el_de_la_consulta", func(t *testing.T) {
			res := postAPQ(t, c, `{ clientes { totalCount } }`, persisted(sha("otra"), 1), nil)
			testkit.RequireGQLError(t, res, apperror.Validation, "persistedQuery")
			res = postAPQ(t, c, "", persisted(sha("otra"), 1), nil)
			requirePersistedQueryNotFound(t, res) // and it was not remembered
		})
		t.Run("otra_version", func(t *testing.T) {
			res := postAPQ(t, c, q, persisted(sha(q), 2), nil)
			testkit.RequireGQLError(t, res, apperror.Validation, "persistedQuery")
		})
		t.Run("extension_malformada", func(t *testing.T) {
			res := postAPQ(t, c, q, map[string]any{"persistedQuery": "abc"}, nil)
			testkit.RequireGQLError(t, res, apperror.Validation, "persistedQuery")
		})
		t.Run("mutacion_por_hash_no_va_por_get", func(t *testing.T) {
			m := `mutation { activarCliente(id: "Q2xpZW50ZTox") { id } }`
			res := postAPQ(t, c, m, persisted(sha(m), 1), nil)
			require.Equal(t, http.StatusOK, res.Status, res.Raw) // it ran (and failed on its own terms)
			res = getAPQ(t, c, persisted(sha(m), 1), nil)
			assert.Equal(t, http.StatusMethodNotAllowed, res.Status, res.Raw)
			testkit.RequireGQLError(t, res, apperror.Validation)
		})
		t.Run("los_limites_valen_para_la_consulta_persistida", func(t *testing.T) {
			deep := `{ clientes(first: 100) { edges { node { facturas(first: 100) { edges { node { operaciones(first: 100) { totalCount } } } } } } } }`
			res := postAPQ(t, c, deep, persisted(sha(deep), 1), nil)
			testkit.RequireGQLError(t, res, apperror.ComplexityLimit)
			res = postAPQ(t, c, "", persisted(sha(deep), 1), nil)
			testkit.RequireGQLError(t, res, apperror.ComplexityLimit)
		})
	})
}

// Ensure that the server remembers a bounded number of persisted queries,
// forgetting the least recently used first.
func TestConsultasPersistidasAcotadas(t *testing.T) {
	db := testkit.SQLite(t)
	c, _ := testkit.Serve(t, db, testkit.ServeOptions{})
	query := func(i int) string { return fmt.Sprintf(`{ q%d: __typename }`, i) }
	const size = 1000 // gqlserver's persistedQueryCacheSize
	for i := 0; i <= size; i++ {
		res := postAPQ(t, c, query(i), persisted(sha(query(i)), 1), nil)
		require.Empty(t, res.Errors, res.Raw)
	}
	requirePersistedQueryNotFound(t, postAPQ(t, c, "", persisted(sha(query(0)), 1), nil))
	for _, i := range []int{1, size} {
		res := postAPQ(t, c, "", persisted(sha(query(i)), 1), nil)
		require.Empty(t, res.Errors, res.Raw)
	}
}

// gjson returns the JSON at path in data.
func gjson(t *testing.T, data json.RawMessage, path ...string) json.RawMessage {
	t.Helper()
	for _, p := range path {
		var m map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(data, &m), string(data))
		data = m[p]
	}
	return data
}
