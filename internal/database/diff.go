package database

import (
	"context"
	"fmt"
	"strings"
	"text/template"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	atlasschema "ariga.io/atlas/sql/schema"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	entschema "entgo.io/ent/dialect/sql/schema"

	entmigrate "github.com/banpro/factoring/ent/migrate"
)

// DiffOptions tune Diff.
type DiffOptions struct {
	// Name of the new migration, in snake_case: "agrega_comuna" gives
	// 20261126120000_agrega_comuna.sql. Required.
	Name string
	// Version of the new migration, a UTC timestamp as Atlas writes it
	// (20060102150405). Empty means now. It must sort after every file
	// already in the directory.
	Version string
	// Tables is the desired schema. Nil means the ent schema
	// (ent/migrate.Tables); tests pass a modified copy.
	Tables []*entschema.Table
}

// Diff replays the migration directory dir on dev, a clean database of the
// same dialect (ent refuses one with tables), compares the schema it builds
// with the ent schema and, when they differ, writes the statements that turn
// the first into the second to dir as a new migration file and rewrites
// atlas.sum. It returns the new file's name, or "" when the directory
// already matches the schema. Replaying leaves dev empty again.
//
// Dropped columns and indexes are planned like any other change. A table
// that the migrations create but the schema lacks is an error: ent never
// plans DROP TABLE, so that migration is written by hand. Atlas's open
// source engine does not inspect triggers, functions or views, so those,
// written by hand in later migrations, are never seen as a difference.
func Diff(ctx context.Context, dev *DB, dir migrate.Dir, opts DiffOptions) (string, error) {
	if !validMigrationName(opts.Name) {
		return "", fmt.Errorf("nombre de migración inválido %q: use minúsculas, dígitos y _ (p. ej. agrega_comuna)", opts.Name)
	}
	tables := opts.Tables
	if tables == nil {
		tables = entmigrate.Tables
	}
	if err := ValidateDir(dir); err != nil {
		return "", err
	}
	before, err := dir.Files()
	if err != nil {
		return "", fmt.Errorf("leer el directorio de migraciones: %w", err)
	}
	version := opts.Version
	if version == "" {
		version = migrate.NewVersion()
	}
	if err := migrate.CheckVersion(version); err != nil {
		return "", fmt.Errorf("versión de migración inválida %q: %w", version, err)
	}
	if n := len(before); n > 0 && version <= before[n-1].Version() {
		return "", fmt.Errorf("la versión %s no es posterior a la última migración %s", version, before[n-1].Name())
	}
	// The file name template of Atlas's DefaultFormatter with the version
	// fixed, so both dialects get the same one; the content template as is.
	name, err := template.New("").Parse(version + "{{ with .Name }}_{{ . }}{{ end }}.sql")
	if err != nil {
		return "", err
	}
	format, err := migrate.NewTemplateFormatter(name, migrate.DefaultFormatter[0].C)
	if err != nil {
		return "", err
	}
	m, err := entschema.NewMigrate(entsql.OpenDB(dev.Dialect, dev.SQL),
		entschema.WithDir(dir),
		entschema.WithMigrationMode(entschema.ModeReplay),
		entschema.WithDialect(dev.Dialect),
		entschema.WithFormatter(format),
		entschema.WithDropColumn(true),
		entschema.WithDropIndex(true),
		entschema.WithDiffHook(refuseDropTable, firstIDAfterRangeStart(dev.Dialect)),
	)
	if err != nil {
		return "", fmt.Errorf("preparar el diff de ent: %w", err)
	}
	if err := m.NamedDiff(ctx, opts.Name, tables...); err != nil {
		return "", fmt.Errorf("comparar las migraciones con el esquema ent (%s): %w", dev.Dialect, err)
	}
	after, err := dir.Files()
	if err != nil {
		return "", fmt.Errorf("leer el directorio de migraciones: %w", err)
	}
	seen := make(map[string]bool, len(before))
	for _, f := range before {
		seen[f.Name()] = true
	}
	for _, f := range after {
		if !seen[f.Name()] {
			return f.Name(), nil
		}
	}
	return "", nil
}

// refuseDropTable is an ent diff hook failing on a table the ent schema no
// longer has: ent filters DROP TABLE out of its plans, which would hide it.
func refuseDropTable(next entschema.Differ) entschema.Differ {
	return entschema.DiffFunc(func(current, desired *atlasschema.Schema) ([]atlasschema.Change, error) {
		changes, err := next.Diff(current, desired)
		if err != nil {
			return nil, err
		}
		var dropped []string
		for _, c := range changes {
			if d, ok := c.(*atlasschema.DropTable); ok {
				dropped = append(dropped, d.T.Name)
			}
		}
		if len(dropped) > 0 {
			return nil, fmt.Errorf("las migraciones crean tablas que el esquema ent no tiene (%s): "+
				"ent no genera DROP TABLE, escriba esa migración a mano", strings.Join(dropped, ", "))
		}
		return changes, nil
	})
}

// firstIDAfterRangeStart makes both dialects hand out the same first id in
// each global-id range. ent annotates every table with the start of its 2^32
// range (facturas 4294967296, …). Atlas writes that start as SQLite's
// sqlite_sequence value, so SQLite's first id is start+1 (4294967297), but as
// PostgreSQL's identity START WITH, whose first id is start itself. This hook
// moves the PostgreSQL start one up (a start of 0, clientes, is already the
// default 1 there), so on both dialects the first id of range N is
// N·2^32+1 and a test running on both sees the same ids.
func firstIDAfterRangeStart(dia string) entschema.DiffHook {
	return func(next entschema.Differ) entschema.Differ {
		return entschema.DiffFunc(func(current, desired *atlasschema.Schema) ([]atlasschema.Change, error) {
			if dia == dialect.Postgres {
				for _, t := range desired.Tables {
					for _, c := range t.Columns {
						for _, a := range c.Attrs {
							if id, ok := a.(*postgres.Identity); ok && id.Sequence != nil &&
								id.Sequence.Start > 0 && id.Sequence.Start%(1<<32) == 0 {
								id.Sequence.Start++
							}
						}
					}
				}
			}
			return next.Diff(current, desired)
		})
	}
}

func validMigrationName(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}
