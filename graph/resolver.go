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
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/clientes"
	"github.com/banpro/factoring/internal/deudores"
	"github.com/banpro/factoring/internal/facturas"
	"github.com/banpro/factoring/internal/operaciones"
	"github.com/banpro/factoring/internal/suscripciones"
	"github.com/banpro/factoring/internal/webhooks"
)

// Resolver holds the dependencies of every resolver.
type Resolver struct {
	client   *ent.Client
	services Services
}

// Services are the domain services the mutations call, and the hub the
// subscriptions read.
type Services struct {
	Clientes    *clientes.Service
	Facturas    *facturas.Service
	Operaciones *operaciones.Service
	Deudores    *deudores.Service
	// Webhooks manages the integrators' webhooks and their deliveries.
	Webhooks *webhooks.Service
	// Suscripciones feeds Subscription.eventos; nil refuses subscriptions
	// (SERVICE_UNAVAILABLE).
	Suscripciones Suscriptor
}

// Suscriptor is what Subscription.eventos needs (suscripciones.Hub).
type Suscriptor interface {
	Suscribir(ctx context.Context, f suscripciones.Filtro) (<-chan *suscripciones.Evento, error)
}

// NewSchema is the API's executable schema: reads go to client, mutations
// to services, subscriptions to services.Suscripciones. Each operation runs
// with its own cache of derived figures (exposiciones.go).
func NewSchema(client *ent.Client, services Services) graphql.ExecutableSchema {
	if services.Suscripciones == nil {
		services.Suscripciones = sinSuscripciones{}
	}
	return conCaches{schema{NewExecutableSchema(Config{Resolvers: &Resolver{client: client, services: services}})}}
}
