package gqlserver

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/database"
)

// availability refuses an operation before it runs while the database is
// known to be unreachable (database.Health): SERVICE_UNAVAILABLE, HTTP 503
// with Retry-After, no data. It comes last of the checks, so that a
// request that is refused for what it is (its document, its limits, its
// roles) is refused for that whatever the database's state.
type availability struct{ health *database.Health }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = availability{}

func (availability) ExtensionName() string                   { return "Availability" }
func (availability) Validate(graphql.ExecutableSchema) error { return nil }

func (a availability) MutateOperationContext(ctx context.Context, _ *graphql.OperationContext) *gqlerror.Error {
	if err := a.health.Check(ctx); err != nil {
		return requestError(apperror.New(apperror.Unavailable).WithCause(err), nil)
	}
	return nil
}
