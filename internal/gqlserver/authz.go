package gqlserver

import (
	"context"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/gid"
)

// authorization checks, before anything runs, that the caller's roles allow
// every root field of the operation: Consultar for queries (node and nodes
// included) but auditoria, which needs ConsultarAuditoria, and webhooks,
// which needs GestionarWebhooks as node and nodes do for the ids of a
// Webhook or an Entrega; and the mutation's own permission for each
// mutation. One field the
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
		for _, perm := range permissionsFor(oc, f.Field) {
			if !p.Can(perm) {
				denied = append(denied, f.Name)
				break
			}
		}
	}
	if len(denied) > 0 {
		return requestError(apperror.Forbiddenf("Sus roles no permiten: %s.", strings.Join(denied, ", ")), nil)
	}
	return nil
}

// permissionsFor are the permissions a root field needs (none for
// __typename).
func permissionsFor(oc *graphql.OperationContext, f *ast.Field) []auth.Permission {
	switch {
	case f.Name == "__typename":
		return nil
	case oc.Operation.Operation == ast.Mutation:
		return []auth.Permission{auth.Permission(f.Name)}
	case f.Name == "node" || f.Name == "nodes":
		return append(nodePermissions(f.ArgumentMap(oc.Variables)), auth.QueryPermission(f.Name))
	default:
		return []auth.Permission{auth.QueryPermission(f.Name)}
	}
}

// nodePermissions are what reading the ids of node(id:) or nodes(ids:)
// needs beyond Consultar, judged by the type each id names. An id that
// does not decode needs nothing more: the ID scalar refuses it.
func nodePermissions(args map[string]any) []auth.Permission {
	var ids []any
	switch v := args["ids"].(type) {
	case []any:
		ids = v
	case string: // a single value stands for a list of one
		ids = []any{v}
	}
	if id, ok := args["id"]; ok {
		ids = append(ids, id)
	}
	var out []auth.Permission
	for _, v := range ids {
		s, ok := v.(string)
		if !ok {
			continue
		}
		if _, typeName, ok := gid.Decode(s); ok {
			if perm := auth.NodePermission(typeName); perm != auth.Consultar && !slices.Contains(out, perm) {
				out = append(out, perm)
			}
		}
	}
	return out
}
