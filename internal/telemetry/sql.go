package telemetry

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"entgo.io/ent/dialect"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// maxStatement bounds the statement text a span carries, in bytes.
const maxStatement = 2000

// WrapDriver wraps the ent driver so that every SQL statement run inside a
// traced request or job is a span of its own, a child of the operation's:
// named by what it does and to which table ("SELECT clientes"), carrying
// the statement's shape and never its values. ent sends parameterized SQL
// ($1, ? placeholders), so the text is the shape; string literals, should
// any appear, are blanked too. A statement outside any trace (migrations,
// a metrics scrape) makes no span. With tracing off drv is returned as it
// is. It plugs into database.Options.WrapDriver.
func (t *Telemetry) WrapDriver(drv dialect.Driver) dialect.Driver {
	if !t.tracing.Enabled {
		return drv
	}
	system := drv.Dialect()
	switch system {
	case dialect.Postgres:
		system = "postgresql"
	case dialect.SQLite:
		system = "sqlite"
	}
	return &tracingDriver{Driver: drv, s: sqlSpans{tracer: t.tracer, system: system, shapes: &shapeCache{}}}
}

type sqlSpans struct {
	tracer trace.Tracer
	system string
	shapes *shapeCache
}

// statement is what a span of one statement text carries, worked out once.
type statement struct {
	name  string
	attrs []attribute.KeyValue
}

// shapeCache remembers the statements seen: ent sends the same few texts
// over and over (one per query shape), so each is parsed once. It stops
// growing at maxShapes; later texts are worked out each time.
type shapeCache struct {
	m sync.Map // query text → *statement
	n atomic.Int64
}

const maxShapes = 2000

func (c *shapeCache) get(system, query string) *statement {
	if st, ok := c.m.Load(query); ok {
		return st.(*statement)
	}
	op, table := statementName(query)
	st := &statement{name: op, attrs: []attribute.KeyValue{
		attribute.String("db.system.name", system),
		attribute.String("db.operation.name", op),
		attribute.String("db.query.text", StatementShape(query)),
	}}
	if table != "" {
		st.name += " " + table
		st.attrs = append(st.attrs, attribute.String("db.collection.name", table))
	}
	if c.n.Load() < maxShapes {
		if _, loaded := c.m.LoadOrStore(query, st); !loaded {
			c.n.Add(1)
		}
	}
	return st
}

// start opens a statement's span when ctx is inside a recorded span; done
// ends it (a no-op otherwise).
func (s sqlSpans) start(ctx context.Context, query string) (context.Context, func(error)) {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return ctx, endNothing
	}
	st := s.shapes.get(s.system, query)
	ctx, span := s.tracer.Start(ctx, st.name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(st.attrs...))
	return ctx, func(err error) {
		if err != nil {
			// The driver's message may quote a value (a unique key's):
			// the span keeps only that the statement failed.
			span.SetStatus(codes.Error, "la sentencia falló")
			span.SetAttributes(attribute.String("error.type", fmt.Sprintf("%T", err)))
		}
		span.End()
	}
}

func endNothing(error) {}

type tracingDriver struct {
	dialect.Driver
	s sqlSpans
}

func (d *tracingDriver) Exec(ctx context.Context, query string, args, v any) error {
	ctx, done := d.s.start(ctx, query)
	err := d.Driver.Exec(ctx, query, args, v)
	done(err)
	return err
}

func (d *tracingDriver) Query(ctx context.Context, query string, args, v any) error {
	ctx, done := d.s.start(ctx, query)
	err := d.Driver.Query(ctx, query, args, v)
	done(err)
	return err
}

func (d *tracingDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	spanCtx, done := d.s.start(ctx, "BEGIN")
	tx, err := d.Driver.Tx(spanCtx)
	done(err)
	if err != nil {
		return nil, err
	}
	return &tracingTx{Tx: tx, s: d.s, ctx: ctx}, nil
}

// BeginTx keeps ent's transaction options (isolation level, read-only)
// working through the wrapper.
func (d *tracingDriver) BeginTx(ctx context.Context, opts *stdsql.TxOptions) (dialect.Tx, error) {
	b, ok := d.Driver.(interface {
		BeginTx(context.Context, *stdsql.TxOptions) (dialect.Tx, error)
	})
	if !ok {
		return nil, fmt.Errorf("el driver %T no admite BeginTx", d.Driver)
	}
	spanCtx, done := d.s.start(ctx, "BEGIN")
	tx, err := b.BeginTx(spanCtx, opts)
	done(err)
	if err != nil {
		return nil, err
	}
	return &tracingTx{Tx: tx, s: d.s, ctx: ctx}, nil
}

// ExecContext and QueryContext keep ent's sql/execquery feature working.
func (d *tracingDriver) ExecContext(ctx context.Context, query string, args ...any) (stdsql.Result, error) {
	e, ok := d.Driver.(interface {
		ExecContext(context.Context, string, ...any) (stdsql.Result, error)
	})
	if !ok {
		return nil, fmt.Errorf("el driver %T no admite ExecContext", d.Driver)
	}
	ctx, done := d.s.start(ctx, query)
	res, err := e.ExecContext(ctx, query, args...)
	done(err)
	return res, err
}

func (d *tracingDriver) QueryContext(ctx context.Context, query string, args ...any) (*stdsql.Rows, error) {
	q, ok := d.Driver.(interface {
		QueryContext(context.Context, string, ...any) (*stdsql.Rows, error)
	})
	if !ok {
		return nil, fmt.Errorf("el driver %T no admite QueryContext", d.Driver)
	}
	ctx, done := d.s.start(ctx, query)
	rows, err := q.QueryContext(ctx, query, args...)
	done(err)
	return rows, err
}

// tracingTx traces the statements of a transaction, and its COMMIT or
// ROLLBACK (whose durations are the transaction's locks and fsync) under
// the context it began in.
type tracingTx struct {
	dialect.Tx
	s   sqlSpans
	ctx context.Context
}

func (t *tracingTx) Exec(ctx context.Context, query string, args, v any) error {
	ctx, done := t.s.start(ctx, query)
	err := t.Tx.Exec(ctx, query, args, v)
	done(err)
	return err
}

func (t *tracingTx) Query(ctx context.Context, query string, args, v any) error {
	ctx, done := t.s.start(ctx, query)
	err := t.Tx.Query(ctx, query, args, v)
	done(err)
	return err
}

// ExecContext keeps ent's sql/execquery feature working inside a
// transaction (tx.ExecContext: the NOTIFY of package eventos), traced like
// any other statement.
func (t *tracingTx) ExecContext(ctx context.Context, query string, args ...any) (stdsql.Result, error) {
	e, ok := t.Tx.(interface {
		ExecContext(context.Context, string, ...any) (stdsql.Result, error)
	})
	if !ok {
		return nil, fmt.Errorf("la transacción %T no admite ExecContext", t.Tx)
	}
	ctx, done := t.s.start(ctx, query)
	res, err := e.ExecContext(ctx, query, args...)
	done(err)
	return res, err
}

func (t *tracingTx) Commit() error {
	_, done := t.s.start(t.ctx, "COMMIT")
	err := t.Tx.Commit()
	done(err)
	return err
}

func (t *tracingTx) Rollback() error {
	_, done := t.s.start(t.ctx, "ROLLBACK")
	err := t.Tx.Rollback()
	done(err)
	return err
}

// StatementShape is query as a span records it: string literals blanked
// to '?', at most maxStatement bytes.
func StatementShape(query string) string {
	if strings.IndexByte(query, '\'') >= 0 {
		var b strings.Builder
		b.Grow(len(query))
		in := false
		for i := 0; i < len(query); i++ {
			c := query[i]
			switch {
			case !in && c == '\'':
				in = true
				b.WriteString("'?'")
			case in && c == '\'':
				if i+1 < len(query) && query[i+1] == '\'' { // an escaped quote
					i++
					continue
				}
				in = false
			case !in:
				b.WriteByte(c)
			}
		}
		query = b.String()
	}
	return truncate(query, maxStatement)
}

// statementName returns the statement's verb (SELECT, INSERT, …) and the
// first table it names (after FROM, INTO or UPDATE), unquoted: the span's
// name, few distinct ones however many statements.
func statementName(query string) (op, table string) {
	rest := query[:min(len(query), 4096)]
	word := func() string { // the next whitespace-separated word of rest
		rest = strings.TrimLeft(rest, " \t\r\n")
		i := strings.IndexAny(rest, " \t\r\n")
		if i < 0 {
			i = len(rest)
		}
		w := rest[:i]
		rest = rest[i:]
		return w
	}
	first := word()
	if first == "" {
		return "SQL", ""
	}
	op = strings.ToUpper(first)
	if op == "WITH" {
		// A common table expression: named by what the statement does,
		// a read unless a write verb appears (ent's nested pages are
		// WITH … SELECT).
		op = "SELECT"
		for _, verb := range []string{"INSERT", "UPDATE", "DELETE"} {
			if containsWord(rest, verb) {
				op = verb
				break
			}
		}
	}
	var after string
	switch op {
	case "SELECT", "DELETE":
		after = "FROM"
	case "INSERT":
		after = "INTO"
	case "UPDATE":
		return op, tableName(word())
	default:
		return op, ""
	}
	for w := word(); w != ""; w = word() {
		if strings.EqualFold(w, after) {
			if t := tableName(word()); t != "" {
				return op, t
			}
		}
	}
	return op, ""
}

// containsWord reports whether s has w as a whole word, in any case.
func containsWord(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(w)], w) &&
			(i == 0 || !isIdent(s[i-1])) && (i+len(w) == len(s) || !isIdent(s[i+len(w)])) {
			return true
		}
	}
	return false
}

func isIdent(b byte) bool {
	return b == '_' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

// tableName unquotes an identifier token ("clientes", `x`."y"), "" when
// the token is not one (a subquery's parenthesis).
func tableName(tok string) string {
	tok = strings.TrimRight(tok, ",;()")
	if i := strings.LastIndexByte(tok, '.'); i >= 0 {
		tok = tok[i+1:]
	}
	tok = strings.Trim(tok, "\"`")
	for _, r := range tok {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return ""
		}
	}
	return tok
}
