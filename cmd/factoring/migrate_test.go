package main

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/testkit"
)

// Ensure that the README's PostgreSQL steps work on a server without the
// database: `factoring migrate` creates it, migrates it and makes the
// serving role; seed and verificar follow.
func TestMigrateCreaLaBaseDeDatos(t *testing.T) {
	server, err := url.Parse(testkit.EmptyPostgresURL(t)) // skips or fails without PostgreSQL
	require.NoError(t, err)
	name := fmt.Sprintf("factoring_migrate_%d", time.Now().UnixNano()%1_000_000_000)
	u := *server
	u.Path = "/" + name
	role := name + "_app"
	t.Cleanup(func() {
		ctx := context.Background()
		require.NoError(t, database.DropPostgresDatabase(ctx, server.String(), name))
		admin, err := database.Open(ctx, server.String(), database.Options{})
		require.NoError(t, err)
		defer admin.Close()
		_, err = admin.SQL.Exec("DROP ROLE IF EXISTS " + role)
		assert.NoError(t, err)
	})

	c := newCLI(t, u.String())
	c.env["FACTORING_DB_SERVING_ROLE"] = role
	out := c.mustRun("migrate")
	assert.Contains(t, out, "base de datos creada: "+u.String())
	assert.Contains(t, out, "migración(es) aplicada(s)")
	assert.Contains(t, out, "rol de servicio "+role)

	out = c.mustRun("migrate")
	assert.NotContains(t, out, "base de datos creada", "it exists now")
	assert.Contains(t, out, "sin migraciones pendientes")
	assert.Contains(t, c.mustRun("seed"), "operaciones: 5 creadas")
	assert.Contains(t, c.mustRun("verificar"), "sin violaciones")
}

// Ensure that `migrate status` only looks: it does not create a missing
// database.
func TestMigrateStatusNoCreaLaBase(t *testing.T) {
	server, err := url.Parse(testkit.EmptyPostgresURL(t))
	require.NoError(t, err)
	u := *server
	u.Path = fmt.Sprintf("/factoring_status_%d", time.Now().UnixNano()%1_000_000_000)
	_, _, err = newCLI(t, u.String()).run("migrate", "status")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no se pudo conectar")
}
