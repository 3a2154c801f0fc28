// Databases: every integration test gets its database here, real, built
// by the real migrations, private to the test: SQLite always, PostgreSQL
// when a server answers.
//
//	func TestAprobarOperacion(t *testing.T) {
//		testkit.EachDB(t, func(t *testing.T, db *database.DB) {
//			// ... db.Client ...
//		})
//	}
//
// PostgreSQL databases are created on the server of
// FACTORING_TEST_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable). When no
// server answers, PostgreSQL tests are skipped, with one loud line, unless
// FACTORING_REQUIRE_POSTGRES=1 (CI), which makes them fail instead.
//
// Speed: on PostgreSQL a database costs its CREATE DATABASE (~150-300 ms,
// whatever the template) plus ~100-150 ms to migrate it; on SQLite migrating
// costs ~25 ms. So each dialect is migrated once and then copied. On
// PostgreSQL the migrated copy is a template database named after the hash
// of the migration directory (factoring_tpl_<hash>), built once per server
// and migration set under an advisory lock, and shared by every test
// process; each test gets CREATE DATABASE factoring_test_<random> TEMPLATE
// it, dropped WITH (FORCE) at cleanup (~20 ms). On SQLite the migrated file
// is kept in memory once per process and written to a fresh file in
// t.TempDir() per test (~10 ms in all). A template of an older migration set
// stays on the server (a few MB): another checkout may still be using it.

package testkit

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/banpro/factoring/ent/migrate/migrations"
	"github.com/banpro/factoring/internal/database"
)

const (
	// EnvDatabaseURL names the PostgreSQL server the tests create databases on.
	EnvDatabaseURL = "FACTORING_TEST_DATABASE_URL"
	// EnvRequirePostgres, set to 1, turns a missing PostgreSQL into a failure.
	EnvRequirePostgres = "FACTORING_REQUIRE_POSTGRES"
	// DefaultPostgresURL is used when EnvDatabaseURL is not set.
	DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
)

// SQLite returns a migrated database in a fresh temp file (t.TempDir()),
// closed at cleanup.
func SQLite(t testing.TB) *database.DB {
	t.Helper()
	return SQLiteWith(t, database.Options{})
}

// SQLiteWith is SQLite with Open options, e.g. a WrapDriver that counts
// statements.
func SQLiteWith(t testing.TB, opts database.Options) *database.DB {
	t.Helper()
	image, err := sqliteImage()
	if err != nil {
		t.Fatalf("testkit: preparar SQLite migrada: %v", err)
	}
	path := filepath.Join(t.TempDir(), "factoring.db")
	if err := os.WriteFile(path, image, 0o600); err != nil {
		t.Fatalf("testkit: %v", err)
	}
	return open(t, "sqlite://"+path, opts)
}

// Postgres returns a migrated, empty PostgreSQL database private to this
// test: a new database (factoring_test_<random>) on the server of
// FACTORING_TEST_DATABASE_URL, dropped at cleanup. When no PostgreSQL
// answers, the test is skipped (or fails with FACTORING_REQUIRE_POSTGRES=1).
func Postgres(t testing.TB) *database.DB {
	t.Helper()
	return PostgresWith(t, database.Options{})
}

// PostgresWith is Postgres with Open options, e.g. a WrapDriver that counts
// statements.
func PostgresWith(t testing.TB, opts database.Options) *database.DB {
	t.Helper()
	server := PostgresServerURL()
	requirePostgres(t, server)
	tpl, err := postgresTemplate(server)
	if err != nil {
		t.Fatalf("testkit: preparar la plantilla PostgreSQL migrada: %v", err)
	}
	return newPostgres(t, server, tpl, opts)
}

// PostgresURL creates a migrated, empty PostgreSQL database private to this
// test, dropped at cleanup and skipped like Postgres, and returns its URL
// without opening it: for end-to-end tests that hand the URL to the binary
// (serve, worker) and want the schema already in place.
func PostgresURL(t testing.TB) string {
	t.Helper()
	server := PostgresServerURL()
	requirePostgres(t, server)
	tpl, err := postgresTemplate(server)
	if err != nil {
		t.Fatalf("testkit: preparar la plantilla PostgreSQL migrada: %v", err)
	}
	return createPostgres(t, server, tpl)
}

// EmptySQLite returns an empty, unmigrated SQLite database in a fresh temp
// file, closed at cleanup: for the tests of the migrations themselves.
func EmptySQLite(t testing.TB) *database.DB {
	t.Helper()
	return open(t, "sqlite://"+filepath.Join(t.TempDir(), "factoring.db"), database.Options{})
}

// EmptyPostgres returns an empty, unmigrated PostgreSQL database private to
// this test, dropped at cleanup and skipped like Postgres: for the tests of
// the migrations themselves.
func EmptyPostgres(t testing.TB) *database.DB {
	t.Helper()
	server := PostgresServerURL()
	requirePostgres(t, server)
	return newPostgres(t, server, "", database.Options{})
}

// EmptyPostgresURL creates an empty, unmigrated PostgreSQL database private
// to this test, dropped at cleanup and skipped like Postgres, and returns
// its URL without opening it: for end-to-end tests that hand the URL to the
// binary, which migrates and opens it itself.
func EmptyPostgresURL(t testing.TB) string {
	t.Helper()
	server := PostgresServerURL()
	requirePostgres(t, server)
	return createPostgres(t, server, "")
}

func newPostgres(t testing.TB, server, template string, opts database.Options) *database.DB {
	t.Helper()
	return open(t, createPostgres(t, server, template), opts)
}

// createPostgres creates a database private to t (a copy of template when
// not empty), dropped at cleanup, and returns its URL.
func createPostgres(t testing.TB, server, template string) string {
	t.Helper()
	name := "factoring_test_" + randomHex(t, 8)
	url, err := database.CreatePostgresDatabase(context.Background(), server, name, template)
	if err != nil {
		t.Fatalf("testkit: %v", err)
	}
	t.Cleanup(func() {
		if err := database.DropPostgresDatabase(context.Background(), server, name); err != nil {
			t.Errorf("testkit: %v", err)
		}
	})
	return url
}

// EachDB runs fn against both dialects, as the sub-tests "sqlite" and
// "postgres" (skipped when no PostgreSQL answers).
func EachDB(t *testing.T, fn func(t *testing.T, db *database.DB)) {
	t.Helper()
	EachDBWith(t, database.Options{}, fn)
}

// EachDBWith is EachDB with Open options.
func EachDBWith(t *testing.T, opts database.Options, fn func(t *testing.T, db *database.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLiteWith(t, opts)) })
	t.Run("postgres", func(t *testing.T) { fn(t, PostgresWith(t, opts)) })
}

// CountedDB opens a fresh database of dia (dialect.SQLite or
// dialect.Postgres) whose ent driver counts the SQL statements that go
// through it.
func CountedDB(t testing.TB, dia string) (*database.DB, *database.StatementCounter) {
	t.Helper()
	opts, counter := countingOptions()
	var db *database.DB
	if dia == dialect.Postgres {
		db = PostgresWith(t, opts)
	} else {
		db = SQLiteWith(t, opts)
	}
	return db, *counter
}

// EachDBCounted is EachDB over databases whose ent driver counts the SQL
// statements that go through it.
func EachDBCounted(t *testing.T, fn func(t *testing.T, db *database.DB, n *database.StatementCounter)) {
	t.Helper()
	opts, counter := countingOptions()
	EachDBWith(t, opts, func(t *testing.T, db *database.DB) { fn(t, db, *counter) })
}

// countingOptions returns Open options that wrap the driver in a statement
// counter, and where the counter of the database last opened with them is.
func countingOptions() (database.Options, **database.StatementCounter) {
	counter := new(*database.StatementCounter)
	return database.Options{WrapDriver: func(d dialect.Driver) dialect.Driver {
		wrapped, c := database.CountStatements(d)
		*counter = c
		return wrapped
	}}, counter
}

// PostgresServerURL is the PostgreSQL server the tests use: FACTORING_TEST_DATABASE_URL
// or DefaultPostgresURL.
func PostgresServerURL() string {
	if u := os.Getenv(EnvDatabaseURL); u != "" {
		return u
	}
	return DefaultPostgresURL
}

func open(t testing.TB, url string, opts database.Options) *database.DB {
	t.Helper()
	db, err := database.Open(context.Background(), url, opts)
	if err != nil {
		t.Fatalf("testkit: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("testkit: cerrar la base: %v", err)
		}
	})
	return db
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("testkit: %v", err)
	}
	return hex.EncodeToString(b)
}

// sqliteImage is the bytes of a freshly migrated SQLite file, built once per
// process.
var sqliteImage = sync.OnceValues(func() ([]byte, error) {
	tmp, err := os.MkdirTemp("", "factoring-testkit-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	path := filepath.Join(tmp, "template.db")
	ctx := context.Background()
	db, err := database.Open(ctx, "sqlite://"+path, database.Options{})
	if err != nil {
		return nil, err
	}
	if _, err := database.Migrate(ctx, db); err != nil {
		_ = db.Close()
		return nil, err
	}
	// Fold the WAL into the main file so that file alone is the database.
	if _, err := db.SQL.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := db.Close(); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
})

// availability is whether the PostgreSQL server answered, asked once per
// process; warned records that the loud line was already printed.
var availability struct {
	sync.Mutex
	checked map[string]error
	warned  bool
}

func requirePostgres(t testing.TB, server string) {
	t.Helper()
	availability.Lock()
	if availability.checked == nil {
		availability.checked = map[string]error{}
	}
	err, ok := availability.checked[server]
	if !ok {
		err = ping(server)
		availability.checked[server] = err
	}
	first := !availability.warned && err != nil
	if err != nil {
		availability.warned = true
	}
	availability.Unlock()
	if err == nil {
		return
	}
	if os.Getenv(EnvRequirePostgres) == "1" {
		t.Fatalf("PostgreSQL no disponible en %s y %s=1: %v", database.Redact(server), EnvRequirePostgres, err)
	}
	if first {
		msg := fmt.Sprintf("PostgreSQL no disponible en %s: %v (pruebas PostgreSQL omitidas; %s=1 para exigirlo)",
			database.Redact(server), err, EnvRequirePostgres)
		reportSkip(msg)
		t.Skip(msg)
	}
	t.Skip("PostgreSQL no disponible (ver el primer aviso)")
}

// EnvSkipReport names a file that a skipped PostgreSQL test reports to,
// one line per test process: go test shows a skip only with -v, so `make
// test` points this at a file of its own and prints it after the run.
const EnvSkipReport = "FACTORING_TEST_SKIP_REPORT"

func reportSkip(msg string) {
	path := os.Getenv(EnvSkipReport)
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testdb: %s: %v\n", EnvSkipReport, err)
		return
	}
	defer f.Close()
	// One short write with O_APPEND: lines of parallel test processes do
	// not interleave.
	_, _ = f.WriteString(msg + "\n")
}

func ping(server string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", server)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.PingContext(ctx)
}

// templates caches, per server, the name of the migrated template database.
var templates struct {
	sync.Mutex
	names map[string]string
}

// postgresTemplate returns the name of the migrated template database on
// server, building it if this server does not have it yet. The name hashes
// the migration directory, so a change of migrations gets a new template
// and every process with the same migrations shares one.
func postgresTemplate(server string) (string, error) {
	templates.Lock()
	defer templates.Unlock()
	if name, ok := templates.names[server]; ok {
		return name, nil
	}
	dir, err := migrations.Dir(dialect.Postgres)
	if err != nil {
		return "", err
	}
	if err := database.ValidateDir(dir); err != nil {
		return "", err
	}
	sum, err := dir.Checksum()
	if err != nil {
		return "", err
	}
	// The salt changes when the way templates are built changes. (It keeps
	// the spelling of the package this code came from, internal/testdb, so
	// checkouts from before the move share the same templates.)
	h := sha256.Sum256([]byte("testdb/v1 " + sum.Sum()))
	name := "factoring_tpl_" + hex.EncodeToString(h[:6])
	if err := buildTemplate(server, name); err != nil {
		return "", err
	}
	if templates.names == nil {
		templates.names = map[string]string{}
	}
	templates.names[server] = name
	return name, nil
}

// buildTemplate creates the template name unless it exists. It holds a
// server-wide advisory lock, so concurrent test processes build it once,
// and builds under a temporary name renamed at the end, so a crash never
// leaves a half-migrated template behind.
func buildTemplate(server, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin, err := sql.Open("pgx", server)
	if err != nil {
		return err
	}
	defer admin.Close()
	conn, err := admin.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	key := fnv.New64a()
	// The old package's path, as in the salt above: processes of either
	// checkout take the same lock before building the same template.
	key.Write([]byte("github.com/banpro/factoring/internal/testdb"))
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", int64(key.Sum64())); err != nil {
		return fmt.Errorf("bloqueo de la plantilla: %w", err)
	}
	defer func() {
		_, _ = conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", int64(key.Sum64()))
	}()
	var exists bool
	if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	building := name + "_tmp"
	if err := database.DropPostgresDatabase(ctx, server, building); err != nil { // left by a crash
		return err
	}
	url, err := database.CreatePostgresDatabase(ctx, server, building, "")
	if err != nil {
		return err
	}
	err = migrateTemplate(ctx, url)
	if err == nil {
		_, err = conn.ExecContext(ctx, "ALTER DATABASE "+building+" RENAME TO "+name)
	}
	if err != nil {
		return errors.Join(err, database.DropPostgresDatabase(ctx, server, building))
	}
	return nil
}

func migrateTemplate(ctx context.Context, url string) error {
	db, err := database.Open(ctx, url, database.Options{})
	if err != nil {
		return err
	}
	_, err = database.Migrate(ctx, db)
	// Nobody may stay connected to a template.
	return errors.Join(err, db.Close())
}
