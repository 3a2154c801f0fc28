package gqlserver

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/auth"
)

// authorization checks, before anything runs, that the caller's roles allow
// every root field of the operation: Consultar for queries (node and nodes
// included) but auditoria, which needs ConsultarAuditoria, and the
// mutation's own permission for each mutation. One field the
// caller may not use refuses the whole operation, so a document never runs
// halfway. With authentication disabled there is no principal and nothing
// to check.
type authorization struct{ enabled bool }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = authorization{}

func (authorization) ExtensionName() string                   { return "Authorization" }
func (authorization) Validate(graphql.ExecutableSchema) error { return nil }

func (a authorization) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if !a.enabled {
		return nil
	}
	p, ok := auth.FromContext(ctx)
	if !ok {
		return requestError(apperror.Unauthenticatedf("Falta un token válido: envíe Authorization: Bearer <token>."), nil)
	}
	var denied []string
	for _, f := range graphql.CollectFields(oc, oc.Operation.SelectionSet, nil) {
		perm := permissionFor(oc.Operation.Operation, f.Field)
		if perm != "" && !p.Can(perm) {
			denied = append(denied, f.Name)
		}
	}
	if len(denied) > 0 {
		return requestError(apperror.Forbiddenf("Sus roles no permiten: %s.", strings.Join(denied, ", ")), nil)
	}
	return nil
}

// permissionFor is the permission a root field needs ("" for __typename).
func permissionFor(op ast.Operation, f *ast.Field) auth.Permission {
	switch {
	case f.Name == "__typename":
		return ""
	case op == ast.Mutation:
		return auth.Permission(f.Name)
	default:
		return auth.QueryPermission(f.Name)
	}
}
