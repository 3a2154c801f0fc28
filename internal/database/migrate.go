package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"runtime/debug"
	"strings"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/sqlite"
	"entgo.io/ent/dialect"

	"github.com/banpro/factoring/ent/migrate/migrations"
)

// Status is where a database stands against its migration directory.
type Status struct {
	// Applied lists the versions recorded as fully applied, in order.
	Applied []string
	// Pending lists the versions of the directory not applied yet, in order.
	Pending []string
	// Current is the last applied version, "" on a fresh database.
	Current string
}

// Migrate applies the pending migrations embedded in the binary for the
// database's dialect, with Atlas's executor, and returns the versions it
// applied, in order (none when the database is up to date).
//
// Before anything runs, the directory is checked against its atlas.sum: an
// edited, added or removed file is refused. Each migration file runs in its
// own transaction together with its revision row, so a failed file leaves
// nothing behind and the error names it ("la migración 2026…_x falló: …").
//
// Two processes migrating at once apply each file once: every transaction
// first takes the migration lock and only then reads which files are
// pending. On PostgreSQL the lock is pg_advisory_xact_lock (released at
// commit); on SQLite it is the database write lock itself, taken by the
// BEGIN IMMEDIATE that Open's connection string makes every transaction
// start with (a second migrator waits up to the 10 s busy timeout). As Atlas
// does, SQLite migrations run with foreign_keys off, so tables can be
// rebuilt, and the transaction is refused at commit if it leaves a foreign
// key violation behind.
func Migrate(ctx context.Context, db *DB) ([]string, error) {
	dir, err := migrations.Dir(db.Dialect)
	if err != nil {
		return nil, err
	}
	return MigrateDir(ctx, db, dir)
}

// MigrateDir is Migrate over the migration directory dir instead of the
// embedded one. Tests use it to apply a modified copy.
func MigrateDir(ctx context.Context, db *DB, dir migrate.Dir) ([]string, error) {
	if err := ValidateDir(dir); err != nil {
		return nil, err
	}
	// A cheap look without the lock first: starting the server on an
	// up-to-date database costs two small queries.
	st, err := dirStatus(ctx, db.SQL, db.Dialect, dir)
	if err != nil {
		return nil, err
	}
	if len(st.Pending) == 0 {
		return nil, nil
	}
	var applied []string
	for {
		version, err := applyNext(ctx, db, dir)
		switch {
		case errors.Is(err, migrate.ErrNoPendingFiles):
			return applied, nil
		case err != nil:
			return applied, err
		}
		applied = append(applied, version)
	}
}

// MigrationStatus reports which migrations of the embedded directory are
// applied and which are pending. It takes no lock and runs two small
// queries, so a readiness probe may call it.
func MigrationStatus(ctx context.Context, db *DB) (Status, error) {
	dir, err := migrations.Dir(db.Dialect)
	if err != nil {
		return Status{}, err
	}
	return dirStatus(ctx, db.SQL, db.Dialect, dir)
}

// Pending returns how many embedded migrations the database still lacks
// (0 when it is up to date), for the server's readiness probe.
func Pending(ctx context.Context, db *DB) (int, error) {
	st, err := MigrationStatus(ctx, db)
	if err != nil {
		return 0, err
	}
	return len(st.Pending), nil
}

// ValidateDir checks the migration directory against its atlas.sum, as
// Atlas's migrate.Validate does, and explains a mismatch in Spanish.
func ValidateDir(dir migrate.Dir) error {
	err := migrate.Validate(dir)
	if err == nil {
		return nil
	}
	where := "las migraciones"
	if p, ok := dir.(interface{ Path() string }); ok && p.Path() != "" {
		where = "las migraciones de " + p.Path()
	}
	var ce *migrate.ChecksumError
	switch {
	case errors.As(err, &ce):
		what := map[migrate.Reason]string{
			migrate.ReasonAdded:   "agregado",
			migrate.ReasonEdited:  "editado",
			migrate.ReasonRemoved: "eliminado",
		}[ce.Reason]
		return fmt.Errorf("%s no coinciden con atlas.sum (archivo %s %s; ¿se editó una migración ya generada?): %w",
			where, ce.File, what, err)
	case errors.Is(err, migrate.ErrChecksumNotFound):
		return fmt.Errorf("%s no tienen atlas.sum: %w", where, err)
	default:
		return fmt.Errorf("%s no coinciden con atlas.sum: %w", where, err)
	}
}

// applyNext applies the first pending migration in one locked transaction
// and returns its version, or migrate.ErrNoPendingFiles.
func applyNext(ctx context.Context, db *DB, dir migrate.Dir) (version string, err error) {
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		return "", fmt.Errorf("migraciones: obtener una conexión: %w", err)
	}
	defer conn.Close()
	tx, err := beginMigration(ctx, conn, db.Dialect)
	if err != nil {
		return "", err
	}
	committed := false
	defer func() {
		if !committed {
			if rerr := tx.rollback(); rerr != nil && err == nil {
				err = fmt.Errorf("migraciones: deshacer la transacción: %w", rerr)
			}
		}
	}()
	if err := createRevisionsTable(ctx, tx.Tx, db.Dialect); err != nil {
		return "", err
	}
	rrw, err := newRevisionStore(ctx, tx.Tx, db.Dialect)
	if err != nil {
		return "", err
	}
	drv, err := atlasDriver(tx.Tx, db.Dialect)
	if err != nil {
		return "", err
	}
	ex, err := migrate.NewExecutor(drv, dir, rrw, migrate.WithOperatorVersion(operatorVersion()))
	if err != nil {
		return "", fmt.Errorf("migraciones: %w", err)
	}
	pending, err := ex.Pending(ctx)
	if err != nil {
		if errors.Is(err, migrate.ErrNoPendingFiles) {
			return "", err
		}
		return "", pendingError(err)
	}
	f := pending[0]
	name := strings.TrimSuffix(f.Name(), ".sql")
	if err := ex.Execute(ctx, f); err != nil {
		var se *migrate.StmtExecError
		if errors.As(err, &se) {
			return "", fmt.Errorf("la migración %s falló en la sentencia %q: %w", name, stmtSummary(se.Stmt.Text), se.Err)
		}
		return "", fmt.Errorf("la migración %s falló: %w", name, err)
	}
	if err := tx.commit(); err != nil {
		committed = true // commit either committed or rolled back
		return "", fmt.Errorf("la migración %s falló al confirmarla: %w", name, err)
	}
	committed = true
	return f.Version(), nil
}

// migrationTx is one transaction of Migrate, holding the migration lock.
type migrationTx struct {
	*sql.Tx
	commit, rollback func() error
}

// migrationLockKey is the PostgreSQL advisory lock key of Migrate.
var migrationLockKey = func() int64 {
	h := fnv.New64a()
	h.Write([]byte("github.com/banpro/factoring/migraciones"))
	return int64(h.Sum64())
}()

func beginMigration(ctx context.Context, conn *sql.Conn, dia string) (*migrationTx, error) {
	switch dia {
	case dialect.Postgres:
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("migraciones: iniciar la transacción: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLockKey); err != nil {
			_ = tx.Rollback()
			return nil, fmt.Errorf("migraciones: tomar el bloqueo de migraciones: %w", err)
		}
		return &migrationTx{Tx: tx, commit: tx.Commit, rollback: tx.Rollback}, nil
	case dialect.SQLite:
		// foreign_keys can only change outside a transaction. Atlas's
		// CommitFunc/RollbackFunc turn it back on; if even that fails the
		// connection is discarded rather than returned to the pool without
		// foreign keys.
		if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = off"); err != nil {
			return nil, fmt.Errorf("migraciones: desactivar foreign_keys: %w", err)
		}
		restore := func(err error) error {
			if _, ferr := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = on"); ferr != nil {
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
			return err
		}
		tx, err := conn.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock
		if err != nil {
			return nil, restore(fmt.Errorf("migraciones: tomar el bloqueo de escritura de SQLite: %w", err))
		}
		commit, err := sqlite.CommitFunc(ctx, conn, tx, true)
		if err != nil {
			_ = tx.Rollback()
			return nil, restore(fmt.Errorf("migraciones: %w", err))
		}
		rollback := sqlite.RollbackFunc(ctx, conn, tx, true)
		guard := func(f func() error) func() error {
			return func() error {
				if err := f(); err != nil {
					return restore(err)
				}
				return nil
			}
		}
		return &migrationTx{Tx: tx, commit: guard(commit), rollback: guard(rollback)}, nil
	default:
		return nil, fmt.Errorf("migraciones: dialecto no soportado %q", dia)
	}
}

func atlasDriver(tx *sql.Tx, dia string) (migrate.Driver, error) {
	var (
		drv migrate.Driver
		err error
	)
	switch dia {
	case dialect.Postgres:
		drv, err = postgres.Open(tx)
	case dialect.SQLite:
		drv, err = sqlite.Open(tx)
	default:
		err = fmt.Errorf("dialecto no soportado %q", dia)
	}
	if err != nil {
		return nil, fmt.Errorf("migraciones: abrir el driver de Atlas: %w", err)
	}
	return drv, nil
}

// pendingError explains why Atlas could not tell the pending files.
func pendingError(err error) error {
	var (
		nce *migrate.NotCleanError
		hne *migrate.HistoryNonLinearError
	)
	switch {
	case errors.As(err, &nce):
		return fmt.Errorf("la base de datos no está vacía y no tiene historial de migraciones en %s (%s); "+
			"use una base nueva: %w", RevisionsTable, nce.Reason, err)
	case errors.As(err, &hne):
		names := make([]string, len(hne.OutOfOrder))
		for i, f := range hne.OutOfOrder {
			names[i] = f.Name()
		}
		return fmt.Errorf("migraciones agregadas fuera de orden (anteriores a la última aplicada): %s: %w",
			strings.Join(names, ", "), err)
	default:
		return fmt.Errorf("migraciones: calcular las pendientes: %w", err)
	}
}

// stmtSummary is a statement on one line, cut for an error message.
func stmtSummary(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}

// operatorVersion is recorded in every revision, as Atlas's CLI records its
// own version: "factoring (ariga.io/atlas v0.32.1-…)" when the binary
// carries its build information.
func operatorVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "ariga.io/atlas" {
				return "factoring (ariga.io/atlas " + d.Version + ")"
			}
		}
	}
	return "factoring (ariga.io/atlas)"
}

// dirStatus compares the revisions recorded in the database with dir.
func dirStatus(ctx context.Context, q revisionQuerier, dia string, dir migrate.Dir) (Status, error) {
	files, err := dir.Files()
	if err != nil {
		return Status{}, fmt.Errorf("migraciones: leer el directorio: %w", err)
	}
	revs, err := readRevisionsIfAny(ctx, q, dia)
	if err != nil {
		return Status{}, err
	}
	var st Status
	done := make(map[string]bool, len(revs))
	for _, r := range revs {
		if r.Applied == r.Total {
			st.Applied = append(st.Applied, r.Version)
			done[r.Version] = true
		}
	}
	for _, f := range files {
		if !done[f.Version()] {
			st.Pending = append(st.Pending, f.Version())
		}
	}
	if n := len(st.Applied); n > 0 {
		st.Current = st.Applied[n-1]
	}
	return st, nil
}
