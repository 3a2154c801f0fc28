package graph

import (
	"context"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/banpro/factoring/internal/apperror"
)

// Limits bound what one request may ask for. They are checked before any
// resolver runs; each rejection has its own code.
type Limits struct {
	// MaxDepth is the deepest nesting of fields (fragments are transparent).
	MaxDepth int
	// MaxComplexity bounds the query's cost: the number of objects it may
	// return, counted as GitHub counts nodes. A connection may return its
	// page size (first, last or the default 50) times as many objects as
	// its parent; nodes(ids:) one per id; a field returning a single node
	// (Factura.cliente, Query.operacion) one per parent. Scalars are free.
	MaxComplexity int
	// MaxAliases bounds the aliased fields of an operation.
	MaxAliases int
	// MaxTokens bounds the lexer tokens of a query document.
	MaxTokens int
}

// DefaultLimits are the limits the server runs with unless configured. The
// README's deepest query nests 10 levels and the costliest asks for 1,220
// objects; the benchmark's typical frontend page (20 clientes × 10 facturas
// × their operaciones) 10,220; clientes → facturas → operaciones with the
// default page at every level, 127,550. A 100×100×100 nested connection
// query would be 1,010,100, and is refused. TestLimitesConsultasDelREADME
// measures them.
var DefaultLimits = Limits{MaxDepth: 12, MaxComplexity: 150_000, MaxAliases: 30, MaxTokens: 5_000}

// costExtension is the response extension reporting the query's cost.
const costExtension = "cost"

// Cost is what extensions.cost reports on every response, so integrators
// can budget their queries.
type Cost struct {
	Requested int `json:"requested"`
	Limit     int `json:"limit"`
}

// queryLimits checks Limits on every operation once its variables are known,
// and refuses introspection when it is off.
type queryLimits struct {
	limits        Limits
	introspection bool
	schema        *ast.Schema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
	graphql.ResponseInterceptor
} = (*queryLimits)(nil)

func (*queryLimits) ExtensionName() string { return "QueryLimits" }

// Validate keeps the schema, to tell which fields return a node.
func (q *queryLimits) Validate(es graphql.ExecutableSchema) error {
	q.schema = es.Schema()
	return nil
}

func (q *queryLimits) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	shape := measure(oc, q.schema)
	oc.Stats.SetExtension(costExtension, Cost{Requested: shape.complexity, Limit: q.limits.MaxComplexity})
	switch {
	case shape.introspection != nil && !q.introspection:
		return requestError(introspectionDisabled(), shape.introspection)
	case shape.depth > q.limits.MaxDepth:
		return limitError(apperror.DepthLimit, shape.deepestPos,
			"La consulta anida %d niveles; el máximo es %d.", shape.depth, q.limits.MaxDepth)
	case shape.aliases > q.limits.MaxAliases:
		return limitError(apperror.AliasLimit, nil,
			"La consulta usa %d alias; el máximo es %d.", shape.aliases, q.limits.MaxAliases)
	case shape.complexity > q.limits.MaxComplexity:
		return limitError(apperror.ComplexityLimit, nil,
			"La consulta costaría %d puntos; el máximo es %d. Pida páginas más pequeñas (first/last) o menos campos anidados.",
			shape.complexity, q.limits.MaxComplexity)
	}
	return nil
}

// InterceptResponse reports the operation's cost in extensions.cost, on
// every response, refused ones included.
func (*queryLimits) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if graphql.HasOperationContext(ctx) {
		if cost := graphql.GetOperationContext(ctx).Stats.GetExtension(costExtension); cost != nil {
			graphql.RegisterExtension(ctx, costExtension, cost)
		}
	}
	return next(ctx)
}

func limitError(code apperror.Code, pos *ast.Position, format string, args ...any) *gqlerror.Error {
	return requestError(apperror.Limitf(code, format, args...), pos)
}

// shape is what measure finds out about an operation.
type shape struct {
	depth         int
	deepestPos    *ast.Position
	aliases       int
	complexity    int
	introspection *ast.Position // where __schema or __type is asked for, if anywhere
}

// measure walks the selected operation, through fragments, with the
// request's variables. Introspection (__schema, __type) is left to
// gqlparser's own introspection-depth rule; it is recognised by the field,
// never by a fragment's or an alias's name.
func measure(oc *graphql.OperationContext, schema *ast.Schema) shape {
	s := shape{}
	w := walker{oc: oc, schema: schema, shape: &s}
	s.complexity = w.walk(oc.Operation.SelectionSet, 1, 1)
	return s
}

type walker struct {
	oc     *graphql.OperationContext
	schema *ast.Schema
	shape  *shape
}

// walk returns the objects set may return, each of its fields repeated
// mult times (the product of the page sizes above it).
func (w walker) walk(set ast.SelectionSet, depth, mult int) int {
	cost := 0
	for _, sel := range set {
		switch x := sel.(type) {
		case *ast.Field:
			cost += w.field(x, depth, mult)
		case *ast.InlineFragment:
			cost += w.walk(x.SelectionSet, depth, mult)
		case *ast.FragmentSpread:
			if x.Definition != nil {
				cost += w.walk(x.Definition.SelectionSet, depth, mult)
			}
		}
	}
	return cost
}

func (w walker) field(f *ast.Field, depth, mult int) int {
	s := w.shape
	if f.Name == "__schema" || f.Name == "__type" {
		if s.introspection == nil {
			s.introspection = f.Position
		}
		return 0
	}
	if f.Alias != "" && f.Alias != f.Name {
		s.aliases++
	}
	if depth > s.depth {
		s.depth, s.deepestPos = depth, f.Position
	}
	objects := 0
	switch {
	case isConnection(f):
		objects = mult * pageSize(f, w.oc.Variables)
	case f.Name == "nodes" && f.ObjectDefinition != nil && f.ObjectDefinition.Name == "Query":
		ids, _ := f.ArgumentMap(w.oc.Variables)["ids"].([]any)
		objects = mult * len(ids)
	case w.returnsNode(f):
		objects = mult
	default:
		return w.walk(f.SelectionSet, depth+1, mult)
	}
	return objects + w.walk(f.SelectionSet, depth+1, max(objects, 1))
}

// returnsNode reports whether f returns one entity (a type implementing
// Node), outside an edge, whose node the connection already counted.
func (w walker) returnsNode(f *ast.Field) bool {
	if f.Definition == nil || w.schema == nil || (f.ObjectDefinition != nil && strings.HasSuffix(f.ObjectDefinition.Name, "Edge")) {
		return false
	}
	name := f.Definition.Type.Name()
	if name == "Node" {
		return true
	}
	def := w.schema.Types[name]
	return def != nil && slices.Contains(def.Interfaces, "Node")
}

// pageSize is the number of rows a connection field may return. The page
// size guard has already checked the values; absent ones were defaulted.
func pageSize(f *ast.Field, vars map[string]any) int {
	args := f.ArgumentMap(vars)
	for _, name := range []string{"first", "last"} {
		if v, ok := args[name]; ok && v != nil {
			if n, err := graphql.UnmarshalInt(v); err == nil && n >= 0 {
				return n
			}
		}
	}
	return DefaultPageSize
}
