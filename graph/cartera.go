package graph

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/facturas"
)

// Cliente.cartera and Deudor.cartera are computed, not columns: one query
// reads the portfolios of many clientes (facturas.CarteraDeClientes) or on
// many deudores (facturas.CarteraDeDeudores). A page asks it once for every
// row of the page, not once per row, through carteras, a per-operation memo: the first cliente of a
// list to resolve the field finds its siblings (the connection's edges, or
// a nodes list, which gqlgen has resolved before their fields) and loads
// the portfolios of them all; the rest find theirs in the memo. (gqlgen's
// batch resolvers group the elements of a list of the field's type only,
// and a Relay connection lists edges.)

// carteras are the memos of one operation: the portfolios of clientes and
// those on deudores, by id.
type carteras struct {
	mu       sync.Mutex
	clientes map[int]*facturas.Cartera
	deudores map[int]*facturas.Cartera
}

type carterasKey struct{}

// conCarteras returns ctx carrying new memos.
func conCarteras(ctx context.Context) context.Context {
	return context.WithValue(ctx, carterasKey{}, &carteras{clientes: map[int]*facturas.Cartera{}, deudores: map[int]*facturas.Cartera{}})
}

// carteraDe is cliente c's portfolio, loaded with its siblings' when it is
// the first of a list to ask.
func carteraDe(ctx context.Context, client *ent.Client, c *ent.Cliente) (*facturas.Cartera, error) {
	return carteraMemo(ctx, client, c.ID, func(m *carteras) map[int]*facturas.Cartera { return m.clientes },
		hermanosCliente, facturas.CarteraDeClientes)
}

// carteraDeDeudor is the portfolio on deudor d, loaded with its siblings'
// when it is the first of a list to ask.
func carteraDeDeudor(ctx context.Context, client *ent.Client, d *ent.Deudor) (*facturas.Cartera, error) {
	return carteraMemo(ctx, client, d.ID, func(m *carteras) map[int]*facturas.Cartera { return m.deudores },
		hermanosDeudor, facturas.CarteraDeDeudores)
}

type cargaCarteras func(ctx context.Context, c *ent.Client, ids []int) ([]*facturas.Cartera, error)

func carteraMemo(ctx context.Context, client *ent.Client, id int, memo func(*carteras) map[int]*facturas.Cartera,
	hermanos func(any) []int, cargar cargaCarteras) (*facturas.Cartera, error) {
	m, _ := ctx.Value(carterasKey{}).(*carteras)
	if m == nil {
		cs, err := cargar(ctx, client, []int{id})
		if err != nil {
			return nil, err
		}
		return cs[0], nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if got, ok := memo(m)[id]; ok {
		return got, nil
	}
	ids := append(enLista(ctx, hermanos), id)
	cs, err := cargar(ctx, client, ids)
	if err != nil {
		return nil, err
	}
	for i, id := range ids {
		memo(m)[id] = cs[i]
	}
	return memo(m)[id], nil
}

// enLista is the ids hermanos finds in the nearest list the field is
// resolved under (a connection's edges or a list of nodes); none when it
// is not in one.
func enLista(ctx context.Context, hermanos func(any) []int) []int {
	for fc := graphql.GetFieldContext(ctx); fc != nil; fc = fc.Parent {
		if ids := hermanos(fc.Result); ids != nil {
			return ids
		}
	}
	return nil
}

// hermanosCliente are the clientes of a list result; nil when it is no
// list of clientes.
func hermanosCliente(result any) []int {
	ids := []int{}
	switch r := result.(type) {
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
		return nil
	}
	return ids
}

// hermanosDeudor are the deudores of a list result; nil when it is no list
// of deudores.
func hermanosDeudor(result any) []int {
	ids := []int{}
	switch r := result.(type) {
	case []*ent.DeudorEdge:
		for _, e := range r {
			if e != nil && e.Node != nil {
				ids = append(ids, e.Node.ID)
			}
		}
	case []*ent.Deudor:
		for _, d := range r {
			if d != nil {
				ids = append(ids, d.ID)
			}
		}
	case []ent.Noder:
		for _, n := range r {
			if d, ok := n.(*ent.Deudor); ok && d != nil {
				ids = append(ids, d.ID)
			}
		}
	default:
		return nil
	}
	return ids
}

// schema is the executable schema with the per-operation memos its
// resolvers share.
type schema struct{ graphql.ExecutableSchema }

// Exec runs one operation; each response it produces has its own memos.
func (s schema) Exec(ctx context.Context) graphql.ResponseHandler {
	next := s.ExecutableSchema.Exec(ctx)
	return func(ctx context.Context) *graphql.Response { return next(conCarteras(ctx)) }
}
