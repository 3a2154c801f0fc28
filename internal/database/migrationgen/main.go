// Command migrationgen writes the next versioned Atlas migration from the ent
// schema, for PostgreSQL and SQLite. `make migration name=...` runs it from
// the repository root:
//
//	go run ./internal/database/migrationgen -name agrega_comuna
//
// For each dialect it replays ent/migrate/migrations/<dialect> on a clean dev
// database, diffs the result against ent/migrate.Tables and, when they
// differ, writes <version>_<name>.sql there and rewrites atlas.sum (see
// database.Diff). When nothing changed it says so and writes nothing.
//
// The SQLite dev database is a temporary file. The PostgreSQL one is a
// temporary database created on the server of FACTORING_DEV_DATABASE_URL
// (default postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable) and
// dropped afterwards.
//
// After adding or fixing a hand-written migration file, rewrite atlas.sum
// with:
//
//	go run ./internal/database/migrationgen -hash
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"

	"github.com/banpro/factoring/ent/migrate/migrations"
	"github.com/banpro/factoring/internal/database"
)

const defaultDevURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "migrationgen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("migrationgen", flag.ContinueOnError)
	var (
		name     = fs.String("name", "", "nombre de la migración, en snake_case (p. ej. agrega_comuna)")
		version  = fs.String("version", "", "versión (timestamp UTC 20060102150405); por defecto, ahora")
		root     = fs.String("dir", filepath.Join("ent", "migrate", "migrations"), "directorio con las migraciones de cada dialecto")
		dialects = fs.String("dialects", "postgres,sqlite", "dialectos a generar, separados por coma")
		hash     = fs.Bool("hash", false, "solo reescribir atlas.sum de cada dialecto (tras editar una migración a mano)")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("argumentos inesperados: %s", strings.Join(fs.Args(), " "))
	}
	if !*hash && *name == "" {
		return errors.New("falta -name (p. ej. make migration name=agrega_comuna)")
	}
	if *version == "" {
		*version = migrate.NewVersion() // one version for every dialect
	}
	for _, d := range strings.Split(*dialects, ",") {
		dia, err := entDialect(strings.TrimSpace(d))
		if err != nil {
			return err
		}
		sub, err := migrations.Path(dia)
		if err != nil {
			return err
		}
		path := filepath.Join(*root, sub)
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("no se encuentra %s: ejecute migrationgen desde la raíz del repositorio: %w", path, err)
		}
		dir, err := migrate.NewLocalDir(path)
		if err != nil {
			return err
		}
		if *hash {
			sum, err := dir.Checksum()
			if err != nil {
				return err
			}
			if err := migrate.WriteSumFile(dir, sum); err != nil {
				return err
			}
			fmt.Fprintf(out, "%s: atlas.sum reescrito\n", path)
			continue
		}
		file, err := generate(ctx, dia, dir, database.DiffOptions{Name: *name, Version: *version})
		if err != nil {
			return fmt.Errorf("%s: %w", sub, err)
		}
		if file == "" {
			fmt.Fprintf(out, "%s: sin cambios en el esquema ent, no se necesita migración\n", path)
			continue
		}
		fmt.Fprintf(out, "%s: escrita %s (y atlas.sum)\n", path, file)
	}
	return nil
}

// generate runs database.Diff on a throwaway dev database of dia.
func generate(ctx context.Context, dia string, dir migrate.Dir, opts database.DiffOptions) (string, error) {
	dev, cleanup, err := devDatabase(ctx, dia)
	if err != nil {
		return "", err
	}
	defer cleanup()
	return database.Diff(ctx, dev, dir, opts)
}

func devDatabase(ctx context.Context, dia string) (*database.DB, func(), error) {
	switch dia {
	case dialect.SQLite:
		tmp, err := os.MkdirTemp("", "factoring-migrationgen-")
		if err != nil {
			return nil, nil, err
		}
		db, err := database.Open(ctx, "sqlite://"+filepath.Join(tmp, "dev.db"), database.Options{})
		if err != nil {
			_ = os.RemoveAll(tmp)
			return nil, nil, err
		}
		return db, func() { _ = db.Close(); _ = os.RemoveAll(tmp) }, nil
	default:
		server := os.Getenv("FACTORING_DEV_DATABASE_URL")
		if server == "" {
			server = defaultDevURL
		}
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		name := "factoring_dev_" + hex.EncodeToString(b)
		url, err := database.CreatePostgresDatabase(ctx, server, name, "")
		if err != nil {
			return nil, nil, fmt.Errorf("base de desarrollo en %s (FACTORING_DEV_DATABASE_URL; o use -dialects sqlite): %w",
				database.Redact(server), err)
		}
		drop := func() {
			if err := database.DropPostgresDatabase(context.WithoutCancel(ctx), server, name); err != nil {
				fmt.Fprintln(os.Stderr, "migrationgen:", err)
			}
		}
		db, err := database.Open(ctx, url, database.Options{})
		if err != nil {
			drop()
			return nil, nil, err
		}
		return db, func() { _ = db.Close(); drop() }, nil
	}
}

func entDialect(s string) (string, error) {
	switch s {
	case "postgres", "postgresql":
		return dialect.Postgres, nil
	case "sqlite", "sqlite3":
		return dialect.SQLite, nil
	default:
		return "", fmt.Errorf("dialecto desconocido %q (postgres o sqlite)", s)
	}
}
