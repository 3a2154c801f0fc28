// Package database opens the API's database, PostgreSQL (pgx/v5) in
// production or SQLite (modernc, pure Go) as the embedded default, and
// applies its versioned Atlas migrations.
//
// Dialect differences stay here: connection settings, how SQLite serializes
// writers (immediate transactions and a busy timeout), and the one helper
// that adds a PostgreSQL row lock to a query.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver

	"github.com/banpro/factoring/ent"
)

// DB is an open database: the ent client the services use, the underlying
// *sql.DB (for migrations and health checks) and its dialect.
type DB struct {
	Client  *ent.Client
	SQL     *sql.DB
	Dialect string // dialect.Postgres or dialect.SQLite
	// Driver is the ent driver under Client, exposed so tests can wrap it.
	Driver dialect.Driver
	// Statements counts every SQL statement run through Client (one atomic
	// add each): the debug listener and the benchmark read it.
	Statements *StatementCounter
	// Health remembers whether requests found the database unreachable
	// (the GraphQL endpoint refuses requests while it is).
	Health *Health

	retries atomic.Int64
}

// Options tune Open.
type Options struct {
	// MaxOpenConns bounds the PostgreSQL pool (default 16).
	MaxOpenConns int
	// WrapDriver, when set, wraps the ent driver (tests count statements
	// with it).
	WrapDriver func(dialect.Driver) dialect.Driver
}

// Open connects to the database named by rawURL: postgres://… (or
// postgresql://…) or sqlite://PATH. It checks the connection before
// returning. Open does not migrate: see Migrate.
func Open(ctx context.Context, rawURL string, opts Options) (*DB, error) {
	driverName, dsn, dia, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if dia == dialect.SQLite {
		if err := ensureParentDir(rawURL); err != nil {
			return nil, err
		}
	}
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("abrir base de datos: %w", err)
	}
	configurePool(db, dia, opts)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("no se pudo conectar a la base de datos (%s): %w", Redact(rawURL), err)
	}
	drv, counter := CountStatements(entsql.OpenDB(dia, db))
	if opts.WrapDriver != nil {
		drv = opts.WrapDriver(drv)
	}
	return &DB{Client: ent.NewClient(ent.Driver(drv)), SQL: db, Dialect: dia, Driver: drv, Statements: counter,
		Health: NewHealth(db.PingContext)}, nil
}

// Close closes the database.
func (d *DB) Close() error { return d.Client.Close() }

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error { return d.SQL.PingContext(ctx) }

func parseURL(rawURL string) (driverName, dsn, dia string, err error) {
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		if _, err := url.Parse(rawURL); err != nil {
			return "", "", "", errors.New("FACTORING_DATABASE_URL no es una URL de PostgreSQL válida")
		}
		return "pgx", rawURL, dialect.Postgres, nil
	case strings.HasPrefix(rawURL, "sqlite://"):
		path := strings.TrimPrefix(rawURL, "sqlite://")
		if path == "" {
			return "", "", "", errors.New("FACTORING_DATABASE_URL: sqlite:// necesita una ruta, p. ej. sqlite://./data/factoring.db")
		}
		return "sqlite", sqliteDSN(path), dialect.SQLite, nil
	default:
		return "", "", "", errors.New("FACTORING_DATABASE_URL debe empezar con postgres:// o sqlite://")
	}
}

// sqliteDSN makes SQLite safe for concurrent writers: every transaction
// starts with BEGIN IMMEDIATE (it takes the write lock up front, so two
// writers never deadlock on a lock upgrade), waits up to 10 s for a busy
// database, uses WAL so readers do not block the writer, and enforces
// foreign keys. Times are stored in one sortable text format.
func sqliteDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	q.Set("_time_format", "sqlite")
	return "file:" + path + "?" + q.Encode()
}

func ensureParentDir(rawURL string) error {
	path := strings.TrimPrefix(rawURL, "sqlite://")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path == ":memory:" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("crear el directorio de la base de datos: %w", err)
	}
	return nil
}

func configurePool(db *sql.DB, dia string, opts Options) {
	if dia == dialect.SQLite {
		// One writer at a time anyway; a few connections let readers run
		// beside it under WAL.
		db.SetMaxOpenConns(4)
		db.SetMaxIdleConns(4)
		return
	}
	n := opts.MaxOpenConns
	if n <= 0 {
		n = 16
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(30 * time.Minute)
}

// Redact hides the password of a database URL, for messages and logs.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return rawURL
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// CreatePostgresDatabase creates the database name on the PostgreSQL server
// of serverURL (any database URL of that server), as a copy of template when
// template is not empty, and returns the URL that connects to the new
// database. Tests and the migration generator use it for throwaway
// databases; names are limited to lowercase letters, digits and _.
func CreatePostgresDatabase(ctx context.Context, serverURL, name, template string) (string, error) {
	dbURL, err := postgresDatabaseURL(serverURL, name)
	if err != nil {
		return "", err
	}
	stmt := "CREATE DATABASE " + name
	if template != "" {
		if !plainIdent(template) {
			return "", fmt.Errorf("nombre de base de datos plantilla inválido %q", template)
		}
		stmt += " TEMPLATE " + template
	}
	if err := execOnServer(ctx, serverURL, stmt); err != nil {
		return "", fmt.Errorf("crear la base de datos %s: %w", name, err)
	}
	return dbURL, nil
}

// DropPostgresDatabase drops the database name, if it exists, from the
// server of serverURL, closing any connection still open to it.
func DropPostgresDatabase(ctx context.Context, serverURL, name string) error {
	if !plainIdent(name) {
		return fmt.Errorf("nombre de base de datos inválido %q", name)
	}
	if err := execOnServer(ctx, serverURL, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("borrar la base de datos %s: %w", name, err)
	}
	return nil
}

// postgresDatabaseURL is serverURL pointing at database name.
func postgresDatabaseURL(serverURL, name string) (string, error) {
	if !plainIdent(name) {
		return "", fmt.Errorf("nombre de base de datos inválido %q", name)
	}
	u, err := url.Parse(serverURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("%q no es una URL de PostgreSQL válida", Redact(serverURL))
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String(), nil
}

func execOnServer(ctx context.Context, serverURL, stmt string) error {
	db, err := sql.Open("pgx", serverURL)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, stmt)
	return err
}

// plainIdent reports whether s is a PostgreSQL identifier that needs no
// quoting: lowercase letters, digits and _, not starting with a digit.
func plainIdent(s string) bool {
	if s == "" || len(s) > 63 || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}
