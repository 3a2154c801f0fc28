//go:build ignore

// entc.go runs ent's code generation with the entgql extension. It is the one
// place that holds ent's feature flags; `make generate` runs it before gqlgen.
package main

import (
	"fmt"
	"log"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
	"github.com/vektah/gqlparser/v2/ast"
)

// defaultOrders is the order every connection of a type uses when the client
// gives no orderBy: newest first, except an entity's history (its events),
// which reads in the order it happened. They become argument defaults in
// the schema, so the playground shows them and entgql's eager loading
// applies them too.
var defaultOrders = map[string]struct{ field, direction string }{
	"ClienteOrder":         {"CREADO_EN", "DESC"},
	"FacturaOrder":         {"CREADO_EN", "DESC"},
	"DeudorOrder":          {"CREADO_EN", "DESC"},
	"OperacionOrder":       {"FECHA_SOLICITUD", "DESC"},
	"OperacionEventoOrder": {"FECHA", "ASC"},
	"EventoAuditoriaOrder": {"FECHA", "ASC"},
	"PagoOrder":            {"FECHA", "ASC"},
	"WebhookOrder":         {"CREADO_EN", "DESC"},
	"EntregaOrder":         {"FECHA", "DESC"},
}

// fieldOrders overrides defaultOrders for one field ("Type.field"): the
// audit trail searched across entities answers newest first, like every
// other root list, while one entity's history reads in order.
var fieldOrders = map[string]struct{ field, direction string }{
	"Query.auditoria": {"FECHA", "DESC"},
}

// setDefaultOrders is an entgql schema hook: it gives every orderBy argument
// its type's default order.
func setDefaultOrders(_ *gen.Graph, s *ast.Schema) error {
	seen := map[string]bool{}
	for _, def := range s.Types {
		for _, f := range def.Fields {
			arg := f.Arguments.ForName("orderBy")
			if arg == nil {
				continue
			}
			order, ok := defaultOrders[arg.Type.Name()]
			if o, override := fieldOrders[def.Name+"."+f.Name]; override {
				order, ok = o, true
				seen[def.Name+"."+f.Name] = true
			}
			if !ok {
				return fmt.Errorf("%s.%s: no default order for %s", def.Name, f.Name, arg.Type.Name())
			}
			arg.DefaultValue = &ast.Value{Kind: ast.ObjectValue, Children: ast.ChildValueList{
				{Name: "direction", Value: &ast.Value{Kind: ast.EnumValue, Raw: order.direction}},
				{Name: "field", Value: &ast.Value{Kind: ast.EnumValue, Raw: order.field}},
			}}
			seen[arg.Type.Name()] = true
		}
	}
	for name := range defaultOrders {
		if !seen[name] {
			return fmt.Errorf("default order for %s matches no orderBy argument", name)
		}
	}
	for name := range fieldOrders {
		if !seen[name] {
			return fmt.Errorf("default order for %s matches no orderBy argument", name)
		}
	}
	return nil
}

// dialecto adds Tx.Dialect to the generated package: the few statements
// that exist in one dialect only (PostgreSQL's pg_notify, which wakes the
// subscription feeds of every server when an event commits) ask it.
const dialecto = `{{ define "dialecto" }}
{{ template "header" $ }}

// Dialect is the SQL dialect of the database the transaction runs on
// (dialect.Postgres or dialect.SQLite).
func (tx *Tx) Dialect() string { return tx.config.driver.Dialect() }
{{ end }}`

func main() {
	ex, err := entgql.NewExtension(
		entgql.WithConfigPath("gqlgen.yml"),
		entgql.WithSchemaGenerator(),
		entgql.WithSchemaPath("ent.graphql"),
		entgql.WithWhereInputs(true),
		entgql.WithSchemaHook(setDefaultOrders),
	)
	if err != nil {
		log.Fatalf("entgql extension: %v", err)
	}
	err = entc.Generate("./ent/schema", &gen.Config{
		Target:  "./ent",
		Package: "github.com/banpro/factoring/ent",
		Templates: []*gen.Template{
			gen.MustParse(gen.NewTemplate("dialecto").Parse(dialecto)),
		},
		Features: []gen.Feature{
			gen.FeatureVersionedMigration, // migrations are Atlas files, never auto-migration
			gen.FeatureLock,               // SELECT ... FOR UPDATE for the domain mutations
			gen.FeatureModifier,           // per-parent limits in entgql's eager loading
			gen.FeatureExecQuery,          // raw SQL for the invariant checker
			gen.FeatureGlobalID,           // one 2^32 id range per type: Relay node ids
		},
	}, entc.Extensions(ex))
	if err != nil {
		log.Fatalf("ent codegen: %v", err)
	}
}
