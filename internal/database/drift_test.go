package database_test

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entschema "entgo.io/ent/dialect/sql/schema"
	"entgo.io/ent/schema/field"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	entmigrate "github.com/banpro/factoring/ent/migrate"
	"github.com/banpro/factoring/ent/migrate/migrations"
	"github.com/banpro/factoring/internal/database"
)

// driftOptions name the migration a drift check would write; the version
// sorts after any real one, so a hand-written file never gets in the way.
var driftOptions = database.DiffOptions{Name: "drift", Version: "99991231235959"}

// TestSchemaDrift ensures that the newest migration of each dialect builds
// exactly the ent schema: replaying the directory on a clean database and
// diffing it against ent/migrate.Tables plans nothing. When it fails, the
// message shows the migration `make migration name=...` would write.
func TestSchemaDrift(t *testing.T) {
	eachEmpty(t, func(t *testing.T, dev *database.DB) {
		dir := dirCopy(t, dev.Dialect)
		file, err := database.Diff(context.Background(), dev, dir, driftOptions)
		require.NoError(t, err)
		if file != "" {
			t.Fatalf("el esquema ent y las migraciones de %s difieren; genere la migración con "+
				"`make migration name=...`. Faltaría:\n%s", dev.Dialect, readFile(t, dir, file))
		}
	})

	t.Run("MigrationMissingAChangeDetected", func(t *testing.T) {
		// Ensure that the check fails when the migrations lack something the
		// schema has: here the initial migration without one of its indexes.
		eachEmpty(t, func(t *testing.T, dev *database.DB) {
			dir := dirCopy(t, dev.Dialect)
			files, err := dir.Files()
			require.NoError(t, err)
			edited := &migrate.MemDir{}
			for _, f := range files {
				var kept []string
				for _, line := range strings.Split(string(f.Bytes()), "\n") {
					if !strings.Contains(line, "factura_rut_deudor") {
						kept = append(kept, line)
					}
				}
				require.NoError(t, edited.WriteFile(f.Name(), []byte(strings.Join(kept, "\n"))))
			}
			rehash(t, edited)

			file, err := database.Diff(context.Background(), dev, edited, driftOptions)
			require.NoError(t, err)
			require.NotEmpty(t, file)
			assert.Contains(t, readFile(t, edited, file), "factura_rut_deudor")
		})
	})

	t.Run("ExtraColumnDetected", func(t *testing.T) {
		// Ensure that the check fails when the ent schema has a column no
		// migration adds.
		eachEmpty(t, func(t *testing.T, dev *database.DB) {
			dir := dirCopy(t, dev.Dialect)
			tables := withExtraColumn(entmigrate.Tables, entmigrate.ClientesTable.Name, &entschema.Column{
				Name: "comuna", Type: field.TypeString, Size: 100, Nullable: true,
			})
			file, err := database.Diff(context.Background(), dev, dir, database.DiffOptions{Name: "drift", Version: driftOptions.Version, Tables: tables})
			require.NoError(t, err)
			require.NotEmpty(t, file)
			sql := readFile(t, dir, file)
			assert.Contains(t, sql, "ADD COLUMN")
			assert.Contains(t, sql, "comuna")
		})
	})

	t.Run("TableMissingFromSchemaDetected", func(t *testing.T) {
		// Ensure that a table the migrations create but the ent schema lost
		// is reported, although ent itself never plans DROP TABLE.
		eachEmpty(t, func(t *testing.T, dev *database.DB) {
			tables := slices.DeleteFunc(slices.Clone(entmigrate.Tables), func(et *entschema.Table) bool {
				return et == entmigrate.OperacionFacturasTable
			})
			_, err := database.Diff(context.Background(), dev, dirCopy(t, dev.Dialect),
				database.DiffOptions{Name: "drift", Version: driftOptions.Version, Tables: tables})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "operacion_facturas")
		})
	})

	// The directories include hand-written trigger migrations (the
	// append-only operacion_eventos): the check above replays them, and
	// they are not drift, because Atlas's open-source engine does not
	// inspect triggers or functions.
}

// withExtraColumn returns tables with a copy of table name that has column
// c too. The generated tables are shared globals, so nothing is modified.
func withExtraColumn(tables []*entschema.Table, name string, c *entschema.Column) []*entschema.Table {
	out := slices.Clone(tables)
	for i, et := range out {
		if et.Name == name {
			out[i] = &entschema.Table{
				Name:        et.Name,
				Columns:     append(slices.Clone(et.Columns), c),
				PrimaryKey:  et.PrimaryKey,
				ForeignKeys: et.ForeignKeys,
				Indexes:     et.Indexes,
				Annotation:  et.Annotation,
			}
		}
	}
	return out
}

func readFile(t *testing.T, dir migrate.Dir, name string) string {
	t.Helper()
	f, err := dir.Open(name)
	require.NoError(t, err)
	defer f.Close()
	b, err := io.ReadAll(f)
	require.NoError(t, err)
	return string(b)
}

// TestAtlasSum ensures that each embedded migration directory matches its
// atlas.sum, and that a mismatch is caught.
func TestAtlasSum(t *testing.T) {
	for _, dia := range []string{dialect.Postgres, dialect.SQLite} {
		t.Run(dia, func(t *testing.T) {
			dir, err := migrations.Dir(dia)
			require.NoError(t, err)
			require.NoError(t, migrate.Validate(dir),
				"atlas.sum no coincide: no edite migraciones a mano sin `go run ./internal/database/migrationgen -hash`")
			require.NoError(t, database.ValidateDir(dir))
		})
	}

	files, err := dirCopy(t, dialect.SQLite).Files()
	require.NoError(t, err)
	first := files[0]
	sum := readFile(t, dirCopy(t, dialect.SQLite), migrate.HashFileName)

	t.Run("EditedFileDetected", func(t *testing.T) {
		dir := dirCopy(t, dialect.SQLite)
		require.NoError(t, dir.WriteFile(first.Name(), append(first.Bytes(), "-- retocada\n"...)))
		requireChecksumError(t, dir, first.Name(), migrate.ReasonEdited)
	})

	t.Run("AddedFileDetected", func(t *testing.T) {
		dir := dirCopy(t, dialect.SQLite)
		require.NoError(t, dir.WriteFile("29991231000000_nueva.sql", []byte("SELECT 1;\n")))
		requireChecksumError(t, dir, "29991231000000_nueva.sql", migrate.ReasonAdded)
	})

	t.Run("RemovedFileDetected", func(t *testing.T) {
		dir := &migrate.MemDir{}
		for _, f := range files[1:] {
			require.NoError(t, dir.WriteFile(f.Name(), f.Bytes()))
		}
		require.NoError(t, dir.WriteFile(migrate.HashFileName, []byte(sum)))
		requireChecksumError(t, dir, first.Name(), migrate.ReasonRemoved)
	})

	t.Run("MissingSumDetected", func(t *testing.T) {
		dir := &migrate.MemDir{}
		require.NoError(t, dir.WriteFile(first.Name(), first.Bytes()))
		err := database.ValidateDir(dir)
		require.ErrorIs(t, err, migrate.ErrChecksumNotFound)
		assert.Contains(t, err.Error(), "atlas.sum")
	})
}

func requireChecksumError(t *testing.T, dir migrate.Dir, file string, reason migrate.Reason) {
	t.Helper()
	var ce *migrate.ChecksumError
	require.ErrorAs(t, migrate.Validate(dir), &ce)
	assert.Equal(t, file, ce.File)
	assert.Equal(t, reason, ce.Reason)
	err := database.ValidateDir(dir)
	require.ErrorIs(t, err, migrate.ErrChecksumMismatch)
	assert.Contains(t, err.Error(), "atlas.sum")
	assert.Contains(t, err.Error(), file)
}
