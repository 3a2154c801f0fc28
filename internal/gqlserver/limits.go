package gqlserver

import (
	"context"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/conteo"
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
	// (Factura.cliente, Query.operacion) one per parent; a bounded count
	// (conteoFacturas …) one per 100 rows it may count (hasta / 100,
	// rounded up: 10 for the default 1,000). Scalars are free.
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
	costs         introspectionCosts
}

// introspectionCosts is what an introspection field counts in a query's
// cost: the objects it may return. __schema may return the whole schema:
// every type, field, argument, input field, enum value and directive, and
// the type reference of each field and argument. __type may return the
// largest type with its fields, their arguments and type references. 100
// aliased __schema fields were 13 KB in and 2.2 MB out while they cost
// nothing and escaped the alias limit.
type introspectionCosts struct {
	schema, typ int
}

func introspectionCostsOf(schema *ast.Schema) introspectionCosts {
	var c introspectionCosts
	for _, d := range schema.Types {
		n := 1 + len(d.EnumValues)
		for _, f := range d.Fields {
			n += 2 + 2*len(f.Arguments) // the field and its type, each argument and its type
		}
		c.schema += n
		c.typ = max(c.typ, n)
	}
	for _, d := range schema.Directives {
		c.schema += 1 + 2*len(d.Arguments)
	}
	return c
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
	q.costs = introspectionCostsOf(q.schema)
	return nil
}

func (q *queryLimits) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	shape := measure(oc, q.schema, q.costs)
	oc.Stats.SetExtension(costExtension, Cost{Requested: shape.complexity, Limit: q.limits.MaxComplexity})
	switch {
	case shape.introspection != nil && !q.introspection:
		return requestError(apperror.New(apperror.IntrospectionDisabled), shape.introspection)
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

// withoutSuggestions swaps every gqlparser rule that suggests names ("Did
// you mean ...?") for its silent twin: with introspection off, error
// messages must not reveal the schema either. gqlgen's SetDisableSuggestion
// covers only field names and leaf selections; arguments, enum values,
// input fields and type names would still be suggested.
func withoutSuggestions(r *rules.Rules) *rules.Rules {
	for name, silent := range map[string]core.Rule{
		rules.FieldsOnCorrectTypeRule.Name: rules.FieldsOnCorrectTypeRuleWithoutSuggestions,
		rules.ScalarLeafsRule.Name:         rules.ScalarLeafsRuleWithoutSuggestions,
		rules.KnownArgumentNamesRule.Name:  rules.KnownArgumentNamesRuleWithoutSuggestions,
		rules.KnownTypeNamesRule.Name:      rules.KnownTypeNamesRuleWithoutSuggestions,
		rules.ValuesOfCorrectTypeRule.Name: rules.ValuesOfCorrectTypeRuleWithoutSuggestions,
	} {
		r.RemoveRule(name)
		r.AddRule(silent.Name, silent.RuleFunc)
	}
	return r
}

func limitError(code apperror.Code, pos *ast.Position, format string, args ...any) *gqlerror.Error {
	return requestError(apperror.Errorf(code, format, args...), pos)
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
// request's variables. Introspection (__schema, __type) counts in aliases
// and cost (introspectionCosts); its depth is left to gqlparser's own
// introspection-depth rule. It is recognised by the field, never by a
// fragment's or an alias's name.
func measure(oc *graphql.OperationContext, schema *ast.Schema, costs introspectionCosts) shape {
	s := shape{}
	w := walker{oc: oc, schema: schema, costs: costs, shape: &s, fragments: map[fragmentAt]shape{}}
	s.complexity = w.walk(oc.Operation.SelectionSet, 1, 1)
	return s
}

type walker struct {
	oc     *graphql.OperationContext
	schema *ast.Schema
	costs  introspectionCosts
	shape  *shape
	// fragments holds what each fragment adds where it is spread, by the
	// depth it is entered at (see fragment).
	fragments map[fragmentAt]shape
}

// fragmentAt is a fragment entered at a depth.
type fragmentAt struct {
	name  string
	depth int
}

// walk returns the objects set may return, each of its fields repeated
// mult times (the product of the page sizes above it). Counts saturate
// instead of overflowing.
func (w walker) walk(set ast.SelectionSet, depth, mult int) int {
	cost := 0
	for _, sel := range set {
		switch x := sel.(type) {
		case *ast.Field:
			cost = addSat(cost, w.field(x, depth, mult))
		case *ast.InlineFragment:
			cost = addSat(cost, w.walk(x.SelectionSet, depth, mult))
		case *ast.FragmentSpread:
			if x.Definition != nil {
				cost = addSat(cost, w.fragment(x.Definition, depth, mult))
			}
		}
	}
	return cost
}

// fragment measures a fragment spread: the fragment is walked once per
// depth it is entered at, and a spread that meets it again adds what it
// found then. Walking every spread anew would take exponential time on a
// document of fragments that each spread the next twice (2^n spreads for n
// fragments), before any limit could refuse it. A fragment's cost is
// linear in mult (the one field that is not, nodes with no ids, sits on
// Query, which only the root selects, with mult 1), so it is kept for mult
// 1 and scaled.
func (w walker) fragment(def *ast.FragmentDefinition, depth, mult int) int {
	key := fragmentAt{name: def.Name, depth: depth}
	sub, ok := w.fragments[key]
	if !ok {
		inner := walker{oc: w.oc, schema: w.schema, costs: w.costs, shape: &sub, fragments: w.fragments}
		sub.complexity = inner.walk(def.SelectionSet, depth, 1)
		w.fragments[key] = sub
	}
	s := w.shape
	if sub.depth > s.depth {
		s.depth, s.deepestPos = sub.depth, sub.deepestPos
	}
	s.aliases = addSat(s.aliases, sub.aliases)
	if s.introspection == nil {
		s.introspection = sub.introspection
	}
	return mulSat(sub.complexity, mult)
}

func (w walker) field(f *ast.Field, depth, mult int) int {
	s := w.shape
	if f.Alias != "" && f.Alias != f.Name {
		s.aliases = addSat(s.aliases, 1)
	}
	if f.Name == "__schema" || f.Name == "__type" {
		if s.introspection == nil {
			s.introspection = f.Position
		}
		if f.Name == "__schema" {
			return mulSat(mult, w.costs.schema)
		}
		return mulSat(mult, w.costs.typ)
	}
	if depth > s.depth {
		s.depth, s.deepestPos = depth, f.Position
	}
	objects := 0
	switch {
	case isConnection(f):
		objects = mulSat(mult, pageSize(f, w.oc.Variables))
	case f.Name == "nodes" && f.ObjectDefinition != nil && f.ObjectDefinition.Name == "Query":
		ids, _ := f.ArgumentMap(w.oc.Variables)["ids"].([]any)
		objects = mulSat(mult, len(ids))
	case w.returnsNode(f):
		objects = mult
	case isBoundedCount(f):
		objects = mulSat(mult, countCost(f, w.oc.Variables))
	default:
		return w.walk(f.SelectionSet, depth+1, mult)
	}
	return addSat(objects, w.walk(f.SelectionSet, depth+1, max(objects, 1)))
}

// maxCount is where counts saturate: 2^53 - 1, the largest integer every
// JSON client reads exactly. A count that overflowed could wrap to a small
// one and pass.
const maxCount = 1<<53 - 1

// addSat and mulSat add and multiply non-negative counts, saturating at
// maxCount.
func addSat(a, b int) int {
	return min(a+min(b, maxCount), maxCount)
}

func mulSat(a, b int) int {
	if a != 0 && b > maxCount/a {
		return maxCount
	}
	return a * b
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

// rowsPerPoint is how many rows a bounded count may read per point of
// cost. Counting a row returns nothing: the database walks an index or
// the table, and nothing is fetched, resolved or serialized; a row a page
// returns costs all of that, at one point.
const rowsPerPoint = 100

// countCost is the cost of a bounded count: hasta / rowsPerPoint, rounded
// up. The page size guard has already checked hasta; absent or null, it
// is the default.
func countCost(f *ast.Field, vars map[string]any) int {
	hasta := conteo.HastaPorDefecto
	if v, ok := f.ArgumentMap(vars)["hasta"]; ok && v != nil {
		if n, err := graphql.UnmarshalInt(v); err == nil {
			hasta = min(max(n, 1), conteo.HastaMaximo)
		}
	}
	return (hasta + rowsPerPoint - 1) / rowsPerPoint
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
