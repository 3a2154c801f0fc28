// Command gqlgen is the project's gqlgen: the second step of the root
// generate.go (`go generate .`, which `make generate` runs). It generates
// the GraphQL code from gqlgen.yml exactly as `gqlgen generate` does and
// then points the generated executor at two functions of package graph:
// marshalSequentially, so lists of objects are marshaled without a
// goroutine per element, and newDeferredGroup, so an object with no @defer'd
// field does not allocate the bookkeeping of one (see their documentation
// for why). The two steps are one program so that
// no command writes graph/generated.go without the rewrite; the project
// does not declare gqlgen's own command as a tool.
//
// It fails when it finds nothing to rewrite: a gqlgen upgrade that changes
// the generated call must be looked at, not silently lose the rewrite.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"path/filepath"

	"github.com/99designs/gqlgen/api"
	"github.com/99designs/gqlgen/codegen/config"
)

var (
	concurrent = []byte("graphql.MarshalSliceConcurrently(")
	sequential = []byte("marshalSequentially(")
	eagerGroup = []byte("deferred := graphql.NewDeferredGroup(ctx)")
	lazyGroup  = []byte("deferred := newDeferredGroup(ctx, fields)")
)

// rewrites are the replacements, in order; each must happen at least once.
var rewrites = []struct{ old, new []byte }{
	{concurrent, sequential},
	{eagerGroup, lazyGroup},
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gqlgen:", err)
		os.Exit(1)
	}
}

func run() error {
	// gqlgen reports progress on the standard logger; its own command
	// silences it unless asked to be verbose, and so does this one.
	log.SetOutput(io.Discard)
	cfg, err := config.LoadConfigFromDefaultLocations()
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no se encontró gqlgen.yml: ejecute `go generate .` o `make generate` desde la raíz del repositorio")
	}
	if err != nil {
		return err
	}
	if err := api.Generate(cfg); err != nil {
		return err
	}
	path := cfg.Exec.Filename
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, n, err := rewrite(src)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		return err
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, path); err == nil {
			path = rel
		}
	}
	fmt.Printf("gqlgen: %d llamadas reescritas en %s\n", n, path)
	return nil
}

// rewrite makes every replacement of rewrites in src and says how many it
// made in all.
func rewrite(src []byte) ([]byte, int, error) {
	total := 0
	for _, r := range rewrites {
		n := bytes.Count(src, r.old)
		if n == 0 {
			return nil, 0, fmt.Errorf("no aparece %q: revise el cambio de gqlgen", r.old)
		}
		src = bytes.ReplaceAll(src, r.old, r.new)
		total += n
	}
	return src, total, nil
}
