package apperror

import (
	"maps"
	"slices"
)

// Code is one of the error codes of the API contract. Clients read it from
// extensions.code; every code is in the table below.
type Code string

// The codes every client can rely on.
const (
	Validation      Code = "VALIDATION_ERROR"
	NotFound        Code = "NOT_FOUND"
	Conflict        Code = "CONFLICT"
	Unauthenticated Code = "UNAUTHENTICATED"
	Forbidden       Code = "FORBIDDEN"
	Internal        Code = "INTERNAL_ERROR"
)

// Codes of a request refused for what it would cost or how it is sent,
// before anything runs. Each limit has its own code so integrators can tell
// which one they hit.
const (
	DepthLimit            Code = "DEPTH_LIMIT_EXCEEDED"
	ComplexityLimit       Code = "COMPLEXITY_LIMIT_EXCEEDED"
	AliasLimit            Code = "ALIAS_LIMIT_EXCEEDED"
	TokenLimit            Code = "TOKEN_LIMIT_EXCEEDED"
	PayloadTooLarge       Code = "PAYLOAD_TOO_LARGE"
	BatchingNotSupported  Code = "BATCHING_NOT_SUPPORTED"
	IntrospectionDisabled Code = "INTROSPECTION_DISABLED"
)

// Codes of a request that could not finish for reasons of time or
// infrastructure, not of its content.
const (
	// Unavailable: the database or another dependency the request needs
	// is unreachable.
	Unavailable Code = "SERVICE_UNAVAILABLE"
	// Timeout: the request's deadline passed before it finished; nothing
	// was applied.
	Timeout Code = "TIMEOUT"
	// Cancelled: the client went away before the answer (nginx's 499).
	// No client reads it; it names the request in the server's logs.
	Cancelled Code = "CANCELLED"
)

// SubscriptionLimit: a subscription stream went over one of its caps
// (subscriptions on one connection, connections of one subject, events
// waiting for a consumer that does not read them).
const SubscriptionLimit Code = "SUBSCRIPTION_LIMIT_EXCEEDED"

// Codes of idempotent retries (the Idempotency-Key header).
const (
	// IdempotencyKeyReused: the key was used before with another request.
	IdempotencyKeyReused Code = "IDEMPOTENCY_KEY_REUSED"
	// IdempotencyInProgress: the first request with the key still runs.
	IdempotencyInProgress Code = "IDEMPOTENCY_IN_PROGRESS"
)

// Codes of a GraphQL document that cannot run, by the names GraphQL client
// libraries know.
const (
	GraphQLParseFailed      Code = "GRAPHQL_PARSE_FAILED"
	GraphQLValidationFailed Code = "GRAPHQL_VALIDATION_FAILED"
	PersistedQueryNotFound  Code = "PERSISTED_QUERY_NOT_FOUND"
	// PersistedQueryNotInList: the server runs only the operations of its
	// list of trusted documents, and this is not one of them.
	PersistedQueryNotInList Code = "PERSISTED_QUERY_NOT_IN_LIST"
)

// meaning is what the API promises about one code.
type meaning struct {
	// status is the HTTP status of a response that fails with the code
	// as a whole: an error answered outside GraphQL, or a GraphQL request
	// refused before it ran.
	status int
	// retryable says that the same request, sent again later, may
	// succeed.
	retryable bool
	// message is the Spanish message of an error that carries no more
	// specific one.
	message string
	// retryAfter is the Retry-After header, in seconds, of a response that
	// fails with the code as a whole; 0 sends none.
	retryAfter int
}

// codes is the one table of codes. The HTTP statuses are written as numbers
// so that the package needs no net/http: 400 Bad Request, 401
// Unauthorized, 403 Forbidden, 404 Not Found, 409 Conflict, 413 Content Too
// Large, 422 Unprocessable Content, 429 Too Many Requests, 499 Client Closed Request (nginx), 500
// Internal Server Error, 503 Service Unavailable, 504 Gateway Timeout.
var codes = map[Code]meaning{
	Validation:      {status: 400, message: "La solicitud contiene datos inválidos"},
	NotFound:        {status: 404, message: "No existe el recurso solicitado."},
	Conflict:        {status: 409, message: "La operación no es posible en el estado actual de los datos."},
	Unauthenticated: {status: 401, message: "Falta un token válido: envíe Authorization: Bearer <token>."},
	Forbidden:       {status: 403, message: "Sus roles no permiten esta operación."},
	Internal:        {status: 500, message: "Error interno del servidor"},

	DepthLimit:            {status: 400, message: "La consulta anida demasiados niveles."},
	ComplexityLimit:       {status: 400, message: "La consulta pide demasiados objetos."},
	AliasLimit:            {status: 400, message: "La consulta usa demasiados alias."},
	TokenLimit:            {status: 400, message: "La consulta es demasiado larga."},
	PayloadTooLarge:       {status: 413, message: "El cuerpo de la solicitud es demasiado grande."},
	BatchingNotSupported:  {status: 400, message: "No se admiten lotes de operaciones: envíe una operación por solicitud."},
	IntrospectionDisabled: {status: 400, message: "La introspección del esquema está deshabilitada en este servidor."},

	Unavailable: {status: 503, retryable: true, retryAfter: 5, message: "El servicio no está disponible en este momento; reintente en unos segundos."},
	Timeout:     {status: 504, message: "La solicitud excedió su tiempo máximo de ejecución."},
	Cancelled:   {status: 499, message: "La solicitud fue cancelada por el cliente."},

	SubscriptionLimit: {status: 429, retryable: true, message: "Se superó un límite de las suscripciones; cierre alguna o reintente más tarde."},

	IdempotencyKeyReused:  {status: 422, message: "La clave de idempotencia ya se usó con otra solicitud."},
	IdempotencyInProgress: {status: 409, retryable: true, message: "Una solicitud con la misma clave de idempotencia aún está en curso; reintente cuando termine."},

	GraphQLParseFailed:      {status: 400, message: "La consulta GraphQL no es sintácticamente válida."},
	GraphQLValidationFailed: {status: 400, message: "La consulta GraphQL no es válida para el esquema."},
	// Apollo's persisted-query link reads the message, not the code, and
	// expects a 200 before it sends the full query.
	PersistedQueryNotFound:  {status: 200, message: "PersistedQueryNotFound"},
	PersistedQueryNotInList: {status: 403, message: "Este servidor solo ejecuta las operaciones de su lista de confianza, y esta no está en ella."},
}

// meaningOf is c's row; a code not in the table is treated as INTERNAL_ERROR.
func (c Code) meaningOf() meaning {
	if m, ok := codes[c]; ok {
		return m
	}
	return codes[Internal]
}

// HTTPStatus is the HTTP status of a response that fails with c as a whole.
func (c Code) HTTPStatus() int { return c.meaningOf().status }

// Retryable reports whether a request that failed with c may succeed if
// sent again later.
func (c Code) Retryable() bool { return c.meaningOf().retryable }

// RetryAfterSeconds is the Retry-After header, in seconds, of a response
// that fails with c as a whole; 0 means none is sent.
func (c Code) RetryAfterSeconds() int { return c.meaningOf().retryAfter }

// DefaultMessage is the Spanish message of an error of c that carries no
// more specific one.
func (c Code) DefaultMessage() string { return c.meaningOf().message }

// Known reports whether c is one of the API's codes.
func (c Code) Known() bool {
	_, ok := codes[c]
	return ok
}

// Codes returns every code of the API, sorted.
func Codes() []Code { return slices.Sorted(maps.Keys(codes)) }
