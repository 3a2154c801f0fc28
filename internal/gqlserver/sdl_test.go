package gqlserver_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/banpro/factoring/graph"
	"github.com/banpro/factoring/internal/gqlserver"
	"github.com/banpro/factoring/internal/testkit"
)

// Ensure that the SDL served at /schema.graphql is the whole public schema:
// the generated entgql types and the hand-written queries and scalars,
// without the code-generation directives that name the server's Go
// packages; that it parses as a schema on its own; and that it says what
// introspection says, type by type, field by field.
func TestSDL(t *testing.T) {
	sdl := gqlserver.SDL(graph.NewSchema(nil, graph.Services{}))
	for _, want := range []string{"type Cliente implements Node", "type Factura implements Node", "type Operacion implements Node",
		"type OperacionEvento implements Node", "type Mutation", "type Query", "scalar Decimal", "scalar Date", "clientePorRut(rut: String!): Cliente",
		"enum EstadoCliente {", "interface Node {"} {
		assert.Contains(t, sdl, want)
	}
	for _, internal := range []string{"github.com", "@goModel", "@goField", "@goTag", "@goExtraField", "@goEnum", "directive @go"} {
		assert.NotContains(t, sdl, internal, "the SDL names nothing of the server's code")
	}

	db := testkit.SQLite(t)
	c, _ := testkit.Serve(t, db, testkit.ServeOptions{})
	req, err := http.NewRequest(http.MethodGet, c.URL()+"/schema.graphql", nil)
	require.NoError(t, err)
	served := c.Send(req)
	require.Equal(t, http.StatusOK, served.Status)
	assert.Equal(t, sdl, served.Raw, "/schema.graphql serves the public SDL")

	parsed, gqlErr := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: served.Raw})
	require.Nil(t, gqlErr, "the SDL parses as a schema")

	var intro struct {
		Schema introSchema `json:"__schema"`
	}
	res := c.Do(introspectionQuery, nil)
	require.Empty(t, res.Errors, res.Raw)
	require.NoError(t, json.Unmarshal(res.Data, &intro))
	assert.Equal(t, describeIntrospection(intro.Schema), describeSchema(parsed), "the SDL says what introspection says")
}

const introspectionQuery = `{ __schema {
  queryType { name } mutationType { name } subscriptionType { name }
  types {
    kind name description
    fields(includeDeprecated: true) { name description args { name description type { ...T } defaultValue } type { ...T } isDeprecated deprecationReason }
    inputFields { name description type { ...T } defaultValue }
    interfaces { name }
    enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
    possibleTypes { name }
  }
} }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }`

type introType struct {
	Kind   string     `json:"kind"`
	Name   *string    `json:"name"`
	OfType *introType `json:"ofType"`
}

func (t introType) String() string {
	switch t.Kind {
	case "NON_NULL":
		return t.OfType.String() + "!"
	case "LIST":
		return "[" + t.OfType.String() + "]"
	}
	return *t.Name
}

type introValue struct {
	Name         string    `json:"name"`
	Description  *string   `json:"description"`
	Type         introType `json:"type"`
	DefaultValue *string   `json:"defaultValue"`
}

type introSchema struct {
	QueryType        struct{ Name string }  `json:"queryType"`
	MutationType     *struct{ Name string } `json:"mutationType"`
	SubscriptionType *struct{ Name string } `json:"subscriptionType"`
	Types            []struct {
		Kind        string  `json:"kind"`
		Name        string  `json:"name"`
		Description *string `json:"description"`
		Fields      []struct {
			Name              string       `json:"name"`
			Description       *string      `json:"description"`
			Args              []introValue `json:"args"`
			Type              introType    `json:"type"`
			IsDeprecated      bool         `json:"isDeprecated"`
			DeprecationReason *string      `json:"deprecationReason"`
		} `json:"fields"`
		InputFields []introValue            `json:"inputFields"`
		Interfaces  []struct{ Name string } `json:"interfaces"`
		EnumValues  []struct {
			Name              string  `json:"name"`
			Description       *string `json:"description"`
			IsDeprecated      bool    `json:"isDeprecated"`
			DeprecationReason *string `json:"deprecationReason"`
		} `json:"enumValues"`
		PossibleTypes []struct{ Name string } `json:"possibleTypes"`
	} `json:"types"`
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// describeIntrospection lists, one line each, the roots and every type
// (built-in and introspection types left out), field, argument, input field
// and enum value introspection reports, sorted.
func describeIntrospection(s introSchema) []string {
	out := []string{"query " + s.QueryType.Name}
	if s.MutationType != nil {
		out = append(out, "mutation "+s.MutationType.Name)
	}
	if s.SubscriptionType != nil {
		out = append(out, "subscription "+s.SubscriptionType.Name)
	}
	for _, t := range s.Types {
		if strings.HasPrefix(t.Name, "__") || builtin(t.Name) {
			continue
		}
		var ifaces, possible []string
		for _, i := range t.Interfaces {
			ifaces = append(ifaces, i.Name)
		}
		for _, p := range t.PossibleTypes {
			possible = append(possible, p.Name)
		}
		out = append(out, typeLine(t.Kind, t.Name, str(t.Description), ifaces, possible))
		for _, f := range t.Fields {
			out = append(out, fieldLine(t.Name, f.Name, f.Type.String(), str(f.Description), f.IsDeprecated, str(f.DeprecationReason)))
			for _, a := range f.Args {
				out = append(out, valueLine(t.Name+"."+f.Name, a.Name, a.Type.String(), str(a.Description), str(a.DefaultValue)))
			}
		}
		for _, f := range t.InputFields {
			out = append(out, valueLine(t.Name, f.Name, f.Type.String(), str(f.Description), str(f.DefaultValue)))
		}
		for _, v := range t.EnumValues {
			out = append(out, fieldLine(t.Name, v.Name, "", str(v.Description), v.IsDeprecated, str(v.DeprecationReason)))
		}
	}
	sort.Strings(out)
	return out
}

// describeSchema lists the same of a parsed schema.
func describeSchema(s *ast.Schema) []string {
	out := []string{"query " + s.Query.Name}
	if s.Mutation != nil {
		out = append(out, "mutation "+s.Mutation.Name)
	}
	if s.Subscription != nil {
		out = append(out, "subscription "+s.Subscription.Name)
	}
	for name, t := range s.Types {
		if strings.HasPrefix(name, "__") || builtin(name) {
			continue
		}
		var possible []string
		if t.Kind == ast.Interface || t.Kind == ast.Union {
			for _, p := range s.GetPossibleTypes(t) {
				possible = append(possible, p.Name)
			}
		}
		out = append(out, typeLine(string(t.Kind), name, t.Description, t.Interfaces, possible))
		for _, f := range t.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			if t.Kind == ast.InputObject {
				out = append(out, valueLine(name, f.Name, f.Type.String(), f.Description, defaultValue(f.DefaultValue)))
				continue
			}
			dep := f.Directives.ForName("deprecated")
			out = append(out, fieldLine(name, f.Name, f.Type.String(), f.Description, dep != nil, deprecationReason(dep)))
			for _, a := range f.Arguments {
				out = append(out, valueLine(name+"."+f.Name, a.Name, a.Type.String(), a.Description, defaultValue(a.DefaultValue)))
			}
		}
		for _, v := range t.EnumValues {
			dep := v.Directives.ForName("deprecated")
			out = append(out, fieldLine(name, v.Name, "", v.Description, dep != nil, deprecationReason(dep)))
		}
	}
	sort.Strings(out)
	return out
}

func builtin(name string) bool {
	return slices.Contains([]string{"String", "Int", "Float", "Boolean", "ID"}, name)
}

func typeLine(kind, name, description string, ifaces, possible []string) string {
	slices.Sort(ifaces)
	slices.Sort(possible)
	return fmt.Sprintf("%s %s implements %v possible %v %q", kind, name, ifaces, possible, description)
}

func fieldLine(parent, name, typ, description string, deprecated bool, reason string) string {
	return fmt.Sprintf("%s.%s: %s %q deprecated=%v %q", parent, name, typ, description, deprecated, reason)
}

func valueLine(parent, name, typ, description, def string) string {
	return fmt.Sprintf("%s(%s: %s = %s) %q", parent, name, typ, def, description)
}

func defaultValue(v *ast.Value) string {
	if v == nil {
		return ""
	}
	return v.String()
}

func deprecationReason(d *ast.Directive) string {
	if d == nil {
		return ""
	}
	if a := d.Arguments.ForName("reason"); a != nil {
		return a.Value.Raw
	}
	return "No longer supported"
}
