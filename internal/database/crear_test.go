package database_test

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/testkit"
)

// missingDatabase returns the URL of a database that does not exist yet on
// the test server, under name (a suffix keeps it unique), dropped at
// cleanup whatever the test made of it. It skips like every PostgreSQL test
// when no server answers.
func missingDatabase(t *testing.T, name string) (string, *url.URL) {
	t.Helper()
	server, err := url.Parse(testkit.EmptyPostgresURL(t)) // skips or fails without PostgreSQL
	require.NoError(t, err)
	name = fmt.Sprintf("%s_%d", name, randomSuffix(t))
	u := *server
	u.Path, u.RawPath = "/"+name, ""
	t.Cleanup(func() {
		admin := *server
		admin.Path = "/postgres"
		db, err := database.Open(context.Background(), admin.String(), database.Options{})
		if err != nil {
			t.Errorf("drop %s: %v", name, err)
			return
		}
		defer db.Close()
		_, err = db.SQL.Exec("DROP DATABASE IF EXISTS " + pgx.Identifier{name}.Sanitize() + " WITH (FORCE)")
		assert.NoError(t, err)
	})
	return u.String(), &u
}

// Ensure that `factoring migrate` can start from a server without the
// database: it creates it once, as the connecting user, and then finds it.
func TestCreateDatabaseIfMissing(t *testing.T) {
	ctx := t.Context()
	t.Run("crea_la_base_que_falta", func(t *testing.T) {
		dbURL, _ := missingDatabase(t, "factoring_crear")
		_, err := database.Open(ctx, dbURL, database.Options{})
		require.Error(t, err, "the database does not exist yet")

		created, err := database.CreateDatabaseIfMissing(ctx, dbURL)
		require.NoError(t, err)
		assert.True(t, created)
		db, err := database.Open(ctx, dbURL, database.Options{})
		require.NoError(t, err)
		_, err = database.Migrate(ctx, db)
		require.NoError(t, err, "the new database migrates")
		require.NoError(t, db.Close())

		created, err = database.CreateDatabaseIfMissing(ctx, dbURL)
		require.NoError(t, err)
		assert.False(t, created, "it exists now")
	})
	t.Run("nombre_que_requiere_comillas", func(t *testing.T) {
		dbURL, _ := missingDatabase(t, "Factoring-Demo")
		created, err := database.CreateDatabaseIfMissing(ctx, dbURL)
		require.NoError(t, err)
		assert.True(t, created)
		db, err := database.Open(ctx, dbURL, database.Options{})
		require.NoError(t, err)
		require.NoError(t, db.Close())
	})
	t.Run("sin_permiso_explica_como_crearla", func(t *testing.T) {
		_, u := missingDatabase(t, "factoring_sin_permiso")
		role := fmt.Sprintf("factoring_sin_createdb_%d", randomSuffix(t))
		admin, err := database.Open(ctx, testkit.PostgresServerURL(), database.Options{})
		require.NoError(t, err)
		t.Cleanup(func() {
			_, _ = admin.SQL.Exec("DROP ROLE IF EXISTS " + role)
			_ = admin.Close()
		})
		_, err = admin.SQL.ExecContext(ctx, "CREATE ROLE "+role+" LOGIN NOCREATEDB PASSWORD 'clave'")
		require.NoError(t, err)
		u.User = url.UserPassword(role, "clave")

		created, err := database.CreateDatabaseIfMissing(ctx, u.String())
		require.Error(t, err)
		assert.False(t, created)
		assert.Contains(t, err.Error(), "no puede crearla")
		assert.Contains(t, err.Error(), "createdb")
		assert.Contains(t, err.Error(), role)
		assert.NotContains(t, err.Error(), "clave", "no password in the message")
	})
	t.Run("servidor_inalcanzable_lo_informa_open", func(t *testing.T) {
		created, err := database.CreateDatabaseIfMissing(ctx, "postgres://nadie@127.0.0.1:1/factoring?sslmode=disable&connect_timeout=2")
		require.NoError(t, err)
		assert.False(t, created)
	})
	t.Run("sqlite_no_hace_nada", func(t *testing.T) {
		created, err := database.CreateDatabaseIfMissing(ctx, "sqlite://"+filepath.Join(t.TempDir(), "f.db"))
		require.NoError(t, err)
		assert.False(t, created)
	})
}
