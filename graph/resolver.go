// Package graph is the GraphQL layer: gqlgen's generated executor
// (generated.go), the resolvers, and the HTTP handler that serves them.
//
// Resolvers are thin: they translate GraphQL arguments into one call (an
// entgql query for reads, a domain service for mutations) and the result
// back. Business rules live in the internal domain packages.
package graph

import (
	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/clientes"
	"github.com/banpro/factoring/internal/facturas"
	"github.com/banpro/factoring/internal/operaciones"
)

// Resolver holds the dependencies of every resolver.
type Resolver struct {
	client   *ent.Client
	services Services
}

// Services are the domain services the mutations call.
type Services struct {
	Clientes    *clientes.Service
	Facturas    *facturas.Service
	Operaciones *operaciones.Service
}
