// Package gqlserver_test specifies the GraphQL endpoint's request policy
// through its HTTP boundary: every test posts real GraphQL to the full
// server (middleware, transports, limits, roles, error presenter,
// resolvers) over a real database built by the migrations, on SQLite and
// on PostgreSQL.
package gqlserver_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/banpro/factoring/graph"
	"github.com/banpro/factoring/internal/gqlserver"
)

// Ensure that the SDL served at /schema.graphql is the whole schema: the
// generated entgql types and the hand-written queries and scalars.
func TestSDL(t *testing.T) {
	sdl := gqlserver.SDL(graph.NewSchema(nil, graph.Services{}))
	for _, want := range []string{"type Cliente implements Node", "type Factura implements Node", "type Operacion implements Node",
		"type OperacionEvento implements Node", "type Mutation", "type Query", "scalar Decimal", "scalar Date", "clientePorRut(rut: String!): Cliente"} {
		assert.Contains(t, sdl, want)
	}
}
