package telemetry

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/banpro/factoring/internal/apperror"
)

// GraphQLExtension is the gqlgen extension that makes the span of each
// GraphQL operation ("query ClientesCartera", "mutation CrearOperacion";
// its resolvers' SQL statements are its children) and counts each root
// field of a mutation in factoring_mutations_total. It runs around every
// response, so operations refused before they ran (FORBIDDEN, a bad
// variable) are counted and traced too. The query's text and variables are
// never recorded.
func (t *Telemetry) GraphQLExtension() graphql.HandlerExtension { return gqlExtension{t} }

type gqlExtension struct{ t *Telemetry }

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = gqlExtension{}

func (gqlExtension) ExtensionName() string                   { return "Telemetry" }
func (gqlExtension) Validate(graphql.ExecutableSchema) error { return nil }

func (g gqlExtension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	var oc *graphql.OperationContext
	if graphql.HasOperationContext(ctx) {
		oc = graphql.GetOperationContext(ctx)
	}
	var span trace.Span
	if g.t.tracing.Enabled {
		opType, opName := operationOf(oc)
		name := "graphql"
		if opType != "" {
			name = opType
			if operationName.MatchString(opName) {
				name += " " + opName
			}
		}
		ctx, span = g.t.tracer.Start(ctx, name, trace.WithAttributes(
			attribute.String("graphql.operation.type", opType),
			attribute.String("graphql.operation.name", truncate(opName, 64)),
		))
		defer span.End()
	}
	resp := next(ctx)
	if resp == nil {
		return nil
	}
	if span != nil && len(resp.Errors) > 0 {
		code := errorCode(resp.Errors[0])
		span.SetAttributes(attribute.String("factoring.error.code", code))
		if serverFault(code) {
			span.SetStatus(codes.Error, code)
		}
	}
	if oc != nil && oc.Operation != nil && oc.Operation.Operation == ast.Mutation {
		g.countMutations(oc.Operation, resp)
	}
	return resp
}

// countMutations counts each root field of a mutation with the code of the
// first error at or below it, else of the first error of the whole request
// (refused before it ran), else OK. Only fields of the schema count (a
// document that failed validation may name any), so the label values are
// the schema's mutations.
func (g gqlExtension) countMutations(op *ast.OperationDefinition, resp *graphql.Response) {
	requestCode := ""
	for _, e := range resp.Errors {
		if len(e.Path) == 0 {
			requestCode = errorCode(e)
			break
		}
	}
	for _, sel := range op.SelectionSet {
		f, ok := sel.(*ast.Field)
		if !ok || f.Definition == nil || f.Name == "__typename" {
			continue
		}
		code := ""
		for _, e := range resp.Errors {
			if len(e.Path) > 0 && e.Path[0] == ast.PathName(f.Alias) {
				code = errorCode(e)
				break
			}
		}
		if code == "" {
			code = requestCode
		}
		if code == "" {
			code = OK
		}
		g.t.metrics.mutations.WithLabelValues(f.Name, code).Inc()
	}
}

// operationOf returns the operation's type and name, "" for what is not
// known.
func operationOf(oc *graphql.OperationContext) (typ, name string) {
	if oc == nil {
		return "", ""
	}
	name = oc.OperationName
	if oc.Operation != nil {
		typ = string(oc.Operation.Operation)
		if name == "" {
			name = oc.Operation.Name
		}
	}
	return typ, name
}

// errorCode is e's extensions.code; the presenter gives every error one.
func errorCode(e *gqlerror.Error) string {
	if c, ok := e.Extensions["code"].(string); ok && c != "" {
		return c
	}
	return string(apperror.Internal)
}

// serverFault reports whether code is the server's failure, not the
// caller's: those make a span an error.
func serverFault(code string) bool {
	switch apperror.Code(code) {
	case apperror.Internal, apperror.Unavailable, apperror.Timeout:
		return true
	}
	return false
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
