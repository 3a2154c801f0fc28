package graph

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/facturas"
)

// Cliente.cartera is computed, not a column: one query reads the
// portfolios of many clientes (facturas.CarteraDeClientes). A page of
// clientes asks it once for every cliente of the page, not once per
// cliente, through carteras, a per-operation memo: the first cliente of a
// list to resolve the field finds its siblings (the connection's edges, or
// a nodes list, which gqlgen has resolved before their fields) and loads
// the portfolios of them all; the rest find theirs in the memo. (gqlgen's
// batch resolvers group the elements of a list of the field's type only,
// and a Relay connection lists edges.)

// carteras is the memo of one operation.
type carteras struct {
	mu   sync.Mutex
	memo map[int]*facturas.Cartera
}

type carterasKey struct{}

// conCarteras returns ctx carrying a new memo.
func conCarteras(ctx context.Context) context.Context {
	return context.WithValue(ctx, carterasKey{}, &carteras{memo: map[int]*facturas.Cartera{}})
}

// carteraDe is c's portfolio, loaded with its siblings' when it is the
// first of a list to ask.
func carteraDe(ctx context.Context, client *ent.Client, c *ent.Cliente) (*facturas.Cartera, error) {
	m, _ := ctx.Value(carterasKey{}).(*carteras)
	if m == nil {
		cs, err := facturas.CarteraDeClientes(ctx, client, []int{c.ID})
		if err != nil {
			return nil, err
		}
		return cs[0], nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if got, ok := m.memo[c.ID]; ok {
		return got, nil
	}
	ids := append(hermanos(ctx), c.ID)
	cs, err := facturas.CarteraDeClientes(ctx, client, ids)
	if err != nil {
		return nil, err
	}
	for i, id := range ids {
		m.memo[id] = cs[i]
	}
	return m.memo[c.ID], nil
}

// hermanos are the clientes of the nearest list the field is resolved
// under: a connection's edges or a list of nodes (none when it is not in
// one).
func hermanos(ctx context.Context) []int {
	for fc := graphql.GetFieldContext(ctx); fc != nil; fc = fc.Parent {
		var ids []int
		switch r := fc.Result.(type) {
		case []*ent.ClienteEdge:
			for _, e := range r {
				if e != nil && e.Node != nil {
					ids = append(ids, e.Node.ID)
				}
			}
		case []*ent.Cliente:
			for _, c := range r {
				if c != nil {
					ids = append(ids, c.ID)
				}
			}
		case []ent.Noder:
			for _, n := range r {
				if c, ok := n.(*ent.Cliente); ok && c != nil {
					ids = append(ids, c.ID)
				}
			}
		default:
			continue
		}
		return ids
	}
	return nil
}

// schema is the executable schema with the per-operation memos its
// resolvers share.
type schema struct{ graphql.ExecutableSchema }

// Exec runs one operation; each response it produces has its own memos.
func (s schema) Exec(ctx context.Context) graphql.ResponseHandler {
	next := s.ExecutableSchema.Exec(ctx)
	return func(ctx context.Context) *graphql.Response { return next(conCarteras(ctx)) }
}
