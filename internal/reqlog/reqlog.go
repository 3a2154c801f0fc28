// Package reqlog carries what the access log of a request needs but only
// later layers know: who made it (the authentication middleware), the
// GraphQL operation's name and the codes of the errors it answered (the
// GraphQL layer and the HTTP shell's own refusals). The HTTP middleware puts
// an Entry in the request's context; the others fill it in; the middleware
// logs it when the response is written.
package reqlog

import (
	"context"
	"slices"
	"sync"
)

// Entry is the part of a request's access-log line filled in downstream.
type Entry struct {
	mu        sync.Mutex
	operation string
	actor     string
	codes     []string
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
