package telemetry_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/despacho"
	"github.com/banpro/factoring/internal/testkit"
)

// deployDir is the repository's deploy/ directory.
var deployDir = filepath.Join("..", "..", "deploy")

// promqlNoise matches what in a PromQL expression is not a metric name:
// strings, label matchers, grouping lists, ranges, Grafana variables.
var promqlNoise = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|\{[^}]*\}|\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)|\[[^\]]*\]|\$\w+`)

// identifier is a name in what is left, with what follows it.
var identifier = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*(\s*\()?`)

// promqlWords are PromQL's keywords, never metrics.
var promqlWords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true, "inf": true, "nan": true}

// metricNames returns the metric names expr reads: the identifiers that are
// neither functions, keywords nor label names.
func metricNames(expr string) []string {
	var out []string
	for _, m := range identifier.FindAllStringSubmatch(promqlNoise.ReplaceAllString(expr, " "), -1) {
		name := strings.TrimSpace(m[0])
		if m[1] != "" || promqlWords[strings.ToLower(name)] {
			continue // a function call, or a keyword
		}
		out = append(out, name)
	}
	return out
}

func TestNombresDeMetricasEnPromQL(t *testing.T) {
	assert.Equal(t, []string{"factoring_graphql_request_duration_seconds_bucket"}, metricNames(
		`histogram_quantile(0.99, sum by (le, operation_name) (rate(factoring_graphql_request_duration_seconds_bucket{instance=~"$instance", code=~"A|B"}[$__rate_interval])))`))
	assert.Equal(t, []string{"go_sql_in_use_connections", "go_sql_max_open_connections"}, metricNames(
		`max by (instance) (go_sql_in_use_connections{db_name="x"}) / max by (instance) (go_sql_max_open_connections) > 0.9`))
	assert.Equal(t, []string{"up"}, metricNames(`up{job="factoring"} == 0 and on(instance) 1`))
}

// exposed is the set of series names the registry exposes: each family's
// name, and for histograms and summaries their _bucket, _sum and _count.
func exposed(families map[string]*dto.MetricFamily) map[string]bool {
	out := map[string]bool{}
	for name, f := range families {
		out[name] = true
		if f.GetType() == dto.MetricType_HISTOGRAM || f.GetType() == dto.MetricType_SUMMARY {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				out[name+suffix] = true
			}
		}
	}
	return out
}

// Ensure that the Grafana dashboard and the Prometheus alerts read only
// metrics the server exposes (after one request of each kind, with the
// dispatcher's metrics registered as serve registers them), so that a
// renamed metric fails here rather than silently emptying a panel or an
// alert; and that the Prometheus configuration, the alerts and the compose
// file point at one another.
func TestTablerosYAlertasUsanMetricasQueExisten(t *testing.T) {
	s := newServer(t, testkit.SQLiteWith, false)
	_, err := despacho.NuevasMetricas(s.Tel.Registry(), s.DB)
	require.NoError(t, err)
	s.must(token(t, "luis", auth.Lector), cartera, nil)
	s.must(token(t, "ana", auth.Analista), crearCliente, clienteInput("Comercial Tablero SpA"))
	have := exposed(s.scrape())
	// up is Prometheus's own, about the scrape.
	have["up"] = true

	var exprs []string // "file: expr"
	raw, err := os.ReadFile(filepath.Join(deployDir, "grafana", "dashboard.json"))
	require.NoError(t, err)
	var dash struct {
		UID    string
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
		Templating struct{ List []struct{ Definition string } }
	}
	require.NoError(t, json.Unmarshal(raw, &dash), "dashboard.json is JSON")
	assert.NotEmpty(t, dash.UID)
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			require.NotEmpty(t, tg.Expr, "panel %q", p.Title)
			exprs = append(exprs, "dashboard.json "+p.Title+": "+tg.Expr)
		}
	}
	for _, v := range dash.Templating.List {
		if v.Definition != "" {
			exprs = append(exprs, "dashboard.json variable: "+strings.NewReplacer("label_values(", "", ", instance)", "").Replace(v.Definition))
		}
	}

	raw, err = os.ReadFile(filepath.Join(deployDir, "prometheus", "alerts.yml"))
	require.NoError(t, err)
	var alerts struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert, Expr, For string
				Labels           map[string]string
				Annotations      map[string]string
			}
		}
	}
	require.NoError(t, yaml.Unmarshal(raw, &alerts), "alerts.yml is YAML")
	var alertNames []string
	for _, g := range alerts.Groups {
		for _, r := range g.Rules {
			alertNames = append(alertNames, r.Alert)
			require.NotEmpty(t, r.Expr, r.Alert)
			assert.NotEmpty(t, r.Labels["severity"], "%s has a severity", r.Alert)
			assert.NotEmpty(t, r.Annotations["summary"], "%s says what happened", r.Alert)
			exprs = append(exprs, "alerts.yml "+r.Alert+": "+r.Expr)
		}
	}
	for _, want := range []string{"FactoringTasaDeErroresAlta", "FactoringLatenciaP99Alta", "FactoringOutboxAtrasado",
		"FactoringWebhooksMuertos", "FactoringPoolDeConexionesSaturado"} {
		assert.Contains(t, alertNames, want)
	}

	checked := 0
	for _, e := range exprs {
		names := metricNames(e[strings.Index(e, ": ")+2:])
		assert.NotEmpty(t, names, "%s reads no metric?", e)
		for _, n := range names {
			checked++
			assert.True(t, have[n], "%s reads %s, which the server does not expose", e, n)
		}
	}
	t.Logf("%d metric references checked in %d expressions", checked, len(exprs))

	// prometheus.yml loads alerts.yml and scrapes the admin port compose
	// gives the API.
	raw, err = os.ReadFile(filepath.Join(deployDir, "prometheus", "prometheus.yml"))
	require.NoError(t, err)
	var prom struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName       string                       `yaml:"job_name"`
			MetricsPath   string                       `yaml:"metrics_path"`
			StaticConfigs []struct{ Targets []string } `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &prom), "prometheus.yml is YAML")
	assert.Equal(t, []string{"alerts.yml"}, prom.RuleFiles)
	require.Len(t, prom.ScrapeConfigs, 1)
	job := prom.ScrapeConfigs[0]
	assert.Equal(t, "factoring", job.JobName, "the alerts' up{job=…}")
	assert.Equal(t, "/metrics", job.MetricsPath)
	require.Len(t, job.StaticConfigs, 1)
	assert.Equal(t, []string{"api:9090"}, job.StaticConfigs[0].Targets)

	raw, err = os.ReadFile(filepath.Join("..", "..", "docker-compose.yml"))
	require.NoError(t, err)
	var compose struct {
		Services map[string]struct {
			Profiles    []string
			Environment map[string]string
			Volumes     []string
			Ports       []string
		}
	}
	require.NoError(t, yaml.Unmarshal(raw, &compose), "docker-compose.yml is YAML")
	api := compose.Services["api"]
	assert.Equal(t, ":9090", api.Environment["FACTORING_ADMIN_ADDR"], "the target prometheus.yml scrapes")
	assert.NotContains(t, strings.Join(api.Ports, " "), "9090", "the admin listener is never published")
	assert.Contains(t, api.Environment, "OTEL_EXPORTER_OTLP_ENDPOINT")
	for _, name := range []string{"prometheus", "jaeger"} {
		svc, ok := compose.Services[name]
		require.True(t, ok, name)
		assert.Equal(t, []string{"observability"}, svc.Profiles, "%s only with --profile observability", name)
	}
	assert.True(t, slices.Contains(compose.Services["prometheus"].Volumes, "./deploy/prometheus:/etc/prometheus:ro"))
}
