package gqlserver

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Ensure that a response is kept for its key unless it failed for reasons
// of time or infrastructure, which a retry may not meet again.
func TestStorable(t *testing.T) {
	for body, want := range map[string]bool{
		`{"data":{"crearOperacion":{"id":"x"}}}`:                                                   true,
		`{"errors":[{"message":"m","extensions":{"code":"VALIDATION_ERROR"}}],"data":null}`:        true,
		`{"errors":[{"message":"m","extensions":{"code":"CONFLICT"}}],"data":null}`:                true,
		`{"errors":[{"message":"m","extensions":{"code":"NOT_FOUND"}}],"data":null}`:               true,
		`{"errors":[{"message":"m","extensions":{"code":"FORBIDDEN"}}],"data":null}`:               true,
		`{"errors":[{"message":"m","extensions":{"code":"INTERNAL_ERROR"}}],"data":null}`:          false,
		`{"errors":[{"message":"m","extensions":{"code":"SERVICE_UNAVAILABLE"}}],"data":null}`:     false,
		`{"errors":[{"message":"m","extensions":{"code":"TIMEOUT"}}],"data":null}`:                 false,
		`{"errors":[{"message":"m","extensions":{"code":"CANCELLED"}}],"data":null}`:               false,
		`{"errors":[{"message":"m","extensions":{"code":"IDEMPOTENCY_IN_PROGRESS"}}],"data":null}`: false,
		`{"errors":[{"extensions":{"code":"CONFLICT"}},{"extensions":{"code":"TIMEOUT"}}]}`:        false,
		`no es JSON`: false,
	} {
		assert.Equal(t, want, storable([]byte(body)), body)
	}
}
