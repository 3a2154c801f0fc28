package testkit_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/testkit"
)

// closedServer is a PostgreSQL URL where nothing listens.
const closedServer = "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2"

// requireMigratedAndEmpty asserts the promise of every constructor.
func requireMigratedAndEmpty(t *testing.T, db *database.DB) {
	t.Helper()
	ctx := context.Background()
	st, err := database.MigrationStatus(ctx, db)
	require.NoError(t, err)
	assert.NotEmpty(t, st.Applied)
	assert.Empty(t, st.Pending)
	n, err := db.Client.Cliente.Query().Count(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
}

func TestSQLite(t *testing.T) {
	// Ensure that each call gives a migrated, empty database of its own.
	a, b := testkit.SQLite(t), testkit.SQLite(t)
	assert.Equal(t, dialect.SQLite, a.Dialect)
	requireMigratedAndEmpty(t, a)
	requireMigratedAndEmpty(t, b)

	_, err := a.SQL.Exec(`INSERT INTO clientes (rut, razon_social, email, fecha_registro, linea_credito,
		linea_disponible, creado_en, actualizado_en) VALUES ('1-9', 'x', 'x@x.cl', '2026-01-01', 1, 1, '2026-01-01', '2026-01-01')`)
	require.NoError(t, err)
	n, err := b.Client.Cliente.Query().Count(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n, "the databases are separate")
}

func TestPostgres(t *testing.T) {
	// Ensure that each call gives a migrated, empty database of its own,
	// dropped when the test ends.
	var names []string
	t.Run("private", func(t *testing.T) {
		a, b := testkit.Postgres(t), testkit.Postgres(t)
		assert.Equal(t, dialect.Postgres, a.Dialect)
		requireMigratedAndEmpty(t, a)
		requireMigratedAndEmpty(t, b)
		for _, db := range []*database.DB{a, b} {
			var name string
			require.NoError(t, db.SQL.QueryRow("SELECT current_database()").Scan(&name))
			assert.True(t, strings.HasPrefix(name, "factoring_test_"), name)
			names = append(names, name)
		}
		assert.NotEqual(t, names[0], names[1])
	})
	if len(names) == 0 {
		t.Skip("PostgreSQL no disponible")
	}
	admin, err := database.Open(context.Background(), testkit.PostgresServerURL(), database.Options{})
	require.NoError(t, err)
	defer admin.Close()
	for _, name := range names {
		var exists bool
		require.NoError(t, admin.SQL.QueryRow("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists))
		assert.False(t, exists, "%s dropped at cleanup", name)
	}
}

func TestEachDB(t *testing.T) {
	// Ensure that EachDB runs the test once per dialect, as named sub-tests.
	var seen []string
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		seen = append(seen, t.Name()+"="+db.Dialect)
		requireMigratedAndEmpty(t, db)
	})
	require.NotEmpty(t, seen)
	assert.Equal(t, "TestEachDB/sqlite=sqlite3", seen[0])
	if len(seen) == 2 {
		assert.Equal(t, "TestEachDB/postgres=postgres", seen[1])
	}
}

func TestEachDBWith(t *testing.T) {
	// Ensure that the Options variants install the driver wrapper, so a
	// test can count the statements a call sends.
	var n *database.StatementCounter
	opts := database.Options{WrapDriver: func(d dialect.Driver) dialect.Driver {
		wrapped, c := database.CountStatements(d)
		n = c
		return wrapped
	}}
	testkit.EachDBWith(t, opts, func(t *testing.T, db *database.DB) {
		before := n.Load()
		_, err := db.Client.Cliente.Query().Count(context.Background())
		require.NoError(t, err)
		assert.Equal(t, before+1, n.Load())
	})
}

func TestEmpty(t *testing.T) {
	// Ensure that the Empty variants give unmigrated databases.
	for _, tc := range []struct {
		name string
		open func(testing.TB) *database.DB
	}{
		{"sqlite", testkit.EmptySQLite},
		{"postgres", testkit.EmptyPostgres},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := tc.open(t)
			st, err := database.MigrationStatus(context.Background(), db)
			require.NoError(t, err)
			assert.Empty(t, st.Applied)
			assert.NotEmpty(t, st.Pending)
		})
	}
}

// TestPostgresUnavailable runs this package's helper test in a child
// process pointed at a closed port.
func TestPostgresUnavailable(t *testing.T) {
	t.Run("Skipped", func(t *testing.T) {
		// Ensure that without PostgreSQL the tests skip, with the loud line
		// printed once.
		out, err := runHelper(t, "", "")
		require.NoError(t, err, out)
		assert.Equal(t, 1, strings.Count(out, "PostgreSQL no disponible en postgres://postgres@127.0.0.1:1/"), out)
		assert.Contains(t, out, "FACTORING_REQUIRE_POSTGRES=1 para exigirlo")
		assert.Equal(t, 1, strings.Count(out, "PostgreSQL no disponible (ver el primer aviso)"), out)
		assert.Contains(t, out, "--- SKIP: TestHelperPostgres/first")
		assert.Contains(t, out, "--- SKIP: TestHelperPostgres/second")
	})

	t.Run("RequiredFails", func(t *testing.T) {
		// Ensure that FACTORING_REQUIRE_POSTGRES=1 turns the skip into a
		// failure.
		report := filepath.Join(t.TempDir(), "omitidas")
		out, err := runHelper(t, "1", report)
		require.Error(t, err, out)
		assert.Contains(t, out, "--- FAIL: TestHelperPostgres/first")
		assert.Contains(t, out, "PostgreSQL no disponible en postgres://postgres@127.0.0.1:1/")
		assert.NoFileExists(t, report, "a failure is not a skip")
	})

	t.Run("SkipReported", func(t *testing.T) {
		// Ensure that each test process that skips writes the loud line,
		// once, to the file of FACTORING_TEST_SKIP_REPORT, which make test
		// prints after the run (go test hides skips without -v).
		report := filepath.Join(t.TempDir(), "omitidas")
		for range 2 {
			out, err := runHelper(t, "", report)
			require.NoError(t, err, out)
		}
		got, err := os.ReadFile(report)
		require.NoError(t, err)
		lines := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
		require.Len(t, lines, 2, "one line per process: %q", got)
		for _, l := range lines {
			assert.Contains(t, l, "PostgreSQL no disponible en postgres://postgres@127.0.0.1:1/")
			assert.Contains(t, l, "FACTORING_REQUIRE_POSTGRES=1 para exigirlo")
		}
	})
}

func runHelper(t *testing.T, requireEnv, report string) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperPostgres$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(),
		"TESTKIT_HELPER=1",
		testkit.EnvDatabaseURL+"="+closedServer,
		testkit.EnvRequirePostgres+"="+requireEnv,
		testkit.EnvSkipReport+"="+report,
	)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestHelperPostgres is run by TestPostgresUnavailable in a child process.
func TestHelperPostgres(t *testing.T) {
	if os.Getenv("TESTKIT_HELPER") != "1" {
		t.Skip("solo como proceso hijo de TestPostgresUnavailable")
	}
	t.Run("first", func(t *testing.T) { testkit.Postgres(t) })
	t.Run("second", func(t *testing.T) { testkit.Postgres(t) })
}
