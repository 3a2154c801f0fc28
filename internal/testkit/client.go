// The GraphQL client of the integration tests: it posts real queries to a
// real server (an httptest.Server running the API's full handler) and
// decodes the response, errors and their extensions included; with it, the
// assertions on responses and the shapes of Relay connections.

package testkit

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/requestid"
)

// Client posts GraphQL operations to one server.
type Client struct {
	t   testing.TB
	srv *httptest.Server
	// Header is sent with every request (tests set X-Request-ID or
	// Authorization here).
	Header http.Header
}

// NewClient starts h on an httptest server, closed at cleanup.
func NewClient(t testing.TB, h http.Handler) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &Client{t: t, srv: srv, Header: http.Header{}}
}

// URL is the server's base URL.
func (c *Client) URL() string { return c.srv.URL }

// GQLError is one GraphQL error as the API sends it.
type GQLError struct {
	Message    string `json:"message"`
	Path       []any  `json:"path"`
	Extensions struct {
		Code      string            `json:"code"`
		Fields    map[string]string `json:"fields"`
		RequestID string            `json:"requestId"`
	} `json:"extensions"`
}

// Response is a decoded GraphQL response.
type Response struct {
	Status     int
	Header     http.Header
	Data       json.RawMessage `json:"data"`
	Errors     []GQLError      `json:"errors"`
	Extensions map[string]any  `json:"extensions"`
	Raw        string          `json:"-"`
}

// Do posts query with variables (nil for none) as JSON and decodes the
// answer.
func (c *Client) Do(query string, variables map[string]any) Response {
	c.t.Helper()
	return c.DoAs("", query, variables)
}

// DoAs is Do as the bearer of token (none when token is empty): see Token.
func (c *Client) DoAs(token, query string, variables map[string]any) Response {
	c.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": variables})
	require.NoError(c.t, err)
	header := http.Header{}
	if token != "" {
		header.Set("Authorization", "Bearer "+token)
	}
	return c.Post("application/json", bytes.NewReader(body), header)
}

// Post posts body to /graphql with the given content type (none when
// empty) and headers, and decodes the answer: for requests Do would not
// send, malformed or oversized ones.
func (c *Client) Post(contentType string, body io.Reader, header http.Header) Response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.srv.URL+"/graphql", body)
	require.NoError(c.t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	maps.Copy(req.Header, header)
	return c.Send(req)
}

// Get sends a GraphQL GET request with params in the query string, and
// headers, and decodes the answer.
func (c *Client) Get(params url.Values, header http.Header) Response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.srv.URL+"/graphql?"+params.Encode(), nil)
	require.NoError(c.t, err)
	maps.Copy(req.Header, header)
	return c.Send(req)
}

// Send sends a prepared request (any method, path or body) with the
// client's Header added, and decodes it.
func (c *Client) Send(req *http.Request) Response {
	c.t.Helper()
	for k, vs := range c.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	res, err := c.srv.Client().Do(req)
	require.NoError(c.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(c.t, err)
	out := Response{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	if len(raw) > 0 && raw[0] == '{' {
		require.NoError(c.t, json.Unmarshal(raw, &out), "body: %s", raw)
	}
	return out
}

// PaddedBody is a valid GraphQL request body of exactly size bytes, padded
// in an unused variable: for the limits on the size of a request.
func PaddedBody(t testing.TB, size int) []byte {
	t.Helper()
	head := `{"query":"{ clientes { totalCount } }","variables":{"relleno":"`
	tail := `"}}`
	pad := size - len(head) - len(tail)
	require.Positive(t, pad)
	body := []byte(head + strings.Repeat("x", pad) + tail)
	require.Len(t, body, size)
	return body
}

// Data posts query, requires that it succeeded (200, no errors) and decodes
// its data into a fresh T. It fails t, not the test the client was made in,
// so subtests can share one server.
func Data[T any](t testing.TB, c *Client, query string, vars map[string]any) T {
	t.Helper()
	res := c.Do(query, vars)
	require.Empty(t, res.Errors, "query failed: %s", res.Raw)
	require.Equal(t, http.StatusOK, res.Status, res.Raw)
	var out T
	require.NoError(t, json.Unmarshal(res.Data, &out), res.Raw)
	return out
}

// RequireGQLError asserts that res failed with exactly one error, whose
// extensions.code is code, whose extensions.fields blame exactly fields (in
// any order, each with a message; none when fields is empty), and whose
// extensions.requestId is the response's X-Request-ID. It returns the
// error.
func RequireGQLError(t testing.TB, res Response, code apperror.Code, fields ...string) GQLError {
	t.Helper()
	require.Len(t, res.Errors, 1, "expected exactly one error: %s", res.Raw)
	e := res.Errors[0]
	require.Equal(t, string(code), e.Extensions.Code, res.Raw)
	got := slices.Sorted(maps.Keys(e.Extensions.Fields))
	if len(fields) == 0 {
		require.Empty(t, got, res.Raw)
	} else {
		require.Equal(t, slices.Sorted(slices.Values(fields)), got, res.Raw)
	}
	for f, msg := range e.Extensions.Fields {
		require.NotEmpty(t, msg, "fields.%s must say what is wrong: %s", f, res.Raw)
	}
	require.NotEmpty(t, e.Extensions.RequestID, "every error carries extensions.requestId: %s", res.Raw)
	require.Equal(t, res.Header.Get(requestid.Header), e.Extensions.RequestID,
		"the error's requestId is the response's X-Request-ID: %s", res.Raw)
	return e
}

// RequireNullData asserts that the response's data is null or absent.
func RequireNullData(t testing.TB, res Response) {
	t.Helper()
	if len(res.Data) > 0 {
		assert.JSONEq(t, "null", string(res.Data), res.Raw)
	}
}

// RequireNoDataKey requires that the response has no data key: it was
// refused before anything executed (GraphQL over HTTP).
func RequireNoDataKey(t testing.TB, res Response) {
	t.Helper()
	var keys map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(res.Raw), &keys), res.Raw)
	assert.NotContains(t, keys, "data", "a request refused before execution has no data key: %s", res.Raw)
}

// leaks are fragments that must never reach a client: SQL, driver names and
// messages, Go type names, source files and stack traces.
var leaks = []string{
	"sql", "SQL", "SELECT", "select ", "INSERT", "UPDATE ", "FROM ", "pq:", "pgx", "pgconn", "SQLSTATE", "sqlite",
	"database is closed", "*ent.", "ent:", "*errors.", "*fmt.", "goroutine", ".go:", "panic", "runtime error",
	"0x00", "invalid byte sequence",
}

// RequireNoLeaks asserts that no internal detail of the server (see leaks)
// reaches the client anywhere in res.
func RequireNoLeaks(t testing.TB, res Response) {
	t.Helper()
	for _, l := range leaks {
		assert.NotContains(t, res.Raw, l, "the response leaks an internal detail")
	}
}

// RequireNoSQL runs do, a request the server must refuse before it reaches
// the database, and requires that no SQL statement ran meanwhile and that
// the response leaks nothing. It returns the response.
func RequireNoSQL(t testing.TB, db *database.DB, do func() Response) Response {
	t.Helper()
	before := db.Statements.Load()
	res := do()
	require.Equal(t, before, db.Statements.Load(), "no SQL statement may run for a refused request: %s", res.Raw)
	RequireNoLeaks(t, res)
	return res
}

// PageInfo is a connection's PageInfo.
type PageInfo struct {
	HasNextPage     bool    `json:"hasNextPage"`
	HasPreviousPage bool    `json:"hasPreviousPage"`
	StartCursor     *string `json:"startCursor"`
	EndCursor       *string `json:"endCursor"`
}

// Conn is a Relay connection whose nodes decode into T.
type Conn[T any] struct {
	TotalCount int      `json:"totalCount"`
	PageInfo   PageInfo `json:"pageInfo"`
	Edges      []struct {
		Cursor string `json:"cursor"`
		Node   T      `json:"node"`
	} `json:"edges"`
}

// Nodes returns the connection's nodes in edge order.
func (c Conn[T]) Nodes() []T {
	out := make([]T, len(c.Edges))
	for i, e := range c.Edges {
		out[i] = e.Node
	}
	return out
}

// Node is any node when only its id matters.
type Node struct {
	ID string `json:"id"`
}

// IDs returns the ids of the connection's nodes in edge order.
func IDs(c Conn[Node]) []string {
	out := make([]string, len(c.Edges))
	for i, e := range c.Edges {
		out[i] = e.Node.ID
	}
	return out
}

// IDOf renders the API id of rows, in order.
func IDOf[T interface {
	*ent.Cliente | *ent.Factura | *ent.Operacion | *ent.OperacionEvento
}](rows ...T) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		switch v := any(r).(type) {
		case *ent.Cliente:
			out[i] = gid.Encode(v.ID)
		case *ent.Factura:
			out[i] = gid.Encode(v.ID)
		case *ent.Operacion:
			out[i] = gid.Encode(v.ID)
		case *ent.OperacionEvento:
			out[i] = gid.Encode(v.ID)
		}
	}
	return out
}

// Reversed returns a reversed copy of s.
func Reversed[T any](s []T) []T {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}
