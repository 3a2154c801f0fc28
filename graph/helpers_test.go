// Package graph_test specifies the read API through its HTTP boundary: every
// test posts real GraphQL to the full server (middleware, transports, error
// presenter, resolvers) over a real database built by the migrations, on
// SQLite and on PostgreSQL.
package graph_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"testing"

	"entgo.io/ent/dialect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/gqltest"
	"github.com/banpro/factoring/internal/testdb"
)

// pageInfo is a connection's PageInfo.
type pageInfo struct {
	HasNextPage     bool    `json:"hasNextPage"`
	HasPreviousPage bool    `json:"hasPreviousPage"`
	StartCursor     *string `json:"startCursor"`
	EndCursor       *string `json:"endCursor"`
}

// conn is a Relay connection whose nodes decode into T.
type conn[T any] struct {
	TotalCount int      `json:"totalCount"`
	PageInfo   pageInfo `json:"pageInfo"`
	Edges      []struct {
		Cursor string `json:"cursor"`
		Node   T      `json:"node"`
	} `json:"edges"`
}

// nodes returns the connection's nodes in edge order.
func (c conn[T]) nodes() []T {
	out := make([]T, len(c.Edges))
	for i, e := range c.Edges {
		out[i] = e.Node
	}
	return out
}

// node is any node when only its id matters.
type node struct {
	ID string `json:"id"`
}

// ids returns the ids of the connection's nodes in edge order.
func ids(c conn[node]) []string {
	out := make([]string, len(c.Edges))
	for i, e := range c.Edges {
		out[i] = e.Node.ID
	}
	return out
}

// idOf renders the API id of rows built by the fixture, in order.
func idOf[T interface {
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

// reversed returns s in reverse order.
func reversed[T any](s []T) []T {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// data posts query and decodes data into a fresh T, requiring success. It
// fails t, not the test the client was made in (gqltest.Client.MustData
// would), so subtests can share one server.
func data[T any](t *testing.T, c *gqltest.Client, query string, vars map[string]any) T {
	t.Helper()
	res := c.Do(query, vars)
	require.Empty(t, res.Errors, "query failed: %s", res.Raw)
	require.Equal(t, http.StatusOK, res.Status, res.Raw)
	var out T
	require.NoError(t, json.Unmarshal(res.Data, &out), res.Raw)
	return out
}

// requireError asserts that res failed with exactly one error of code, that
// extensions.fields names exactly fields (none when fields is empty), and
// that the error carries the request id. It returns the error.
func requireError(t *testing.T, res gqltest.Response, code string, fields ...string) gqltest.Error {
	t.Helper()
	require.Len(t, res.Errors, 1, "expected exactly one error: %s", res.Raw)
	e := res.Errors[0]
	assert.Equal(t, code, e.Extensions.Code, res.Raw)
	if len(fields) == 0 {
		assert.Empty(t, e.Extensions.Fields, res.Raw)
	} else {
		assert.ElementsMatch(t, fields, slices.Collect(maps.Keys(e.Extensions.Fields)), res.Raw)
		for _, f := range fields {
			assert.NotEmpty(t, e.Extensions.Fields[f], "fields.%s must say what is wrong: %s", f, res.Raw)
		}
	}
	assert.NotEmpty(t, e.Extensions.RequestID, "every error carries extensions.requestId: %s", res.Raw)
	return e
}

// field decodes data.<name> of a response.
func field(t *testing.T, res gqltest.Response, name string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(res.Data, &m), res.Raw)
	v, ok := m[name]
	require.True(t, ok, "data has no %q: %s", name, res.Raw)
	return v
}

// countedDB opens a fresh database of the dialect whose ent driver counts
// the SQL statements that go through it.
func countedDB(t *testing.T, dia string) (*database.DB, *database.StatementCounter) {
	t.Helper()
	var counter *database.StatementCounter
	opts := database.Options{WrapDriver: func(d dialect.Driver) dialect.Driver {
		wrapped, c := database.CountStatements(d)
		counter = c
		return wrapped
	}}
	var db *database.DB
	if dia == dialect.Postgres {
		db = testdb.PostgresWith(t, opts)
	} else {
		db = testdb.SQLiteWith(t, opts)
	}
	return db, counter
}

// eachCounted runs fn on SQLite and PostgreSQL, over a database whose ent
// driver counts the SQL statements that go through it.
func eachCounted(t *testing.T, fn func(t *testing.T, db *database.DB, n *database.StatementCounter)) {
	t.Helper()
	var counter *database.StatementCounter
	opts := database.Options{WrapDriver: func(d dialect.Driver) dialect.Driver {
		wrapped, c := database.CountStatements(d)
		counter = c
		return wrapped
	}}
	testdb.EachWith(t, opts, func(t *testing.T, db *database.DB) { fn(t, db, counter) })
}
