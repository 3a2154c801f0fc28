//go:build ignore

// entc.go runs ent's code generation with the entgql extension. It is the one
// place that holds ent's feature flags; `make generate` runs it before gqlgen.
package main

import (
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

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

// The change to entgql's collection template (see patchedTemplate): the
// nested page of a connection under a list of parents is loaded once all the
// parents are known, with paginacion.PorPadre, instead of with entgql's
// window function; the loader itself is ent's, called as ent calls it for a
// named edge.
const (
	limitePorFila = `modify := entgql.LimitPerRow({{ $fk }}, limit, pager.orderExpr(query))
									query.modifiers = append(query.modifiers, modify)`
	limitePorPadre = `orden := pager.orderExpr(query)
									{{ $receiver }}.loadTotal = append({{ $receiver }}.loadTotal, func(ctx context.Context, nodes []*{{ $node.Name }}) error {
										padres := make([]int, len(nodes))
										for i := range nodes {
											padres[i] = nodes[i].ID
										}
										q := *query
										q.predicates = q.predicates[:len(q.predicates):len(q.predicates)]
										q.modifiers = append(q.modifiers[:len(q.modifiers):len(q.modifiers)], paginacion.PorPadre({{ $fk }}, padres, limit, orden))
										q.porPadre = paginacion.Lateral({{ $receiver }}.driver.Dialect())
										return {{ $receiver }}.load{{ $e.StructField }}(ctx, &q, nodes,
											func(n *{{ $node.Name }}) { n.appendNamed{{ $e.StructField }}(alias) },
											func(n *{{ $node.Name }}, e *{{ $e.Type.Name }}) { n.appendNamed{{ $e.StructField }}(alias, e) })
									})
									continue`
	importEntgql     = `"entgo.io/contrib/entgql"`
	importPaginacion = `"entgo.io/contrib/entgql"
	"github.com/banpro/factoring/internal/paginacion"`
)

// The change to ent's query template: an edge loader whose query is marked
// porPadre leaves out its "parent IN (ids)" filter, because
// paginacion.PorPadre already names each parent in its LATERAL join, and the
// redundant list would hide the (parent, order) index's order from the
// planner.
const (
	inM2M         = `s.Where(sql.InValues(joinT.C({{ $.Package }}.{{ $e.PKConstant }}[{{ $fk2idx }}]), edgeIDs...))`
	inM2MPorPadre = `if !query.porPadre {
					s.Where(sql.InValues(joinT.C({{ $.Package }}.{{ $e.PKConstant }}[{{ $fk2idx }}]), edgeIDs...))
				}`
	inO2M         = `s.Where(sql.InValues(s.C({{ $.Package }}.{{ $e.ColumnConstant }}), fks...))`
	inO2MPorPadre = `if !query.porPadre {
					s.Where(sql.InValues(s.C({{ $.Package }}.{{ $e.ColumnConstant }}), fks...))
				}`
	// campoPorPadre adds the mark to every query builder.
	campoPorPadre = `{{ define "dialect/sql/query/fields/additional/porpadre" }}
	// porPadre is set on an eager-loading query whose page per parent
	// paginacion.PorPadre writes as a LATERAL join.
	porPadre bool
{{ end }}`
)

type replacement struct{ old, new string }

// patchedTemplate reads one of ent's or entgql's templates from the version
// in go.mod and makes the replacements in it, each of which must be found
// exactly once: an upgrade that moves them must be looked at, not silently
// lose the change. Neither offers a hook for these two changes.
func patchedTemplate(module, file string, funcs map[string]any, replacements ...replacement) (*gen.Template, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module).Output()
	if err != nil {
		return nil, fmt.Errorf("go list %s: %w", module, err)
	}
	path := filepath.Join(strings.TrimSpace(string(out)), file)
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	text := string(src)
	for _, r := range replacements {
		if n := strings.Count(text, r.old); n != 1 {
			return nil, fmt.Errorf("%s: se esperaba una vez %q y aparece %d veces: revise el cambio de versión", path, r.old, n)
		}
		text = strings.Replace(text, r.old, r.new, 1)
	}
	t := gen.NewTemplate(file)
	if funcs != nil {
		t = t.Funcs(funcs)
	}
	return t.Parse(text)
}

func main() {
	collection, err := patchedTemplate("entgo.io/contrib", "entgql/template/collection.tmpl", entgql.TemplateFuncs,
		replacement{limitePorFila, limitePorPadre}, replacement{importEntgql, importPaginacion})
	if err != nil {
		log.Fatalf("entgql collection template: %v", err)
	}
	loaders, err := patchedTemplate("entgo.io/ent", "entc/gen/template/dialect/sql/query.tmpl", nil,
		replacement{inM2M, inM2MPorPadre}, replacement{inO2M, inO2MPorPadre})
	if err != nil {
		log.Fatalf("ent query template: %v", err)
	}
	templates := []*gen.Template{collection}
	for _, t := range entgql.AllTemplates {
		if t != entgql.CollectionTemplate {
			templates = append(templates, t)
		}
	}
	ex, err := entgql.NewExtension(
		entgql.WithTemplates(templates...),
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
			loaders,
			gen.MustParse(gen.NewTemplate("porpadre").Parse(campoPorPadre)),
		},
		Features: []gen.Feature{
			gen.FeatureVersionedMigration, // migrations are Atlas files, never auto-migration
			gen.FeatureLock,               // SELECT ... FOR UPDATE for the domain mutations
			gen.FeatureModifier,           // per-parent pages in entgql's eager loading
			gen.FeatureExecQuery,          // raw SQL for the invariant checker
			gen.FeatureGlobalID,           // one 2^32 id range per type: Relay node ids
		},
	}, entc.Extensions(ex))
	if err != nil {
		log.Fatalf("ent codegen: %v", err)
	}
}
