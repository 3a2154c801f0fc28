// Package graph_test specifies the API through its GraphQL boundary, reads
// and mutations: every test posts real GraphQL to the full server
// (middleware, transports, error presenter, resolvers, services) over a
// real database built by the migrations, on SQLite and on PostgreSQL. The
// services' own rules are specified in their packages; here, what the
// client sends and sees.
package graph_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"entgo.io/ent/dialect"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/testkit"
)

// Ids no test ever creates, one per type: ent gives each type its own
// range of 2^32 ids (clientes first, then facturas, then operaciones).
const (
	missingCliente   = 999_999
	missingFactura   = 1<<32 + 999_999
	missingOperacion = 2<<32 + 999_999
)

// field decodes data.<name> of a response.
func field(t *testing.T, res testkit.Response, name string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(res.Data, &m), res.Raw)
	v, ok := m[name]
	require.True(t, ok, "data has no %q: %s", name, res.Raw)
	return v
}

// sqlRecorder keeps the query statements sent through the drivers it
// wraps, with their arguments.
type sqlRecorder struct {
	mu    sync.Mutex
	stmts []recordedSQL
}

type recordedSQL struct {
	query string
	args  []any
}

func (r *sqlRecorder) wrap(drv dialect.Driver) dialect.Driver {
	return &recordingDriver{Driver: drv, r: r}
}

// take returns the statements recorded since the last take.
func (r *sqlRecorder) take() []recordedSQL {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.stmts
	r.stmts = nil
	return out
}

type recordingDriver struct {
	dialect.Driver
	r *sqlRecorder
}

func (d *recordingDriver) Query(ctx context.Context, query string, args, v any) error {
	a, _ := args.([]any)
	d.r.mu.Lock()
	d.r.stmts = append(d.r.stmts, recordedSQL{query: query, args: append([]any(nil), a...)})
	d.r.mu.Unlock()
	return d.Driver.Query(ctx, query, args, v)
}
