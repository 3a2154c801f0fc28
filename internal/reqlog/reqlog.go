// Package reqlog carries what the access log of a request needs but only the
// GraphQL layer knows: the operation's name. The HTTP middleware puts an
// Entry in the request's context; the GraphQL layer fills it in; the
// middleware logs it when the response is written.
package reqlog

import (
	"context"
	"sync"
)

// Entry is the part of a request's access-log line filled in downstream.
type Entry struct {
	mu        sync.Mutex
	operation string
}

type ctxKey struct{}

// NewContext returns ctx carrying a fresh Entry, and the Entry.
func NewContext(ctx context.Context) (context.Context, *Entry) {
	e := &Entry{}
	return context.WithValue(ctx, ctxKey{}, e), e
}

// SetOperation records the GraphQL operation name of the request in ctx, if
// it carries an Entry.
func SetOperation(ctx context.Context, name string) {
	if e, ok := ctx.Value(ctxKey{}).(*Entry); ok {
		e.mu.Lock()
		e.operation = name
		e.mu.Unlock()
	}
}

// Operation returns the recorded operation name.
func (e *Entry) Operation() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.operation
}
