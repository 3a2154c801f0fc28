// Package auth knows who is making a request: the principal (subject and
// roles) the HTTP layer authenticated, carried in the context, and the actor
// name the audit trail records for it.
package auth

import (
	"context"
	"strings"
)

// Actor names recorded in the audit trail when no person is behind a change.
const (
	// Anonimo is the actor when authentication is disabled.
	Anonimo = "anonimo"
	// Sistema is the actor of scheduled jobs and commands.
	Sistema = "sistema"
)

// Reserved reports whether subject is one of the actor names the audit trail
// uses for no person (anonimo, sistema): no token may claim them, or its
// changes would be recorded as the system's.
func Reserved(subject string) bool {
	return strings.EqualFold(subject, Anonimo) || strings.EqualFold(subject, Sistema)
}

// Principal is an authenticated caller.
type Principal struct {
	Subject string
	Roles   []Role
}

// Role is a caller's role.
type Role string

type ctxKey struct{}

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal in ctx, if any.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}

// Actor names who acts in ctx, for the audit trail: the authenticated
// subject, or "anonimo".
func Actor(ctx context.Context) string {
	if p, ok := FromContext(ctx); ok && p.Subject != "" {
		return p.Subject
	}
	return Anonimo
}
