package gqlserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/reqlog"
	"github.com/banpro/factoring/internal/requestid"
)

// errorPresenter is the one place that turns errors into GraphQL errors. Every
// error leaves with extensions.code (one of apperror's codes) and
// extensions.requestId, and extensions.fields when input fields are to
// blame. Anything it does not recognise is logged with the request id and
// shown as a generic INTERNAL_ERROR: no driver message, SQL or Go type ever
// reaches a client. Unless the request's context ended first: then it is
// CANCELLED, logged at INFO (the client went away; no one reads it), or
// TIMEOUT, logged at WARN (the request's deadline passed).
func errorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		return present(ctx, log, err)
	}
}

// recoverFunc turns a resolver panic into an INTERNAL_ERROR, logging the
// panic and its stack with the request id.
func recoverFunc(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic en la ejecución GraphQL",
			"request_id", requestid.FromContext(ctx),
			"panic", fmt.Sprint(p),
			"stack", string(debug.Stack()))
		return apperror.InternalError(fmt.Errorf("panic: %v", p))
	}
}

func present(ctx context.Context, log *slog.Logger, err error) *gqlerror.Error {
	var src *gqlerror.Error
	if !errors.As(err, &src) {
		src = gqlerror.WrapPath(graphql.GetPath(ctx), err)
	}
	appErr := classify(ctx, src)
	path := src.Path
	if appErr.Code == apperror.Validation && len(appErr.Fields) == 0 {
		// A scalar or input that failed to parse does not know which argument
		// it was: its path does. Blame that argument and report the error at
		// the field, where GraphQL paths point.
		if arg, fieldPath, ok := argumentOf(ctx, src.Path); ok {
			appErr = apperror.Invalid(arg, appErr.Message)
			path = fieldPath
		}
	}
	requestID := requestid.FromContext(ctx)
	reqlog.AddCode(ctx, string(appErr.Code))
	switch appErr.Code {
	case apperror.Internal:
		log.ErrorContext(ctx, "error interno",
			"request_id", requestID, "path", src.Path.String(), "error", describeCause(err))
	case apperror.Timeout:
		log.WarnContext(ctx, "la solicitud excedió su plazo",
			"request_id", requestID, "path", src.Path.String(), "error", describeCause(err))
	case apperror.Cancelled:
		log.InfoContext(ctx, "solicitud cancelada por el cliente",
			"request_id", requestID, "path", src.Path.String(), "error", describeCause(err))
	}
	return &gqlerror.Error{
		Message:    appErr.Message,
		Path:       path,
		Locations:  src.Locations,
		Extensions: appErr.Extensions(requestID),
	}
}

// classify maps any error to the *apperror.Error a client may see. What
// would be an INTERNAL_ERROR is first read against the request's context:
// once the client went away or the deadline passed, the failure is that,
// whatever the driver made of it (a cancelled statement, an interrupted
// SQLite call).
func classify(ctx context.Context, src *gqlerror.Error) *apperror.Error {
	appErr := classifyError(ctx, src)
	if appErr.Code != apperror.Internal {
		return appErr
	}
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return apperror.New(apperror.Cancelled).WithCause(src)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return apperror.New(apperror.Timeout).WithCause(src)
	}
	return appErr
}

// classifyError maps err by what it is, whatever the request's state.
func classifyError(ctx context.Context, src *gqlerror.Error) *apperror.Error {
	if appErr, ok := apperror.As(src); ok {
		return appErr
	}
	if src.Err != nil {
		switch {
		case src.Err.Error() == "introspection disabled": // gqlgen's backstop; queryLimits refuses these first
			return apperror.New(apperror.IntrospectionDisabled)
		case ent.IsNotFound(src.Err):
			return apperror.New(apperror.NotFound)
		case database.IsInvalidValue(src.Err):
			return apperror.Validationf("Un valor de la consulta no es admisible (por ejemplo, un texto con caracteres nulos).")
		}
		if _, _, ok := argumentOf(ctx, src.Path); ok {
			// An argument that failed to parse with an error of a library
			// (a malformed cursor, say): the client's fault, but the
			// library's text is not for clients.
			return apperror.Validationf("Valor inválido.")
		}
		return apperror.InternalError(src.Err)
	}
	code, _ := src.Extensions["code"].(string)
	switch {
	case code == errcode.ParseFailed && strings.HasPrefix(src.Message, "exceeded token limit"):
		return apperror.Errorf(apperror.TokenLimit, "La consulta es demasiado larga: %s.", src.Message)
	case code == errcode.ParseFailed && strings.HasPrefix(src.Message, "exceeded maximum nesting depth"):
		return apperror.New(apperror.DepthLimit)
	}
	switch code {
	case errcode.ValidationFailed, errcode.ParseFailed:
		// gqlparser's messages describe the query, never the server.
		return apperror.Validationf("Consulta GraphQL inválida: %s", src.Message)
	case string(apperror.NotFound): // entgql.ErrNodeNotFound: a node id that resolves to no row
		return apperror.NotFoundf("No existe un nodo con el ID indicado.")
	}
	return apperror.InternalError(errors.New(src.Message))
}

// argumentOf reports whether errPath points inside an argument of the field
// being resolved (gqlgen extends the field's path with the argument's name
// and the input fields below it), and names the innermost argument or input
// field. It also returns the field's own path.
func argumentOf(ctx context.Context, errPath ast.Path) (string, ast.Path, bool) {
	fieldPath := graphql.GetPath(ctx)
	if len(errPath) <= len(fieldPath) || errPath[:len(fieldPath)].String() != fieldPath.String() {
		return "", nil, false
	}
	for i := len(errPath) - 1; i >= len(fieldPath); i-- {
		if name, ok := errPath[i].(ast.PathName); ok {
			return string(name), fieldPath, true
		}
	}
	return "", nil, false
}

// describeCause renders err and its cause chain for the log.
func describeCause(err error) string {
	if appErr, ok := apperror.As(err); ok && errors.Unwrap(appErr) != nil {
		return errors.Unwrap(appErr).Error()
	}
	return err.Error()
}
