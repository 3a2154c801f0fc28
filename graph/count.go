package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// pagedContext returns the context to give entgql's Paginate and
// CollectFields: the current field's selection with pageInfo taken out of
// every connection that selects edges but not totalCount.
//
// entgql runs a COUNT(*) for a connection whenever pageInfo is selected,
// although it computes pageInfo from the page itself (it fetches first+1
// rows); the count is only needed for totalCount, or for pageInfo without
// edges. Hiding pageInfo from entgql in those cases saves a statement per
// connection. The response is not affected: gqlgen marshals it from the
// original selection, and the connection's PageInfo is filled all the same.
// Selections inside named fragments are left as they are (entgql may count
// there).
func pagedContext(ctx context.Context) context.Context {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil {
		return ctx
	}
	pruned, changed := pruneCountlessPageInfo(fc.Field.Selections, isConnection(fc.Field.Field))
	if !changed {
		return ctx
	}
	field := *fc.Field.Field
	field.SelectionSet = pruned
	nfc := *fc
	nfc.Field.Field = &field
	nfc.Field.Selections = pruned
	ctx = graphql.WithFieldContext(ctx, &nfc)
	nfc.Parent = fc.Parent // WithFieldContext made fc the parent: keep paths as they were
	return ctx
}

// pruneCountlessPageInfo returns set without the pageInfo entgql would count
// for, copying only what changes.
func pruneCountlessPageInfo(set ast.SelectionSet, connection bool) (ast.SelectionSet, bool) {
	drop := connection && selectsDirectly(set, "edges") && !selectsDirectly(set, "totalCount") && !hasFragments(set)
	var out ast.SelectionSet
	changed := false
	for i, sel := range set {
		next := sel
		switch s := sel.(type) {
		case *ast.Field:
			if drop && s.Name == "pageInfo" {
				next = nil
				break
			}
			if children, ok := pruneCountlessPageInfo(s.SelectionSet, isConnection(s)); ok {
				f := *s
				f.SelectionSet = children
				next = &f
			}
		case *ast.InlineFragment:
			if children, ok := pruneCountlessPageInfo(s.SelectionSet, false); ok {
				f := *s
				f.SelectionSet = children
				next = &f
			}
		}
		if next != sel && !changed {
			changed = true
			out = append(ast.SelectionSet{}, set[:i]...)
		}
		if changed && next != nil {
			out = append(out, next)
		}
	}
	if !changed {
		return set, false
	}
	return out, true
}

func selectsDirectly(set ast.SelectionSet, name string) bool {
	for _, sel := range set {
		if f, ok := sel.(*ast.Field); ok && f.Name == name {
			return true
		}
	}
	return false
}

func hasFragments(set ast.SelectionSet) bool {
	for _, sel := range set {
		if _, ok := sel.(*ast.Field); !ok {
			return true
		}
	}
	return false
}

// isConnection reports whether field is a Relay connection with first/last.
// (internal/gqlserver applies the page-size policy to the same fields.)
func isConnection(field *ast.Field) bool {
	def := field.Definition
	return def != nil &&
		strings.HasSuffix(def.Type.Name(), "Connection") &&
		def.Arguments.ForName("first") != nil &&
		def.Arguments.ForName("last") != nil
}
