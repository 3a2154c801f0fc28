package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"runtime/debug"
	"strings"
	"text/template"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	atlasschema "ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqlite"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	entschema "entgo.io/ent/dialect/sql/schema"

	entmigrate "github.com/banpro/factoring/ent/migrate"
	"github.com/banpro/factoring/ent/migrate/migrations"
)

// RevisionsTable is the table, in the application's schema, where Migrate
// records every applied migration. Its columns are the fields of Atlas's
// migrate.Revision.
const RevisionsTable = "atlas_schema_revisions"

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

// revisionQuerier is what the revision store needs: a *sql.DB or a *sql.Tx.
type revisionQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// revisionsDDL creates RevisionsTable; the columns are Atlas's Revision
// fields, partial_hashes holding a JSON array.
var revisionsDDL = map[string]string{
	dialect.Postgres: `CREATE TABLE IF NOT EXISTS ` + RevisionsTable + ` (
	version character varying NOT NULL PRIMARY KEY,
	description character varying NOT NULL,
	type bigint NOT NULL DEFAULT 2,
	applied bigint NOT NULL DEFAULT 0,
	total bigint NOT NULL DEFAULT 0,
	executed_at timestamptz NOT NULL,
	execution_time bigint NOT NULL,
	error text NULL,
	error_stmt text NULL,
	hash character varying NOT NULL,
	partial_hashes text NULL,
	operator_version character varying NOT NULL
)`,
	dialect.SQLite: `CREATE TABLE IF NOT EXISTS ` + RevisionsTable + ` (
	version text NOT NULL PRIMARY KEY,
	description text NOT NULL,
	type integer NOT NULL DEFAULT 2,
	applied integer NOT NULL DEFAULT 0,
	total integer NOT NULL DEFAULT 0,
	executed_at datetime NOT NULL,
	execution_time integer NOT NULL,
	error text NULL,
	error_stmt text NULL,
	hash text NOT NULL,
	partial_hashes text NULL,
	operator_version text NOT NULL
)`,
}

func createRevisionsTable(ctx context.Context, q revisionQuerier, dia string) error {
	ddl, ok := revisionsDDL[dia]
	if !ok {
		return fmt.Errorf("migraciones: dialecto no soportado %q", dia)
	}
	if _, err := q.ExecContext(ctx, ddl); err != nil {
		return fmt.Errorf("migraciones: crear %s: %w", RevisionsTable, err)
	}
	return nil
}

func revisionsTableExists(ctx context.Context, q revisionQuerier, dia string) (bool, error) {
	query := `SELECT to_regclass('` + RevisionsTable + `') IS NOT NULL`
	if dia == dialect.SQLite {
		query = `SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '` + RevisionsTable + `')`
	}
	var ok bool
	if err := q.QueryRowContext(ctx, query).Scan(&ok); err != nil {
		return false, fmt.Errorf("migraciones: buscar %s: %w", RevisionsTable, err)
	}
	return ok, nil
}

func readRevisionsIfAny(ctx context.Context, q revisionQuerier, dia string) ([]*migrate.Revision, error) {
	ok, err := revisionsTableExists(ctx, q, dia)
	if err != nil || !ok {
		return nil, err
	}
	return (&revisionStore{q: q, dia: dia}).ReadRevisions(ctx)
}

// revisionStore is Atlas's migrate.RevisionReadWriter over RevisionsTable,
// inside Migrate's transaction.
type revisionStore struct {
	q      revisionQuerier
	dia    string
	schema string // PostgreSQL: current_schema(), for Atlas's clean check
}

var _ migrate.RevisionReadWriter = (*revisionStore)(nil)

func newRevisionStore(ctx context.Context, q revisionQuerier, dia string) (*revisionStore, error) {
	s := &revisionStore{q: q, dia: dia}
	if dia == dialect.Postgres {
		if err := q.QueryRowContext(ctx, "SELECT current_schema()").Scan(&s.schema); err != nil {
			return nil, fmt.Errorf("migraciones: leer current_schema(): %w", err)
		}
	}
	return s, nil
}

// Ident identifies the revisions table, which Atlas ignores when it checks
// that a database without revisions is clean.
func (s *revisionStore) Ident() *migrate.TableIdent {
	return &migrate.TableIdent{Name: RevisionsTable, Schema: s.schema}
}

const revisionColumns = `version, description, type, applied, total, executed_at, execution_time, ` +
	`error, error_stmt, hash, partial_hashes, operator_version`

// bind turns $n placeholders into SQLite's ?n.
func (s *revisionStore) bind(query string) string {
	if s.dia == dialect.SQLite {
		return strings.ReplaceAll(query, "$", "?")
	}
	return query
}

// ReadRevisions returns every revision, by version.
func (s *revisionStore) ReadRevisions(ctx context.Context) ([]*migrate.Revision, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT `+revisionColumns+` FROM `+RevisionsTable+` ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("migraciones: leer %s: %w", RevisionsTable, err)
	}
	defer rows.Close()
	var revs []*migrate.Revision
	for rows.Next() {
		r, err := scanRevision(rows)
		if err != nil {
			return nil, err
		}
		revs = append(revs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("migraciones: leer %s: %w", RevisionsTable, err)
	}
	return revs, nil
}

// ReadRevision returns the revision of version, or migrate.ErrRevisionNotExist.
func (s *revisionStore) ReadRevision(ctx context.Context, version string) (*migrate.Revision, error) {
	rows, err := s.q.QueryContext(ctx,
		s.bind(`SELECT `+revisionColumns+` FROM `+RevisionsTable+` WHERE version = $1`), version)
	if err != nil {
		return nil, fmt.Errorf("migraciones: leer la revisión %s: %w", version, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("migraciones: leer la revisión %s: %w", version, err)
		}
		return nil, migrate.ErrRevisionNotExist
	}
	return scanRevision(rows)
}

// WriteRevision inserts or replaces the revision.
func (s *revisionStore) WriteRevision(ctx context.Context, r *migrate.Revision) error {
	var partial sql.NullString
	if len(r.PartialHashes) > 0 {
		b, err := json.Marshal(r.PartialHashes)
		if err != nil {
			return err
		}
		partial = sql.NullString{String: string(b), Valid: true}
	}
	_, err := s.q.ExecContext(ctx, s.bind(`INSERT INTO `+RevisionsTable+` (`+revisionColumns+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (version) DO UPDATE SET
	description = excluded.description, type = excluded.type, applied = excluded.applied,
	total = excluded.total, executed_at = excluded.executed_at, execution_time = excluded.execution_time,
	error = excluded.error, error_stmt = excluded.error_stmt, hash = excluded.hash,
	partial_hashes = excluded.partial_hashes, operator_version = excluded.operator_version`),
		r.Version, r.Description, int64(r.Type), r.Applied, r.Total, r.ExecutedAt.UTC(),
		int64(r.ExecutionTime), revisionNullString(r.Error), revisionNullString(r.ErrorStmt), r.Hash, partial,
		r.OperatorVersion)
	if err != nil {
		return fmt.Errorf("migraciones: escribir la revisión %s: %w", r.Version, err)
	}
	return nil
}

// DeleteRevision deletes the revision of version.
func (s *revisionStore) DeleteRevision(ctx context.Context, version string) error {
	if _, err := s.q.ExecContext(ctx, s.bind(`DELETE FROM `+RevisionsTable+` WHERE version = $1`), version); err != nil {
		return fmt.Errorf("migraciones: borrar la revisión %s: %w", version, err)
	}
	return nil
}

func scanRevision(rows *sql.Rows) (*migrate.Revision, error) {
	var (
		r                         migrate.Revision
		typ, execTime             int64
		errText, errStmt, partial sql.NullString
	)
	if err := rows.Scan(&r.Version, &r.Description, &typ, &r.Applied, &r.Total, &r.ExecutedAt,
		&execTime, &errText, &errStmt, &r.Hash, &partial, &r.OperatorVersion); err != nil {
		return nil, fmt.Errorf("migraciones: leer %s: %w", RevisionsTable, err)
	}
	r.Type = migrate.RevisionType(typ)
	r.ExecutionTime = time.Duration(execTime)
	r.Error, r.ErrorStmt = errText.String, errStmt.String
	if partial.Valid && partial.String != "" {
		if err := json.Unmarshal([]byte(partial.String), &r.PartialHashes); err != nil {
			return nil, fmt.Errorf("migraciones: partial_hashes de %s: %w", r.Version, err)
		}
	}
	return &r, nil
}

func revisionNullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

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
