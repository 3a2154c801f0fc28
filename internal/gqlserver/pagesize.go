package gqlserver

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/conteo"
)

// Page sizes of every connection, root and nested (README, "Security"): no
// query returns an unbounded list.
const (
	DefaultPageSize = 50
	MaxPageSize     = 100
)

// entgql reads pagination arguments straight from the query document, both
// in the resolvers and when it eager-loads nested connections, and loads
// every row when first and last are both absent. So the default page size is
// written into the document itself: when a query is parsed (once, before the
// query cache shares it), every connection field with neither first nor last
// gets `first: 50` (`last: 50` when it pages back from a before cursor). An
// explicit null first, last or orderBy means "not given", as an absent one:
// the default page and the default order, never every row or entgql's own
// order by id. Values are then checked per request, once variables are
// known, by pageSizeGuard.

// validationRules are gqlparser's standard rules plus the default page size.
func validationRules() *rules.Rules {
	r := rules.NewDefaultRules()
	r.AddRule("DefaultPageSize", defaultPageSizeRule)
	return r
}

func defaultPageSizeRule(observers *core.Events, _ core.AddErrFunc) {
	observers.OnField(func(_ *core.Walker, field *ast.Field) {
		if !isConnection(field) {
			return
		}
		field.Arguments = slices.DeleteFunc(field.Arguments, func(a *ast.Argument) bool {
			return a.Value != nil && a.Value.Kind == ast.NullValue &&
				(a.Name == "first" || a.Name == "last" || a.Name == "orderBy")
		})
		if field.Arguments.ForName("first") != nil || field.Arguments.ForName("last") != nil {
			return
		}
		name := "first"
		if field.Arguments.ForName("before") != nil && field.Arguments.ForName("after") == nil {
			name = "last"
		}
		field.Arguments = append(field.Arguments, &ast.Argument{
			Name:     name,
			Position: field.Position,
			Value: &ast.Value{
				Kind:         ast.IntValue,
				Raw:          strconv.Itoa(DefaultPageSize),
				Position:     field.Position,
				ExpectedType: field.Definition.Arguments.ForName(name).Type,
			},
		})
	})
}

// isConnection reports whether field is a Relay connection with first/last.
func isConnection(field *ast.Field) bool {
	def := field.Definition
	return def != nil &&
		strings.HasSuffix(def.Type.Name(), "Connection") &&
		def.Arguments.ForName("first") != nil &&
		def.Arguments.ForName("last") != nil
}

// pageSizeGuard checks, before any resolver runs, that Query.nodes asks for
// at most 100 ids and that every connection in
// the operation asks for 1 to 100 rows through first or last (not both), and
// pages forwards (first, after) or backwards (last, before): entgql applies a
// before cursor as if it were an after one when paging forwards (and the
// reverse), so those mixes would return a wrong page. A first, last or
// orderBy given as a variable that turns out null falls back to the
// default.
type pageSizeGuard struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = pageSizeGuard{}

func (pageSizeGuard) ExtensionName() string                   { return "PageSizeGuard" }
func (pageSizeGuard) Validate(graphql.ExecutableSchema) error { return nil }
func (pageSizeGuard) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	w := connectionWalker{oc: oc, seen: map[string]bool{}}
	return w.walk(oc.Operation.SelectionSet)
}

type connectionWalker struct {
	oc       *graphql.OperationContext
	seen     map[string]bool // fragments already checked
	copiedVs bool            // oc.Variables copied before the first write
}

func (w *connectionWalker) walk(set ast.SelectionSet) *gqlerror.Error {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if isConnection(s) {
				if err := w.check(s); err != nil {
					return err
				}
			}
			if err := w.checkNodes(s); err != nil {
				return err
			}
			if err := w.checkHasta(s); err != nil {
				return err
			}
			if err := w.walk(s.SelectionSet); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := w.walk(s.SelectionSet); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			if w.seen[s.Name] || s.Definition == nil {
				continue
			}
			w.seen[s.Name] = true
			if err := w.walk(s.Definition.SelectionSet); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *connectionWalker) check(field *ast.Field) *gqlerror.Error {
	args := field.ArgumentMap(w.oc.Variables)
	first, last := args["first"], args["last"]
	fail := func(fields map[string]string) *gqlerror.Error {
		return requestError(apperror.InvalidFields(fields), field.Position)
	}
	w.nullOrderVariable(field)
	switch {
	case first != nil && last != nil:
		msg := "Use first o last, no ambos."
		return fail(map[string]string{"first": msg, "last": msg})
	case first == nil && last == nil:
		w.defaultVariable(field)
		args = field.ArgumentMap(w.oc.Variables)
		first, last = args["first"], args["last"]
	}
	switch {
	case first != nil && args["before"] != nil:
		return fail(map[string]string{"before": "Para retroceder use before con last; para avanzar, after con first."})
	case last != nil && args["after"] != nil:
		return fail(map[string]string{"after": "Para avanzar use after con first; para retroceder, before con last."})
	}
	for name, v := range map[string]any{"first": first, "last": last} {
		if v == nil {
			continue
		}
		n, err := graphql.UnmarshalInt(v)
		if err != nil || n < 1 || n > MaxPageSize {
			return fail(map[string]string{name: fmt.Sprintf(
				"Debe estar entre 1 y %d en %s (se recibió %v).", MaxPageSize, field.Alias, v)})
		}
	}
	return nil
}

// checkNodes refuses Query.nodes with more ids than a page, before anything
// runs: in a resolver, other fields of the operation would already have run.
func (w *connectionWalker) checkNodes(field *ast.Field) *gqlerror.Error {
	if field.Name != "nodes" || field.ObjectDefinition == nil || field.ObjectDefinition.Name != "Query" {
		return nil
	}
	if ids, ok := field.ArgumentMap(w.oc.Variables)["ids"].([]any); ok && len(ids) > MaxPageSize {
		return requestError(apperror.Invalid("ids", fmt.Sprintf("Admite como máximo %d IDs por consulta.", MaxPageSize)), field.Position)
	}
	return nil
}

// checkHasta refuses a bounded count (conteoFacturas and the like) whose
// hasta is outside 1…conteo.HastaMaximo, before anything runs, as check
// does for first and last. A null hasta means the default.
func (w *connectionWalker) checkHasta(field *ast.Field) *gqlerror.Error {
	if !isBoundedCount(field) {
		return nil
	}
	v := field.ArgumentMap(w.oc.Variables)["hasta"]
	if v == nil {
		return nil
	}
	n, err := graphql.UnmarshalInt(v)
	if err != nil {
		return requestError(conteo.HastaInvalido(v), field.Position)
	}
	if e := conteo.ValidarHasta(n); e != nil {
		return requestError(e, field.Position)
	}
	return nil
}

// isBoundedCount reports whether field is a bounded count: a Conteo
// with a hasta argument.
func isBoundedCount(field *ast.Field) bool {
	def := field.Definition
	return def != nil && def.Type.Name() == "Conteo" && def.Arguments.ForName("hasta") != nil
}

// defaultVariable handles `first: $n` with $n null or omitted: the variable
// becomes the default page size for this request.
func (w *connectionWalker) defaultVariable(field *ast.Field) {
	for _, name := range []string{"first", "last"} {
		arg := field.Arguments.ForName(name)
		if arg == nil || arg.Value.Kind != ast.Variable {
			continue
		}
		w.variables()[arg.Value.Raw] = int64(DefaultPageSize)
		return
	}
}

// nullOrderVariable handles `orderBy: $o` with $o null: the variable is
// dropped for this request, so the argument's default order applies, as when
// $o is omitted.
func (w *connectionWalker) nullOrderVariable(field *ast.Field) {
	arg := field.Arguments.ForName("orderBy")
	if arg == nil || arg.Value.Kind != ast.Variable {
		return
	}
	if v, ok := w.oc.Variables[arg.Value.Raw]; ok && v == nil {
		delete(w.variables(), arg.Value.Raw)
	}
}

// variables returns the request's variables, copied before the first write
// (the map may be shared with the caller).
func (w *connectionWalker) variables() map[string]any {
	if !w.copiedVs {
		w.oc.Variables = maps.Clone(w.oc.Variables)
		if w.oc.Variables == nil {
			w.oc.Variables = map[string]any{}
		}
		w.copiedVs = true
	}
	return w.oc.Variables
}
