package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// marshalSequentially marshals the elements of a list one after the other.
// gqlgen marshals every list of objects with one goroutine per element
// (graphql.MarshalSliceConcurrently), which pays off when elements resolve
// fields through I/O. Here every nested list is eager-loaded by entgql, so
// marshaling is CPU work only, and the goroutines cost more than they save:
// their stacks grow and are copied again for every element. Profiles of
// `make bench` put that at 18 % of the server's CPU for a 50-row page.
//
// `make generate` points the generated code here (internal/tools/gqlgen);
// the signature and the per-element panic recovery match gqlgen's.
func marshalSequentially(
	ctx context.Context,
	length int,
	_ int64, // gqlgen's worker limit: there are no workers here
	omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler,
) graphql.Array {
	ret := make(graphql.Array, length)
	for i := range length {
		ret[i] = marshalOne(ctx, i, omitPanicHandler, marshalElement)
	}
	return ret
}

func marshalOne(ctx context.Context, i int, omitPanicHandler bool, marshalElement func(ctx context.Context, i int) graphql.Marshaler) (m graphql.Marshaler) {
	childCtx := graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &i})
	if !omitPanicHandler {
		defer func() {
			if r := recover(); r != nil {
				graphql.AddError(childCtx, graphql.Recover(childCtx, r))
				m = graphql.Null
			}
		}()
	}
	return marshalElement(childCtx, i)
}

// newDeferredGroup returns the group that collects the @defer'd fields of
// the object whose fields are fields. gqlgen's generated code makes a full
// one for every object it marshals (its path, a field set and a map): 11 %
// of the server's CPU on the benchmark's nested page, for a group that is
// empty unless the query defers a field of this very object. An object
// with no deferred field gets the zero group, which the generated code
// reads only through len(deferred.Defers).
//
// `make generate` points the generated code here (internal/tools/gqlgen).
func newDeferredGroup(ctx context.Context, fields []graphql.CollectedField) graphql.DeferredGroup {
	for i := range fields {
		if fields[i].IsDeferred() {
			return graphql.NewDeferredGroup(ctx)
		}
	}
	return graphql.DeferredGroup{}
}
