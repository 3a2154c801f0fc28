// Package migrations embeds the versioned Atlas migrations of the factoring
// database: one directory per dialect (postgres/ and sqlite/), each holding
// timestamp-named .sql files and the atlas.sum that hashes them.
//
// The files are generated from the ent schema by `make migration name=...`
// (internal/database/migrationgen) and applied by database.Migrate. A
// hand-written migration (a trigger, a data fix) is a new file in the same
// directory followed by `go run ./internal/database/migrationgen -hash`,
// which rewrites atlas.sum. Never edit a migration that has been applied.
//
// This package imports only the standard library, Atlas and ent's dialect
// names.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
	"path"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
)

//go:embed postgres sqlite
var files embed.FS

// dirs maps an ent dialect name to its directory.
var dirs = map[string]string{
	dialect.Postgres: "postgres",
	dialect.SQLite:   "sqlite",
}

// Path returns the directory, relative to this package, that holds the
// migrations of the ent dialect dia (dialect.Postgres or dialect.SQLite).
func Path(dia string) (string, error) {
	name, ok := dirs[dia]
	if !ok {
		return "", fmt.Errorf("no hay migraciones para el dialecto %q", dia)
	}
	return name, nil
}

// Dir returns the embedded migration directory of the ent dialect dia as a
// new in-memory Atlas directory. Each call returns a fresh copy, so a caller
// (a test building a negative case) may write to it without affecting
// anybody else.
func Dir(dia string) (migrate.Dir, error) {
	name, err := Path(dia)
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(files, name)
	if err != nil {
		return nil, fmt.Errorf("leer las migraciones embebidas de %s: %w", name, err)
	}
	dir := &migrate.MemDir{}
	dir.SetPath(name)
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := files.ReadFile(path.Join(name, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("leer la migración embebida %s: %w", e.Name(), err)
		}
		if err := dir.WriteFile(e.Name(), b); err != nil {
			return nil, err
		}
	}
	return dir, nil
}
