package gqlserver

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/banpro/factoring/internal/idempotencia"
)

// Ensure that a response is kept for its key unless it failed for reasons
// of time or infrastructure, which a retry may not meet again.
func TestResultOf(t *testing.T) {
	const (
		applied = idempotencia.Applied
		refused = idempotencia.Refused
		failed  = idempotencia.Failed
	)
	for body, want := range map[string]idempotencia.Result{
		`{"data":{"crearOperacion":{"id":"x"}}}`:                                                   applied,
		`{"errors":[{"message":"m","extensions":{"code":"VALIDATION_ERROR"}}],"data":null}`:        refused,
		`{"errors":[{"message":"m","extensions":{"code":"CONFLICT"}}],"data":null}`:                refused,
		`{"errors":[{"message":"m","extensions":{"code":"NOT_FOUND"}}],"data":null}`:               refused,
		`{"errors":[{"message":"m","extensions":{"code":"FORBIDDEN"}}],"data":null}`:               refused,
		`{"errors":[{"message":"m","extensions":{"code":"INTERNAL_ERROR"}}],"data":null}`:          failed,
		`{"errors":[{"message":"m","extensions":{"code":"SERVICE_UNAVAILABLE"}}],"data":null}`:     failed,
		`{"errors":[{"message":"m","extensions":{"code":"TIMEOUT"}}],"data":null}`:                 failed,
		`{"errors":[{"message":"m","extensions":{"code":"CANCELLED"}}],"data":null}`:               failed,
		`{"errors":[{"message":"m","extensions":{"code":"IDEMPOTENCY_IN_PROGRESS"}}],"data":null}`: failed,
		`{"errors":[{"extensions":{"code":"CONFLICT"}},{"extensions":{"code":"TIMEOUT"}}]}`:        failed,
		`no es JSON`: failed,
	} {
		assert.Equal(t, want, resultOf([]byte(body)), body)
	}
}
