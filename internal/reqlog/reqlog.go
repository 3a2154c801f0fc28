// Package reqlog carries what the access log of a request needs but only
// later layers know: who made it (the authentication middleware), the
// GraphQL operation's name and type and the codes of the errors it answered
// (the GraphQL layer and the HTTP shell's own refusals), and how many SQL
// statements it ran (the database layer). The HTTP middleware puts an Entry
// in the request's context; the others fill it in; the middleware logs it
// when the response is written, and hands the same Summary to the metrics.
package reqlog

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Entry is the part of a request's access-log line filled in downstream.
type Entry struct {
	mu            sync.Mutex
	operation     string
	operationType string
	actor         string
	codes         []string
	// statements is apart from mu: the database layer adds to it once per
	// statement, from the request's goroutines.
	statements atomic.Int64
}

type ctxKey struct{}

// NewContext returns ctx carrying a fresh Entry, and the Entry.
func NewContext(ctx context.Context) (context.Context, *Entry) {
	e := &Entry{}
	return context.WithValue(ctx, ctxKey{}, e), e
}

func from(ctx context.Context) (*Entry, bool) {
	e, ok := ctx.Value(ctxKey{}).(*Entry)
	return e, ok
}

// SetOperation records the GraphQL operation name of the request in ctx, if
// it carries an Entry.
func SetOperation(ctx context.Context, name string) {
	if e, ok := from(ctx); ok {
		e.mu.Lock()
		e.operation = name
		e.mu.Unlock()
	}
}

// SetActor records who makes the request in ctx (the authenticated
// subject, or the audit trail's name for nobody), if it carries an Entry.
func SetActor(ctx context.Context, actor string) {
	if e, ok := from(ctx); ok {
		e.mu.Lock()
		e.actor = actor
		e.mu.Unlock()
	}
}

// AddCode records the code of an error the request answers with (its
// extensions.code), once however many errors carry it.
func AddCode(ctx context.Context, code string) {
	if e, ok := from(ctx); ok {
		e.mu.Lock()
		if !slices.Contains(e.codes, code) {
			e.codes = append(e.codes, code)
		}
		e.mu.Unlock()
	}
}

// Operation returns the recorded operation name.
func (e *Entry) Operation() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.operation
}

// Actor returns who made the request, or "" when nobody was authenticated.
func (e *Entry) Actor() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.actor
}

// Codes returns the error codes the request answered with, in the order
// they first appeared; none when it succeeded.
func (e *Entry) Codes() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string{}, e.codes...)
}

// SetOperationType records the GraphQL operation's type (query, mutation,
// subscription) of the request in ctx, if it carries an Entry.
func SetOperationType(ctx context.Context, typ string) {
	if e, ok := from(ctx); ok {
		e.mu.Lock()
		e.operationType = typ
		e.mu.Unlock()
	}
}

// OperationType returns the recorded operation type, "" when the request
// never got as far as a parsed operation.
func (e *Entry) OperationType() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.operationType
}

// CountStatement adds one SQL statement to the request in ctx, if it
// carries an Entry. The database layer calls it for every statement, so it
// takes no lock.
func CountStatement(ctx context.Context) {
	if e, ok := from(ctx); ok {
		e.statements.Add(1)
	}
}

// Statements returns the SQL statements the request ran so far.
func (e *Entry) Statements() int64 { return e.statements.Load() }

// Summary is one finished request as its access-log line tells it: what
// the HTTP middleware measured and what the Entry gathered. The metrics
// read the same Summary, so the log and the counters never disagree.
type Summary struct {
	Method, Path  string
	Status        int
	Outcome       string // "completed" or "cancelled"
	Bytes         int
	Duration      time.Duration
	Actor         string
	Operation     string
	OperationType string
	Codes         []string
	Statements    int64
}

// Summarize returns e's part of a Summary; the caller adds the HTTP part.
func (e *Entry) Summarize() Summary {
	e.mu.Lock()
	defer e.mu.Unlock()
	return Summary{
		Actor:         e.actor,
		Operation:     e.operation,
		OperationType: e.operationType,
		Codes:         append([]string{}, e.codes...),
		Statements:    e.statements.Load(),
	}
}
