package gqlserver

import (
	"maps"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
)

// publicDirectives are the directives a client may see in the SDL: those
// of the GraphQL specification. The schema files also carry gqlgen's and
// entgql's code-generation directives (@goModel, @goField, …), which name
// the server's Go packages and mean nothing to a client; a directive
// defined for clients would be added here.
var publicDirectives = map[string]bool{
	"deprecated": true, "specifiedBy": true, "oneOf": true, "include": true, "skip": true, "defer": true,
}

// SDL renders schema as SDL, for /schema.graphql and `factoring schema`:
// what introspection tells, for codegen and review. It is the public
// schema: the code-generation directives, their definitions and every use
// of them are left out.
func SDL(schema graphql.ExecutableSchema) string {
	var b strings.Builder
	formatter.NewFormatter(&b, formatter.WithIndent("  ")).FormatSchema(publicSchema(schema.Schema()))
	return b.String()
}

// publicSchema is a copy of s without the directives clients do not see.
// The executor keeps using s itself: nothing of it is changed.
func publicSchema(s *ast.Schema) *ast.Schema {
	out := *s
	out.Directives = maps.Clone(s.Directives)
	maps.DeleteFunc(out.Directives, func(name string, _ *ast.DirectiveDefinition) bool { return !publicDirectives[name] })
	out.SchemaDirectives = publicUses(s.SchemaDirectives)
	out.Types = make(map[string]*ast.Definition, len(s.Types))
	for name, def := range s.Types {
		out.Types[name] = publicDefinition(def)
	}
	root := func(d *ast.Definition) *ast.Definition {
		if d == nil {
			return nil
		}
		return out.Types[d.Name]
	}
	out.Query, out.Mutation, out.Subscription = root(s.Query), root(s.Mutation), root(s.Subscription)
	return &out
}

func publicDefinition(d *ast.Definition) *ast.Definition {
	c := *d
	c.Directives = publicUses(d.Directives)
	c.Fields = make(ast.FieldList, len(d.Fields))
	for i, f := range d.Fields {
		fc := *f
		fc.Directives = publicUses(f.Directives)
		fc.Arguments = make(ast.ArgumentDefinitionList, len(f.Arguments))
		for j, a := range f.Arguments {
			ac := *a
			ac.Directives = publicUses(a.Directives)
			fc.Arguments[j] = &ac
		}
		c.Fields[i] = &fc
	}
	c.EnumValues = make(ast.EnumValueList, len(d.EnumValues))
	for i, v := range d.EnumValues {
		vc := *v
		vc.Directives = publicUses(v.Directives)
		c.EnumValues[i] = &vc
	}
	return &c
}

func publicUses(list ast.DirectiveList) ast.DirectiveList {
	var out ast.DirectiveList
	for _, d := range list {
		if publicDirectives[d.Name] {
			out = append(out, d)
		}
	}
	return out
}
