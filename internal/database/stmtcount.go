package database

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"sync/atomic"

	"entgo.io/ent/dialect"

	"github.com/banpro/factoring/internal/reqlog"
)

// StatementCounter counts the SQL statements that go through a driver made
// by CountStatements: the measure of "no N+1" in tests and benchmarks, and
// factoring_sql_statements_total on /metrics. Each statement also counts
// for the request it runs in (reqlog), whose access-log line tells it.
type StatementCounter struct{ n atomic.Int64 }

// Load returns the statements counted so far.
func (c *StatementCounter) Load() int64 { return c.n.Load() }

// Reset sets the count back to zero.
func (c *StatementCounter) Reset() { c.n.Store(0) }

func (c *StatementCounter) add(ctx context.Context) {
	c.n.Add(1)
	reqlog.CountStatement(ctx)
}

// CountStatements wraps drv so that every Exec and Query, inside a
// transaction or not, adds one to the returned counter.
func CountStatements(drv dialect.Driver) (dialect.Driver, *StatementCounter) {
	c := &StatementCounter{}
	return &countingDriver{Driver: drv, c: c}, c
}

type countingDriver struct {
	dialect.Driver
	c *StatementCounter
}

func (d *countingDriver) Exec(ctx context.Context, query string, args, v any) error {
	d.c.add(ctx)
	return d.Driver.Exec(ctx, query, args, v)
}

func (d *countingDriver) Query(ctx context.Context, query string, args, v any) error {
	d.c.add(ctx)
	return d.Driver.Query(ctx, query, args, v)
}

func (d *countingDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := d.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &countingTx{Tx: tx, c: d.c}, nil
}

// BeginTx keeps ent's transaction options (isolation level, read-only)
// working through the wrapper.
func (d *countingDriver) BeginTx(ctx context.Context, opts *stdsql.TxOptions) (dialect.Tx, error) {
	b, ok := d.Driver.(interface {
		BeginTx(context.Context, *stdsql.TxOptions) (dialect.Tx, error)
	})
	if !ok {
		return nil, fmt.Errorf("el driver %T no admite BeginTx", d.Driver)
	}
	tx, err := b.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &countingTx{Tx: tx, c: d.c}, nil
}

// ExecContext and QueryContext keep ent's sql/execquery feature working.
func (d *countingDriver) ExecContext(ctx context.Context, query string, args ...any) (stdsql.Result, error) {
	e, ok := d.Driver.(interface {
		ExecContext(context.Context, string, ...any) (stdsql.Result, error)
	})
	if !ok {
		return nil, fmt.Errorf("el driver %T no admite ExecContext", d.Driver)
	}
	d.c.add(ctx)
	return e.ExecContext(ctx, query, args...)
}

func (d *countingDriver) QueryContext(ctx context.Context, query string, args ...any) (*stdsql.Rows, error) {
	q, ok := d.Driver.(interface {
		QueryContext(context.Context, string, ...any) (*stdsql.Rows, error)
	})
	if !ok {
		return nil, fmt.Errorf("el driver %T no admite QueryContext", d.Driver)
	}
	d.c.add(ctx)
	return q.QueryContext(ctx, query, args...)
}

type countingTx struct {
	dialect.Tx
	c *StatementCounter
}

func (t *countingTx) Exec(ctx context.Context, query string, args, v any) error {
	t.c.add(ctx)
	return t.Tx.Exec(ctx, query, args, v)
}

func (t *countingTx) Query(ctx context.Context, query string, args, v any) error {
	t.c.add(ctx)
	return t.Tx.Query(ctx, query, args, v)
}

// ExecContext keeps ent's sql/execquery feature working inside a
// transaction (tx.ExecContext), counted like any other statement.
func (t *countingTx) ExecContext(ctx context.Context, query string, args ...any) (stdsql.Result, error) {
	e, ok := t.Tx.(interface {
		ExecContext(context.Context, string, ...any) (stdsql.Result, error)
	})
	if !ok {
		return nil, fmt.Errorf("la transacción %T no admite ExecContext", t.Tx)
	}
	t.c.n.Add(1)
	return e.ExecContext(ctx, query, args...)
}
