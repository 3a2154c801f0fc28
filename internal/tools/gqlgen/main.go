// Command gqlgen is the project's gqlgen: the second step of the root
// generate.go (`go generate .`, which `make generate` runs). It generates
// the GraphQL code from gqlgen.yml exactly as `gqlgen generate` does and
// then points the generated executor at graph.marshalSequentially, so
// lists of objects are marshaled without a goroutine per element (see that
// function's documentation for why). The two steps are one program so that
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
)

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
	fmt.Printf("gqlgen: %d listas se serializan en secuencia en %s\n", n, path)
	return nil
}

// rewrite points every concurrent list marshaling in src at
// marshalSequentially and says how many it changed.
func rewrite(src []byte) ([]byte, int, error) {
	n := bytes.Count(src, concurrent)
	if n == 0 {
		return nil, 0, errors.New("no llama a graphql.MarshalSliceConcurrently: revise el cambio de gqlgen")
	}
	return bytes.ReplaceAll(src, concurrent, sequential), n, nil
}
