// Package apperror defines the closed set of error codes the API returns,
// what each one means on the wire (codes.go: its HTTP status, whether a
// retry may succeed, its default Spanish message), and the error value that
// carries a code from the domain services to whoever answers the client:
// the GraphQL error presenter (internal/gqlserver) or the HTTP middleware
// (internal/httpserver).
//
// It imports only the standard library: domain packages depend on it.
package apperror

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Error is a failure a client is meant to see: a code, a Spanish message and,
// when input fields are to blame, a map from each field (named as in the
// GraphQL input) to what is wrong with it.
type Error struct {
	Code    Code
	Message string
	Fields  map[string]string
	// cause is kept for the logs only; it never reaches a client.
	cause error
}

// Error implements error. The text is the client-facing message, plus the
// fields, so that logs and test failures read well.
func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	var b strings.Builder
	b.WriteString(e.Message)
	for _, k := range slices.Sorted(maps.Keys(e.Fields)) {
		fmt.Fprintf(&b, "; %s: %s", k, e.Fields[k])
	}
	return b.String()
}

// Unwrap exposes the cause to errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.cause }

// Extensions is the error's extensions object, the same in a GraphQL error
// and in an error answered outside GraphQL: code, requestId, and fields
// when input fields are to blame, retryable when a retry may succeed.
func (e *Error) Extensions(requestID string) map[string]any {
	ext := map[string]any{"code": string(e.Code), "requestId": requestID}
	if len(e.Fields) > 0 {
		ext["fields"] = e.Fields
	}
	if e.Code.Retryable() {
		ext["retryable"] = true
	}
	return ext
}

// New is an error of code with the code's default message.
func New(code Code) *Error {
	return &Error{Code: code, Message: code.DefaultMessage()}
}

// Errorf is an error of code with its own message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid is a VALIDATION_ERROR blaming one input field.
func Invalid(field, message string) *Error {
	return &Error{Code: Validation, Message: Validation.DefaultMessage(), Fields: map[string]string{field: message}}
}

// InvalidFields is a VALIDATION_ERROR blaming several input fields at once.
func InvalidFields(fields map[string]string) *Error {
	return &Error{Code: Validation, Message: Validation.DefaultMessage(), Fields: maps.Clone(fields)}
}

// Validationf is a VALIDATION_ERROR that no single field is to blame for.
func Validationf(format string, args ...any) *Error {
	return Errorf(Validation, format, args...)
}

// NotFoundf is a NOT_FOUND: an entity named by id does not exist.
func NotFoundf(format string, args ...any) *Error {
	return Errorf(NotFound, format, args...)
}

// Conflictf is a CONFLICT: a transition not allowed from the current state, a
// uniqueness clash, or contention that outlived its retries.
func Conflictf(format string, args ...any) *Error {
	return Errorf(Conflict, format, args...)
}

// ConflictOn is a CONFLICT blamed on one input field (a duplicate RUT, say).
func ConflictOn(field, message string) *Error {
	return &Error{Code: Conflict, Message: message, Fields: map[string]string{field: message}}
}

// Unauthenticatedf is an UNAUTHENTICATED: no valid credentials.
func Unauthenticatedf(format string, args ...any) *Error {
	return Errorf(Unauthenticated, format, args...)
}

// Forbiddenf is a FORBIDDEN: valid credentials that may not do this.
func Forbiddenf(format string, args ...any) *Error {
	return Errorf(Forbidden, format, args...)
}

// InternalError hides cause behind the generic INTERNAL_ERROR message. The
// cause stays reachable through errors.Unwrap for the log.
func InternalError(cause error) *Error {
	return New(Internal).WithCause(cause)
}

// WithCause returns a copy of e that also records cause for the log.
func (e *Error) WithCause(cause error) *Error {
	c := *e
	c.cause = cause
	return &c
}

// WithMessage returns a copy of e with another client-facing message.
func (e *Error) WithMessage(message string) *Error {
	c := *e
	c.Message = message
	return &c
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// CodeOf returns err's code: the code of the *Error in its chain, or
// INTERNAL_ERROR for anything else (an unknown error is never a client's
// fault). A nil error has no code.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	if e, ok := As(err); ok {
		return e.Code
	}
	return Internal
}

// GenericMessage is the message shown for an INTERNAL_ERROR.
func GenericMessage() string { return Internal.DefaultMessage() }
