package arch

import (
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/banpro/factoring"

// pkg is what go list reports about one package of the module: its direct
// imports and every package it depends on, test files left out.
type pkg struct {
	path    string
	imports []string
	deps    []string
}

// rule forbids the packages it applies to some imports: direct ones only,
// or any dependency at all (transitive).
type rule struct {
	name       string
	applies    func(path string) bool
	transitive bool
	forbidden  func(dep string) bool
}

// violation is one package crossing one rule.
type violation struct{ rule, pkg, dep string }

func (v violation) String() string { return v.rule + ": " + v.pkg + " → " + v.dep }

// check returns every violation of rules among pkgs.
func check(pkgs []pkg, rules []rule) []violation {
	var out []violation
	for _, r := range rules {
		for _, p := range pkgs {
			if !r.applies(p.path) {
				continue
			}
			deps := p.imports
			if r.transitive {
				deps = p.deps
			}
			for _, d := range deps {
				if r.forbidden(d) {
					out = append(out, violation{r.name, p.path, d})
				}
			}
		}
	}
	return out
}

// within reports whether path is pkg or a package below it.
func within(path, pkg string) bool { return path == pkg || strings.HasPrefix(path, pkg+"/") }

func anyOf(pkgs ...string) func(string) bool {
	return func(path string) bool {
		return slices.ContainsFunc(pkgs, func(p string) bool { return within(path, p) })
	}
}

// The packages the rules name.
var (
	// domainServices hold the business rules: they import ent and the
	// shared packages. (ent itself reaches gqlgen and net/http for its
	// generated GraphQL glue, so for them only direct imports count.)
	domainServices = []string{module + "/internal/clientes", module + "/internal/facturas", module + "/internal/operaciones",
		module + "/internal/deudores", module + "/internal/auditoria"}
	// shared are the small packages everything uses; they depend on
	// nothing of the kind, not even indirectly.
	shared = []string{module + "/internal/estado", module + "/internal/money", module + "/internal/rut",
		module + "/internal/clock", module + "/internal/apperror"}
	// transportLayers are GraphQL and HTTP: the domain never reaches them.
	transportLayers = []string{module + "/graph", module + "/internal/gqlserver", module + "/internal/httpserver"}
)

// testHelpers are the packages that exist for tests: test databases, the
// served API, the GraphQL test client, builders and assertions.
var testHelpers = []string{module + "/internal/testkit"}

// isTestHelper reports whether path is a package that exists for tests.
func isTestHelper(path string) bool { return anyOf(testHelpers...)(path) }

// isBenchmark reports whether path is part of the benchmark
// (cmd/benchmark and its internal packages).
func isBenchmark(path string) bool {
	return within(path, module) && strings.Contains(path, "/bench")
}

// rules is the module's layering.
var rules = []rule{
	{
		name:      "domain services import neither GraphQL nor HTTP",
		applies:   anyOf(domainServices...),
		forbidden: anyOf(append(transportLayers, "github.com/99designs/gqlgen", "net/http")...),
	},
	{
		name:       "the domain does not depend, even indirectly, on graph, gqlserver or httpserver",
		applies:    anyOf(append(domainServices, shared...)...),
		transitive: true,
		forbidden:  anyOf(transportLayers...),
	},
	{
		name:       "shared packages do not depend, even indirectly, on GraphQL or HTTP",
		applies:    anyOf(shared...),
		transitive: true,
		forbidden:  anyOf("github.com/99designs/gqlgen", "net/http"),
	},
	{
		name:    "the subscription hub imports neither GraphQL nor HTTP: the transports hand it their streams",
		applies: anyOf(module + "/internal/suscripciones"),
		forbidden: anyOf(append(transportLayers, "github.com/99designs/gqlgen", "net/http",
			"github.com/coder/websocket")...),
	},
	{
		name:       "httpserver is handed /graphql's handler: it depends on neither graph nor gqlserver",
		applies:    anyOf(module + "/internal/httpserver"),
		transitive: true,
		forbidden:  anyOf(module+"/graph", module+"/internal/gqlserver"),
	},
	{
		name:       "gqlserver is handed the schema: it does not depend on graph",
		applies:    anyOf(module + "/internal/gqlserver"),
		transitive: true,
		forbidden:  anyOf(module + "/graph"),
	},
	{
		name:       "the factoring binary does not link the benchmark",
		applies:    anyOf(module + "/cmd/factoring"),
		transitive: true,
		forbidden:  isBenchmark,
	},
	{
		name:       "product code does not depend on test helpers",
		applies:    func(path string) bool { return !isTestHelper(path) },
		transitive: true,
		forbidden:  isTestHelper,
	},
}

// pending are violations known when the rule was written, each waiting on
// a change under way. An entry that no longer happens fails the test too:
// delete it then.
var pending = []violation{}

// listModule asks go list for every package of the module.
func listModule(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-f",
		`{{.ImportPath}}|{{join .Imports " "}}|{{join .Deps " "}}{{if .Error}}|{{.Error}}{{end}}`, module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "go list: %s", stderr.String())
	var pkgs []pkg
	for line := range strings.Lines(string(out)) {
		parts := strings.Split(strings.TrimSuffix(line, "\n"), "|")
		require.Len(t, parts, 3, "go list: %s", line)
		pkgs = append(pkgs, pkg{path: parts[0], imports: strings.Fields(parts[1]), deps: strings.Fields(parts[2])})
	}
	require.NotEmpty(t, pkgs)
	return pkgs
}

// Ensure that the module's packages keep their layers: the domain knows
// nothing of GraphQL or HTTP, the HTTP shell nothing of the schema, the
// binary nothing of the benchmark, and product code nothing of the test
// helpers.
func TestCapas(t *testing.T) {
	pkgs := listModule(t)
	found := check(pkgs, rules)
	for _, v := range found {
		if !slices.Contains(pending, v) {
			t.Errorf("%s", v)
		}
	}
	for _, p := range pending {
		if !slices.Contains(found, p) {
			t.Errorf("%s no longer happens: delete it from pending", p)
		}
	}
	// The rules must have something to bite on: a rename that left a rule
	// matching no package would make it pass for nothing.
	for _, r := range rules {
		assert.True(t, slices.ContainsFunc(pkgs, func(p pkg) bool { return r.applies(p.path) }), "rule %q applies to no package", r.name)
	}
}

// Ensure that the checker finds each kind of violation, on import lists
// made up for the purpose.
func TestReglasDeCapas(t *testing.T) {
	m := func(p string) string { return module + "/" + p }
	clean := []pkg{
		{path: m("internal/clientes"), imports: []string{m("ent"), m("internal/apperror"), "context"},
			deps: []string{m("ent"), "github.com/99designs/gqlgen/graphql", "net/http", m("internal/apperror")}},
		{path: m("internal/money"), imports: []string{"github.com/shopspring/decimal"}, deps: []string{"github.com/shopspring/decimal"}},
		{path: m("internal/httpserver"), imports: []string{"net/http", m("internal/apperror")}, deps: []string{"net/http", m("internal/apperror")}},
		{path: m("internal/gqlserver"), imports: []string{"github.com/99designs/gqlgen/graphql"}, deps: []string{"github.com/99designs/gqlgen/graphql"}},
		{path: m("internal/app"), imports: []string{m("graph"), m("internal/gqlserver"), m("internal/httpserver")},
			deps: []string{m("graph"), m("internal/gqlserver"), m("internal/httpserver")}},
		{path: m("cmd/factoring"), imports: []string{m("internal/app")}, deps: []string{m("internal/app"), m("graph")}},
		{path: m("internal/testkit"), imports: []string{m("internal/app"), m("internal/database")},
			deps: []string{m("internal/app"), m("internal/database"), m("graph")}},
		{path: m("cmd/benchmark"), imports: []string{m("internal/bench")}, deps: []string{m("internal/bench")}},
	}
	require.Empty(t, check(clean, rules), "a module that keeps its layers")

	cases := []struct {
		name string
		pkg  pkg
		rule string
	}{
		{"un_servicio_importa_net_http", pkg{path: m("internal/facturas"), imports: []string{"net/http"}},
			"domain services import neither GraphQL nor HTTP"},
		{"un_servicio_importa_gqlgen", pkg{path: m("internal/operaciones"), imports: []string{"github.com/99designs/gqlgen/graphql/errcode"}},
			"domain services import neither GraphQL nor HTTP"},
		{"un_servicio_importa_graph", pkg{path: m("internal/clientes"), imports: []string{m("graph")}, deps: []string{m("graph")}},
			"domain services import neither GraphQL nor HTTP"},
		{"un_servicio_alcanza_httpserver_indirectamente", pkg{path: m("internal/clientes"), deps: []string{m("internal/httpserver")}},
			"the domain does not depend, even indirectly, on graph, gqlserver or httpserver"},
		{"apperror_alcanza_net_http_indirectamente", pkg{path: m("internal/apperror"), deps: []string{"net/http"}},
			"shared packages do not depend, even indirectly, on GraphQL or HTTP"},
		{"estado_importa_gqlgen", pkg{path: m("internal/estado"), imports: []string{"github.com/99designs/gqlgen/graphql"},
			deps: []string{"github.com/99designs/gqlgen/graphql"}},
			"shared packages do not depend, even indirectly, on GraphQL or HTTP"},
		{"httpserver_importa_graph", pkg{path: m("internal/httpserver"), imports: []string{m("graph")}, deps: []string{m("graph")}},
			"httpserver is handed /graphql's handler: it depends on neither graph nor gqlserver"},
		{"gqlserver_importa_graph", pkg{path: m("internal/gqlserver"), deps: []string{m("graph/scalar")}},
			"gqlserver is handed the schema: it does not depend on graph"},
		{"el_binario_enlaza_internal_bench", pkg{path: m("cmd/factoring"), deps: []string{m("internal/bench/dataset")}},
			"the factoring binary does not link the benchmark"},
		{"el_binario_enlaza_cmd_benchmark_internal", pkg{path: m("cmd/factoring"), deps: []string{m("cmd/benchmark/internal/loadgen")}},
			"the factoring binary does not link the benchmark"},
		{"producto_alcanza_testkit_indirectamente", pkg{path: m("internal/seed"), deps: []string{m("internal/testkit")}},
			"product code does not depend on test helpers"},
		{"el_binario_enlaza_testkit", pkg{path: m("cmd/factoring"), deps: []string{m("internal/testkit")}},
			"product code does not depend on test helpers"},
		{"producto_importa_testkit", pkg{path: m("internal/app"), deps: []string{m("internal/testkit")}},
			"product code does not depend on test helpers"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := check(append(slices.Clone(clean), tc.pkg), rules)
			require.NotEmpty(t, got, "the checker must catch it")
			var names []string
			for _, v := range got {
				assert.Equal(t, tc.pkg.path, v.pkg)
				names = append(names, v.rule)
			}
			assert.Contains(t, names, tc.rule)
		})
	}
}
