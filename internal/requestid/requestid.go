// Package requestid carries what identifies a request: its id, which the
// server always generates (a UUID, so two requests never share one), and
// the caller's own id, when it sent a sane one, kept beside it as the
// correlation id. Both appear in every log line of the request and in every
// audit entry it writes; the id is also in extensions.requestId of every
// error.
package requestid

import (
	"context"

	"github.com/google/uuid"
)

// Header is the response header that carries the request's id, and the
// request header from which a caller's id is taken as the correlation id.
const Header = "X-Request-ID"

// CorrelationHeader carries the correlation id: a caller may send it (it
// wins over X-Request-ID), and the response echoes it.
const CorrelationHeader = "X-Correlation-ID"

// maxLen bounds a caller-supplied id.
const maxLen = 128

type (
	ctxKey            struct{}
	correlationCtxKey struct{}
)

// New returns a new request id: a random UUID.
func New() string { return uuid.NewString() }

// NewContext returns ctx carrying id.
func NewContext(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the request id in ctx, or "" outside a request.
func FromContext(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// Ensure returns ctx carrying a request id: the one it has, or a new one.
// Work done outside HTTP (a command, a job) calls it once, so that every
// record it writes names the same run.
func Ensure(ctx context.Context) context.Context {
	if FromContext(ctx) != "" {
		return ctx
	}
	return NewContext(ctx, New())
}

// WithCorrelation returns ctx carrying the caller's correlation id.
func WithCorrelation(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationCtxKey{}, id)
}

// Correlation returns the correlation id in ctx, or "" when the caller sent
// none.
func Correlation(ctx context.Context) string {
	id, _ := ctx.Value(correlationCtxKey{}).(string)
	return id
}

// Sane reports whether a caller-supplied id may be echoed and stored: 1 to
// 128 characters of [A-Za-z0-9._-].
func Sane(id string) bool {
	if len(id) == 0 || len(id) > maxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// CorrelationFrom returns the first sane value among a caller's headers
// (X-Correlation-ID, then X-Request-ID), or "" when none is.
func CorrelationFrom(values ...string) string {
	for _, v := range values {
		if Sane(v) {
			return v
		}
	}
	return ""
}
