package database

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
)

// RevisionsTable is the table, in the application's schema, where Migrate
// records every applied migration. Its columns are the fields of Atlas's
// migrate.Revision.
const RevisionsTable = "atlas_schema_revisions"

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
