// Package graph_test specifies the API through its GraphQL boundary, reads
// and mutations: every test posts real GraphQL to the full server
// (middleware, transports, error presenter, resolvers, services) over a
// real database built by the migrations, on SQLite and on PostgreSQL. The
// services' own rules are specified in their packages; here, what the
// client sends and sees.
package graph_test

import (
	"encoding/json"
	"testing"

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
