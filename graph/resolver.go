// Package graph is the GraphQL schema of the API: gqlgen's generated
// executor (generated.go), the resolvers and the helpers they call, and
// NewSchema, the one seam through which the rest of the program gets an
// executable schema. How requests reach it (transports, limits, roles,
// the error presenter) is internal/gqlserver's business.
//
// Resolvers are thin: they translate GraphQL arguments into one call (an
// entgql query for reads, a domain service for mutations) and the result
// back. Business rules live in the internal domain packages.
package graph

import (
	"github.com/99designs/gqlgen/graphql"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/clientes"
	"github.com/banpro/factoring/internal/deudores"
	"github.com/banpro/factoring/internal/facturas"
	"github.com/banpro/factoring/internal/operaciones"
	"github.com/banpro/factoring/internal/webhooks"
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
	Deudores    *deudores.Service
	// Webhooks manages the integrators' webhooks and their deliveries.
	Webhooks *webhooks.Service
}

// NewSchema is the API's executable schema: reads go to client, mutations
// to services. Each operation runs with its own cache of derived figures
// (exposiciones.go).
func NewSchema(client *ent.Client, services Services) graphql.ExecutableSchema {
	return conCaches{schema{NewExecutableSchema(Config{Resolvers: &Resolver{client: client, services: services}})}}
}
