package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"entgo.io/ent/dialect"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/cmd/benchmark/internal/bench/dataset"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/testkit"
)

// EnvExplain, set to 1, runs TestExplain: it loads the whole benchmark
// dataset (about 10 s), so `make explain` and `make bench` run it, not
// `make test`.
const EnvExplain = "FACTORING_BENCH_EXPLAIN"

// largeTables are the tables a statement must never read whole: on the
// benchmark's dataset they hold 2,000 to 100,000 rows, and in production
// they grow without bound.
var largeTables = map[string]bool{
	"clientes": true, "facturas": true, "operaciones": true,
	"operacion_facturas": true, "operacion_eventos": true, "eventos_auditoria": true,
}

// TestExplain ensures that every SQL statement the API runs for the
// README's queries and the benchmark's Q1–Q3 is planned, at PostgreSQL's
// default settings and over the benchmark's dataset, without a sequential
// scan of a large table: it serves each query in process, records the
// statements ent sends, and EXPLAINs each one with its arguments.
//
// One sequential scan is accepted: a count (totalCount) over at least half
// of a table, which has to visit those rows whatever the plan; reading the
// table in order is then the cheapest way, and no index can do less.
func TestExplain(t *testing.T) {
	if os.Getenv(EnvExplain) != "1" {
		t.Skipf("%s=1 loads the whole benchmark dataset to check the plans (make explain)", EnvExplain)
	}
	ctx := context.Background()
	rec := &recorder{}
	db := testkit.PostgresWith(t, database.Options{WrapDriver: rec.wrap})
	sum, err := dataset.LoadDB(ctx, db, dataset.Config{Now: testkit.Hoy})
	require.NoError(t, err)
	t.Logf("dataset: %d clientes, %d facturas, %d operaciones, %d eventos", sum.Clientes, sum.Facturas, sum.Operaciones, sum.Eventos)
	api, _ := testkit.Serve(t, db, testkit.ServeOptions{})

	// A PENDIENTE operación with several facturas, as Q3 draws them.
	var opID int
	require.NoError(t, db.SQL.QueryRowContext(ctx, `SELECT operacion_id FROM operacion_facturas
		GROUP BY operacion_id ORDER BY count(*) DESC, operacion_id LIMIT 1`).Scan(&opID))
	vars := map[string]any{"id": gid.Encode(opID)}

	queries := []struct{ name, query string }{
		{"Q1", queryQ1}, {"Q2", queryQ2}, {"Q2+tc", queryQ2TotalCount}, {"Q3", queryQ3},
	}
	for i, q := range readmeQueries(t) {
		queries = append(queries, struct{ name, query string }{fmt.Sprintf("README %d", i+1), q})
	}
	for _, q := range queries {
		t.Run(q.name, func(t *testing.T) {
			rec.reset()
			res := api.Do(q.query, vars)
			for _, e := range res.Errors {
				// The README's sample RUT is not in the dataset; the
				// statements ran all the same.
				require.Equal(t, "NOT_FOUND", e.Extensions.Code, res.Raw)
			}
			stmts := rec.take()
			require.NotEmpty(t, stmts, "the query ran no SQL")
			for i, s := range stmts {
				plan := explain(t, db, s)
				t.Logf("statement %d: %s\n%s", i+1, s.query, plan.text)
				for _, scan := range plan.seqScans {
					t.Errorf("statement %d reads all of %s (Seq Scan):\n%s\nplan:\n%s", i+1, scan, s.query, plan.text)
				}
			}
		})
	}
}

// readmeQueries are the GraphQL queries (not the mutations) of the README's
// examples.
func readmeQueries(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile("../../../../README.md")
	require.NoError(t, err)
	var out []string
	for _, m := range regexp.MustCompile("(?s)```graphql\n(.*?)```").FindAllStringSubmatch(string(src), -1) {
		doc := strings.TrimSpace(m[1])
		if strings.HasPrefix(doc, "query") || strings.HasPrefix(doc, "{") {
			out = append(out, doc)
		}
	}
	require.NotEmpty(t, out, "README.md has no ```graphql query block")
	return out
}

type statement struct {
	query string
	args  []any
}

// recorder keeps every query statement sent through the drivers it wraps.
type recorder struct {
	mu    sync.Mutex
	stmts []statement
}

func (r *recorder) wrap(drv dialect.Driver) dialect.Driver {
	return &recordingDriver{Driver: drv, r: r}
}

func (r *recorder) add(query string, args any) {
	a, _ := args.([]any)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stmts = append(r.stmts, statement{query: query, args: append([]any(nil), a...)})
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stmts = nil
}

func (r *recorder) take() []statement {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stmts
	r.stmts = nil
	return s
}

type recordingDriver struct {
	dialect.Driver
	r *recorder
}

func (d *recordingDriver) Query(ctx context.Context, query string, args, v any) error {
	d.r.add(query, args)
	return d.Driver.Query(ctx, query, args, v)
}

func (d *recordingDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := d.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &recordingTx{Tx: tx, r: d.r}, nil
}

type recordingTx struct {
	dialect.Tx
	r *recorder
}

func (t *recordingTx) Query(ctx context.Context, query string, args, v any) error {
	t.r.add(query, args)
	return t.Tx.Query(ctx, query, args, v)
}

// plan is one statement's plan: as EXPLAIN prints it, and the large tables
// it reads with a sequential scan.
type plan struct {
	text     string
	seqScans []string
}

func explain(t *testing.T, db *database.DB, s statement) plan {
	t.Helper()
	ctx := context.Background()
	var p plan
	rows, err := db.SQL.QueryContext(ctx, "EXPLAIN "+s.query, s.args...)
	require.NoError(t, err)
	var lines []string
	for rows.Next() {
		var line string
		require.NoError(t, rows.Scan(&line))
		lines = append(lines, line)
	}
	require.NoError(t, rows.Err())
	p.text = strings.Join(lines, "\n")

	var raw []byte
	require.NoError(t, db.SQL.QueryRowContext(ctx, "EXPLAIN (FORMAT JSON) "+s.query, s.args...).Scan(&raw))
	var doc []struct{ Plan planNode }
	require.NoError(t, json.Unmarshal(raw, &doc))
	for _, d := range doc {
		d.Plan.walk(nil, func(n, parent *planNode) {
			if n.NodeType != "Seq Scan" || !largeTables[n.Relation] {
				return
			}
			if parent != nil && parent.NodeType == "Aggregate" && n.Rows >= tableRows(t, db, n.Relation)/2 {
				return // a count over most of the table
			}
			p.seqScans = append(p.seqScans, n.Relation)
		})
	}
	return p
}

// tableRows is the planner's row count of table.
func tableRows(t *testing.T, db *database.DB, table string) float64 {
	t.Helper()
	var n float64
	require.NoError(t, db.SQL.QueryRowContext(context.Background(),
		"SELECT reltuples FROM pg_class WHERE oid = $1::regclass", table).Scan(&n))
	return n
}

type planNode struct {
	NodeType string     `json:"Node Type"`
	Relation string     `json:"Relation Name"`
	Rows     float64    `json:"Plan Rows"`
	Plans    []planNode `json:"Plans"`
}

// walk calls fn on n and every node below it, with its parent.
func (n *planNode) walk(parent *planNode, fn func(n, parent *planNode)) {
	fn(n, parent)
	for i := range n.Plans {
		n.Plans[i].walk(n, fn)
	}
}
