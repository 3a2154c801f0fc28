package graph

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/banpro/factoring/internal/apperror"
)

// Page sizes of every connection, root and nested (api.md): no query returns
// an unbounded list.
const (
	DefaultPageSize = 50
	MaxPageSize     = 100
)

// entgql reads pagination arguments straight from the query document, both
// in the resolvers and when it eager-loads nested connections, and loads
// every row when first and last are both absent. So the default page size is
// written into the document itself: when a query is parsed (once, before the
// query cache shares it), every connection field with neither first nor last
// gets `first: 50`. Values are then checked per request, once variables are
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
		if field.Arguments.ForName("first") != nil || field.Arguments.ForName("last") != nil {
			return
		}
		field.Arguments = append(field.Arguments, &ast.Argument{
			Name:     "first",
			Position: field.Position,
			Value: &ast.Value{
				Kind:         ast.IntValue,
				Raw:          strconv.Itoa(DefaultPageSize),
				Position:     field.Position,
				ExpectedType: field.Definition.Arguments.ForName("first").Type,
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

// pageSizeGuard checks, before any resolver runs, that every connection in
// the operation asks for 1 to 100 rows through first or last (not both). A
// first or last given as a variable that turns out null falls back to the
// default page size.
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
	switch {
	case first != nil && last != nil:
		msg := "Use first o last, no ambos."
		return fail(map[string]string{"first": msg, "last": msg})
	case first == nil && last == nil:
		w.defaultVariable(field)
		return nil
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

// defaultVariable handles `first: $n` with $n null or omitted: the variable
// becomes the default page size for this request.
func (w *connectionWalker) defaultVariable(field *ast.Field) {
	for _, name := range []string{"first", "last"} {
		arg := field.Arguments.ForName(name)
		if arg == nil || arg.Value.Kind != ast.Variable {
			continue
		}
		if !w.copiedVs {
			w.oc.Variables = maps.Clone(w.oc.Variables)
			if w.oc.Variables == nil {
				w.oc.Variables = map[string]any{}
			}
			w.copiedVs = true
		}
		w.oc.Variables[arg.Value.Raw] = int64(DefaultPageSize)
		return
	}
}
