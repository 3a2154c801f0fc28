package main

import (
	"bytes"
	"os"
	"testing"
)

// TestRewrite ensures that every concurrent list marshaling is rewritten and
// that a file with none is an error, not a silent no-op.
func TestRewrite(t *testing.T) {
	src := []byte("a := graphql.MarshalSliceConcurrently(ctx, 1)\nb := graphql.MarshalSliceConcurrently(ctx, 2)\ndeferred := graphql.NewDeferredGroup(ctx)\n")
	out, n, err := rewrite(src)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("rewrote %d calls, want 3", n)
	}
	if want := "a := marshalSequentially(ctx, 1)\nb := marshalSequentially(ctx, 2)\ndeferred := newDeferredGroup(ctx, fields)\n"; string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	if _, _, err := rewrite(out); err == nil {
		t.Error("a file with nothing to rewrite was accepted")
	}
}

// TestGeneratedIsSequential ensures that the committed executor went through
// this program: a graph/generated.go written by plain gqlgen marshals lists
// concurrently again.
func TestGeneratedIsSequential(t *testing.T) {
	src, err := os.ReadFile("../../../graph/generated.go")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(src, eagerGroup) || !bytes.Contains(src, lazyGroup) {
		t.Error("graph/generated.go allocates a deferred group per object: regenerate it with `make generate`")
	}
	if bytes.Contains(src, concurrent) {
		t.Error("graph/generated.go calls graphql.MarshalSliceConcurrently: regenerate it with `make generate`")
	}
	if !bytes.Contains(src, sequential) {
		t.Error("graph/generated.go never calls marshalSequentially: regenerate it with `make generate`")
	}
}
