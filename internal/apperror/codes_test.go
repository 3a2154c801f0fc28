package apperror_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/apperror"
)

// contract is every code of the API with the HTTP status and retryability
// the contract gives it, written out by hand so that a change to the table
// is a change to this list too.
var contract = []struct {
	code      apperror.Code
	wire      string
	status    int
	retryable bool
}{
	{apperror.Validation, "VALIDATION_ERROR", 400, false},
	{apperror.NotFound, "NOT_FOUND", 404, false},
	{apperror.Conflict, "CONFLICT", 409, false},
	{apperror.Unauthenticated, "UNAUTHENTICATED", 401, false},
	{apperror.Forbidden, "FORBIDDEN", 403, false},
	{apperror.Internal, "INTERNAL_ERROR", 500, false},
	{apperror.DepthLimit, "DEPTH_LIMIT_EXCEEDED", 400, false},
	{apperror.ComplexityLimit, "COMPLEXITY_LIMIT_EXCEEDED", 400, false},
	{apperror.AliasLimit, "ALIAS_LIMIT_EXCEEDED", 400, false},
	{apperror.TokenLimit, "TOKEN_LIMIT_EXCEEDED", 400, false},
	{apperror.PayloadTooLarge, "PAYLOAD_TOO_LARGE", 413, false},
	{apperror.BatchingNotSupported, "BATCHING_NOT_SUPPORTED", 400, false},
	{apperror.IntrospectionDisabled, "INTROSPECTION_DISABLED", 400, false},
	{apperror.Unavailable, "SERVICE_UNAVAILABLE", 503, true},
	{apperror.Timeout, "TIMEOUT", 504, false},
	{apperror.Cancelled, "CANCELLED", 499, false},
	{apperror.SubscriptionLimit, "SUBSCRIPTION_LIMIT_EXCEEDED", 429, true},
	{apperror.IdempotencyKeyReused, "IDEMPOTENCY_KEY_REUSED", 422, false},
	{apperror.IdempotencyInProgress, "IDEMPOTENCY_IN_PROGRESS", 409, true},
	{apperror.GraphQLParseFailed, "GRAPHQL_PARSE_FAILED", 400, false},
	{apperror.GraphQLValidationFailed, "GRAPHQL_VALIDATION_FAILED", 400, false},
	{apperror.PersistedQueryNotFound, "PERSISTED_QUERY_NOT_FOUND", 200, false},
	{apperror.PersistedQueryNotInList, "PERSISTED_QUERY_NOT_IN_LIST", 403, false},
}

// Ensure that every code has one row in the table, with the status,
// retryability and a Spanish default message the contract gives it, and
// that the table holds no code the contract does not.
func TestTablaDeCodigos(t *testing.T) {
	var listed []apperror.Code
	for _, c := range contract {
		t.Run(c.wire, func(t *testing.T) {
			assert.Equal(t, c.wire, string(c.code))
			assert.True(t, c.code.Known())
			assert.Equal(t, c.status, c.code.HTTPStatus())
			assert.Equal(t, c.retryable, c.code.Retryable())
			assert.NotEmpty(t, c.code.DefaultMessage())
		})
		listed = append(listed, c.code)
	}
	assert.ElementsMatch(t, listed, apperror.Codes(), "the table and the contract list the same codes")
	for _, c := range apperror.Codes() {
		want := 0
		if c == apperror.Unavailable {
			want = 5 // a 503 says when to retry
		}
		assert.Equal(t, want, c.RetryAfterSeconds(), c)
	}

	t.Run("un_codigo_desconocido_es_INTERNAL_ERROR", func(t *testing.T) {
		unknown := apperror.Code("NO_EXISTE")
		assert.False(t, unknown.Known())
		assert.Equal(t, apperror.Internal.HTTPStatus(), unknown.HTTPStatus())
		assert.Equal(t, apperror.Internal.DefaultMessage(), unknown.DefaultMessage())
		assert.False(t, unknown.Retryable())
	})
}

// Ensure that an error's extensions are the same wherever it is answered:
// code and requestId always, fields when fields are to blame, retryable
// only when a retry may succeed.
func TestExtensiones(t *testing.T) {
	t.Run("sin_campos", func(t *testing.T) {
		ext := apperror.NotFoundf("No existe.").Extensions("r-1")
		assert.Equal(t, map[string]any{"code": "NOT_FOUND", "requestId": "r-1"}, ext)
	})
	t.Run("con_campos", func(t *testing.T) {
		ext := apperror.Invalid("rut", "RUT inválido.").Extensions("r-2")
		assert.Equal(t, map[string]any{"code": "VALIDATION_ERROR", "requestId": "r-2",
			"fields": map[string]string{"rut": "RUT inválido."}}, ext)
	})
	t.Run("reintentable", func(t *testing.T) {
		ext := apperror.New(apperror.Unavailable).Extensions("r-3")
		assert.Equal(t, true, ext["retryable"])
		assert.NotContains(t, apperror.New(apperror.Timeout).Extensions("r-3"), "retryable")
	})
}

// Ensure that New carries the code's default message, and that an
// internal error shows only the generic one while its cause stays for the
// log.
func TestMensajesPorOmision(t *testing.T) {
	assert.Equal(t, apperror.Timeout.DefaultMessage(), apperror.New(apperror.Timeout).Message)
	cause := errors.New("pq: connection refused")
	err := apperror.InternalError(cause)
	assert.Equal(t, apperror.GenericMessage(), err.Message)
	assert.NotContains(t, err.Error(), "pq:")
	require.ErrorIs(t, err, cause)
	assert.Equal(t, apperror.Internal, apperror.CodeOf(err))
}
