package graph

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/shopspring/decimal"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/deudores"
)

// A deudor's exposicion is derived from its facturas (internal/deudores),
// never stored. Asked for on a page of deudores (or of facturas with their
// deudor), it is computed for the whole page in one query the first time
// one of them asks, and read from the operation's cache by the others:
// gqlgen's batch resolvers group only the elements of a plain list, and a
// Relay connection resolves its nodes one edge at a time.

// conCaches is the executable schema with a cache per operation: every
// time it runs an operation, its fields resolve under a context that
// carries a fresh cache.
type conCaches struct{ graphql.ExecutableSchema }

// Exec runs the operation with its own cache.
func (s conCaches) Exec(ctx context.Context) graphql.ResponseHandler {
	next := s.ExecutableSchema.Exec(ctx)
	return func(ctx context.Context) *graphql.Response {
		return next(context.WithValue(ctx, cacheKey{}, &cache{exposicion: map[int]decimal.Decimal{}}))
	}
}

type cacheKey struct{}

// cache holds what the operation computed: each deudor's exposure.
type cache struct {
	mu         sync.Mutex
	exposicion map[int]decimal.Decimal
}

// exposiciones resolves Deudor.exposicion for ds (gqlgen hands a batch
// resolver every element of a plain list at once; from a connection, one
// deudor at a time): from the operation's cache, computing on a miss the
// exposure of ds and of every deudor beside them in the page they are
// part of, in one query.
func exposiciones(ctx context.Context, client *ent.Client, ds []*ent.Deudor) ([]*decimal.Decimal, error) {
	c, _ := ctx.Value(cacheKey{}).(*cache)
	if c == nil {
		c = &cache{exposicion: map[int]decimal.Decimal{}}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var missing []int
	for _, d := range ds {
		if _, ok := c.exposicion[d.ID]; !ok {
			missing = append(missing, d.ID)
		}
	}
	if len(missing) > 0 {
		for _, d := range pagina(ctx) {
			if _, ok := c.exposicion[d.ID]; !ok {
				missing = append(missing, d.ID)
			}
		}
		exp, err := deudores.Exposiciones(ctx, client, missing)
		if err != nil {
			return nil, err
		}
		for id, v := range exp {
			c.exposicion[id] = v
		}
	}
	out := make([]*decimal.Decimal, len(ds))
	for i, d := range ds {
		v := c.exposicion[d.ID]
		out[i] = &v
	}
	return out, nil
}

// pagina is the deudores of the page the field being resolved is in: the
// nodes of the nearest enclosing list of deudor edges, or the deudores of
// the nearest enclosing list of factura edges (those its query loaded).
func pagina(ctx context.Context) []*ent.Deudor {
	for fc := graphql.GetFieldContext(ctx); fc != nil; fc = fc.Parent {
		switch r := fc.Result.(type) {
		case []*ent.DeudorEdge:
			out := make([]*ent.Deudor, 0, len(r))
			for _, e := range r {
				if e != nil && e.Node != nil {
					out = append(out, e.Node)
				}
			}
			return out
		case []*ent.FacturaEdge:
			var out []*ent.Deudor
			for _, e := range r {
				if e != nil && e.Node != nil && e.Node.Edges.Deudor != nil {
					out = append(out, e.Node.Edges.Deudor)
				}
			}
			return out
		}
	}
	return nil
}
