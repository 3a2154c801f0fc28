package graph

import (
	"bytes"
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Ensure that lists marshal in order, each element with its index in the
// path, and that a panic in one element makes it null and reports an error
// without losing the others, as gqlgen's concurrent version does.
func TestMarshalSequentially(t *testing.T) {
	ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, graphql.DefaultRecover)
	var paths []string
	arr := marshalSequentially(ctx, 3, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		paths = append(paths, graphql.GetPath(ctx).String())
		if i == 1 {
			panic("falla")
		}
		return graphql.MarshalInt(i)
	})
	var b bytes.Buffer
	arr.MarshalGQL(&b)
	assert.Equal(t, "[0,null,2]", b.String())
	assert.Equal(t, []string{"[0]", "[1]", "[2]"}, paths)
	errs := graphql.GetErrors(ctx)
	require.Len(t, errs, 1)
	assert.Equal(t, "[1]", errs[0].Path.String())
}

// Ensure that an object gets the full deferred group as soon as one of its
// fields is deferred, and the zero one (no allocation, nothing pending)
// otherwise.
func TestNewDeferredGroup(t *testing.T) {
	ctx := context.Background()
	plain := []graphql.CollectedField{{}, {}}
	g := newDeferredGroup(ctx, plain)
	assert.Nil(t, g.FieldSet)
	assert.Empty(t, g.Defers)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = newDeferredGroup(ctx, plain) }))

	deferred := []graphql.CollectedField{{}, {Deferrables: []*graphql.Deferrable{{Label: "lento"}}}}
	g = newDeferredGroup(ctx, deferred)
	require.NotNil(t, g.FieldSet, "a deferred field needs the group's field set")
	assert.NotNil(t, g.Defers)
}
