// Package auth knows who is making a request: the principal (subject and
// roles) the HTTP layer authenticated, carried in the context, and the actor
// name the audit trail records for it.
package auth

import (
	"context"
	"strings"
	"time"
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
// The comparison is on the normalized subject's look-alike skeleton, so
// "SISTEMA", a full-width "ｓｉｓｔｅｍａ" or an all-Cyrillic "ѕіѕтема" are
// reserved too.
func Reserved(subject string) bool {
	s, err := NormalizeSubject(subject)
	if err != nil {
		s = strings.ToLower(strings.TrimSpace(subject))
	}
	s = skeleton(s)
	return s == Anonimo || s == Sistema
}

// lookAlikes maps Cyrillic and Greek letters that render like Latin ones
// to those, for Reserved's comparison.
var lookAlikes = map[rune]rune{
	'а': 'a', 'е': 'e', 'о': 'o', 'с': 'c', 'і': 'i', 'ѕ': 's', 'т': 't', 'м': 'm',
	'н': 'n', 'р': 'p', 'х': 'x', 'у': 'y', 'к': 'k', 'ј': 'j', 'ԁ': 'd',
	'α': 'a', 'ε': 'e', 'ο': 'o', 'ι': 'i', 'ν': 'v', 'τ': 't', 'μ': 'm', 'κ': 'k', 'ρ': 'p',
}

func skeleton(s string) string {
	return strings.Map(func(r rune) rune {
		if l, ok := lookAlikes[r]; ok {
			return l
		}
		return r
	}, s)
}

// Principal is an authenticated caller.
type Principal struct {
	Subject string
	Roles   []Role
	// Vence is when the token stops being accepted (its exp plus the
	// verifier's leeway); zero for a principal no token stands behind. A
	// request is checked once, when it arrives; a subscription stream
	// lasts longer and ends at Vence.
	Vence time.Time
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
