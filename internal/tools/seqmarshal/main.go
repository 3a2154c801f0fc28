// Command seqmarshal is the last step of `make generate`: it points the
// gqlgen-generated executor at graph.marshalSequentially, so lists of
// objects are marshaled without a goroutine per element (see that
// function's documentation for why).
//
//	go run ./internal/tools/seqmarshal graph/generated.go
//
// It fails when it finds nothing to rewrite: a gqlgen upgrade that changes
// the generated call must be looked at, not silently lose the rewrite.
package main

import (
	"bytes"
	"fmt"
	"os"
)

var (
	from = []byte("graphql.MarshalSliceConcurrently(")
	to   = []byte("marshalSequentially(")
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "uso: seqmarshal graph/generated.go")
		os.Exit(2)
	}
	path := os.Args[1]
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "seqmarshal:", err)
		os.Exit(1)
	}
	n := bytes.Count(src, from)
	if n == 0 {
		fmt.Fprintf(os.Stderr, "seqmarshal: %s no llama a graphql.MarshalSliceConcurrently: revise el cambio de gqlgen\n", path)
		os.Exit(1)
	}
	out := bytes.ReplaceAll(src, from, to)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "seqmarshal:", err)
		os.Exit(1)
	}
	fmt.Printf("seqmarshal: %d listas se serializan en secuencia en %s\n", n, path)
}
