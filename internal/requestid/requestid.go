// Package requestid carries the request's id: the caller's X-Request-ID when it
// is sane, else a new UUID. The same id appears in every log line of the
// request, in extensions.requestId of every error and in the requestId of
// every event the request writes.
package requestid

import (
	"context"

	"github.com/google/uuid"
)

// Header is the HTTP header that carries the id in both directions.
const Header = "X-Request-ID"

// maxLen bounds a caller-supplied id.
const maxLen = 128

type ctxKey struct{}

// NewContext returns ctx carrying id.
func NewContext(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the request id in ctx, or "" outside a request.
func FromContext(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
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

// FromHeader returns the caller's id when sane, else a new UUID.
func FromHeader(v string) string {
	if Sane(v) {
		return v
	}
	return uuid.NewString()
}
