package gqlserver_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/testkit"
)

// apollo speaks to the API as Apollo Client does: HttpLink's Accept
// header, the persisted-query link (hash first, the full query only when
// the server asks for it), and a response body read as GraphQL only when
// its media type says so, whatever the status: the rule a token-refresh or
// error link depends on to find extensions.code.
type apollo struct {
	t     *testing.T
	base  string
	token string
	// useGET sends hash-only requests over GET (useGETForHashedQueries).
	useGET bool
}

// apolloResult is what Apollo's links see of one answer.
type apolloResult struct {
	status int
	// graphQL reports whether the body was read as a GraphQL response
	// (by its media type); otherwise Apollo has only a ServerError's text.
	graphQL bool
	Data    json.RawMessage `json:"data"`
	Errors  []struct {
		Message    string `json:"message"`
		Extensions struct {
			Code string `json:"code"`
		} `json:"extensions"`
	} `json:"errors"`
}

func (a apollo) send(method string, body map[string]any) apolloResult {
	a.t.Helper()
	var req *http.Request
	var err error
	if method == http.MethodGet {
		q := url.Values{}
		for k, v := range body {
			if s, ok := v.(string); ok {
				q.Set(k, s)
				continue
			}
			b, err := json.Marshal(v)
			require.NoError(a.t, err)
			q.Set(k, string(b))
		}
		req, err = http.NewRequest(http.MethodGet, a.base+"/graphql?"+q.Encode(), nil)
	} else {
		b, merr := json.Marshal(body)
		require.NoError(a.t, merr)
		req, err = http.NewRequest(http.MethodPost, a.base+"/graphql", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
	}
	require.NoError(a.t, err)
	req.Header.Set("Accept", "application/graphql-response+json, application/json")
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(a.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(a.t, err)
	out := apolloResult{status: res.StatusCode}
	mediaType, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	// Apollo Client parses a non-2xx body as GraphQL only under
	// application/graphql-response+json; a 2xx one as JSON either way.
	if mediaType == "application/graphql-response+json" || (res.StatusCode < 300 && mediaType == "application/json") {
		out.graphQL = true
		require.NoError(a.t, json.Unmarshal(raw, &out), "%s", raw)
	}
	return out
}

// query runs an operation through the persisted-query link: the hash
// alone first; on PersistedQueryNotFound, the query with its hash, over
// POST.
func (a apollo) query(query string, vars map[string]any) (apolloResult, bool) {
	a.t.Helper()
	ext := persisted(sha(query), 1)
	method := http.MethodPost
	if a.useGET {
		method = http.MethodGet
	}
	first := a.send(method, map[string]any{"variables": vars, "extensions": ext})
	for _, e := range first.Errors {
		if e.Message == "PersistedQueryNotFound" || e.Extensions.Code == "PERSISTED_QUERY_NOT_FOUND" {
			return a.send(http.MethodPost, map[string]any{"query": query, "variables": vars, "extensions": ext}), true
		}
	}
	return first, false
}

func (r apolloResult) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Extensions.Code
}

// Ensure that Apollo Client, as configured by a frontend of this API,
// works: a missing or bad token is a 401 whose body it reads as GraphQL
// with extensions.code UNAUTHENTICATED (what a token-refresh link looks
// for); the persisted-query link registers a query once and sends only its
// hash afterwards, over POST or GET; an error in the document is
// GRAPHQL_VALIDATION_FAILED; an error found while running, with its code
// and HTTP 200.
func TestClienteApollo(t *testing.T) {
	db := testkit.SQLite(t)
	fx := testkit.NewFixture(t, db.Client)
	cliente := fx.Cliente()
	cfg := testkit.WithAuth(testkit.Config(t))
	c, _ := testkit.Serve(t, db, testkit.ServeOptions{Config: &cfg})
	const q = `query Cliente($id: ID!) { cliente(id: $id) { id razonSocial } }`
	vars := map[string]any{"id": testkit.IDOf(cliente)[0]}

	t.Run("sin_token_401_legible", func(t *testing.T) {
		for _, token := range []string{"", "no-es-un-jwt"} {
			res, _ := apollo{t: t, base: c.URL(), token: token}.query(q, vars)
			assert.Equal(t, http.StatusUnauthorized, res.status)
			require.True(t, res.graphQL, "Apollo reads the 401's body as a GraphQL response")
			assert.Equal(t, "UNAUTHENTICATED", res.code())
		}
	})
	for _, useGET := range []bool{false, true} {
		name := map[bool]string{false: "post", true: "get"}[useGET]
		t.Run("consulta_persistida_"+name, func(t *testing.T) {
			a := apollo{t: t, base: c.URL(), token: testkit.Token(t, "ana-"+name, auth.Lector), useGET: useGET}
			q := q + " # " + name // a query the server has not seen
			res, retried := a.query(q, vars)
			assert.True(t, retried, "the first time, the server asks for the query")
			require.Empty(t, res.Errors)
			assert.Contains(t, string(res.Data), cliente.RazonSocial)
			res, retried = a.query(q, vars)
			assert.False(t, retried, "then the hash alone runs it")
			require.Empty(t, res.Errors)
			assert.Contains(t, string(res.Data), cliente.RazonSocial)
		})
	}
	t.Run("error_del_documento", func(t *testing.T) {
		a := apollo{t: t, base: c.URL(), token: testkit.Token(t, "ana", auth.Lector)}
		res, _ := a.query(`{ cliente(id: "x") { noExiste } }`, nil)
		assert.Equal(t, http.StatusBadRequest, res.status)
		require.True(t, res.graphQL)
		assert.Equal(t, "GRAPHQL_VALIDATION_FAILED", res.code())
		res = a.send(http.MethodPost, map[string]any{"query": `{ cliente(id: "x") { id `})
		assert.Equal(t, http.StatusBadRequest, res.status)
		assert.Equal(t, "GRAPHQL_PARSE_FAILED", res.code())
	})
	t.Run("error_de_ejecucion", func(t *testing.T) {
		a := apollo{t: t, base: c.URL(), token: testkit.Token(t, "ana", auth.Lector)}
		res, _ := a.query(q, map[string]any{"id": "Q2xpZW50ZTo5OTk5"})
		assert.Equal(t, http.StatusOK, res.status)
		assert.Equal(t, "NOT_FOUND", res.code())
		assert.JSONEq(t, `{"cliente": null}`, string(res.Data))
	})
	t.Run("rol_insuficiente_403", func(t *testing.T) {
		a := apollo{t: t, base: c.URL(), token: testkit.Token(t, "ana", auth.Lector)}
		res, _ := a.query(`mutation($id: ID!) { activarCliente(id: $id) { id } }`, vars)
		assert.Equal(t, http.StatusForbidden, res.status)
		require.True(t, res.graphQL)
		assert.Equal(t, "FORBIDDEN", res.code())
	})
}
