package database_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/testkit"
)

// Ensure that the role `factoring serve` runs as can serve (read and write
// rows, read the migrations' record) and cannot defeat the append-only
// audit trail: no UPDATE, DELETE or TRUNCATE of an event, no disabling of
// its trigger, no session_replication_role, no DDL.
func TestServingRoleCannotTamperWithTheAuditTrail(t *testing.T) {
	ctx := context.Background()
	dbURL := testkit.EmptyPostgresURL(t)
	owner, err := database.Open(ctx, dbURL, database.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = owner.Close() })
	_, err = database.Migrate(ctx, owner)
	require.NoError(t, err)

	role := database.ServingRole{Name: fmt.Sprintf("factoring_app_%d", randomSuffix(t)), Password: "s3cret-o'quote"}
	t.Cleanup(func() {
		// Privileges in this database go with DROP OWNED; then the role.
		_, _ = owner.SQL.ExecContext(ctx, "DROP OWNED BY "+role.Name)
		_, _ = owner.SQL.ExecContext(ctx, "DROP ROLE IF EXISTS "+role.Name)
	})
	require.NoError(t, database.EnsureServingRole(ctx, owner, role))
	require.NoError(t, database.EnsureServingRole(ctx, owner, role), "running migrate twice is fine")

	// One event to tamper with, written by the owner.
	_, err = owner.SQL.ExecContext(ctx, `
		WITH c AS (INSERT INTO clientes (rut, razon_social, email, fecha_registro, linea_credito, linea_disponible, estado, creado_en, actualizado_en)
		           VALUES ('12.345.678-5', 'Uno', 'a@b.cl', CURRENT_DATE, 10, 10, 'ACTIVO', now(), now()) RETURNING id),
		     o AS (INSERT INTO operaciones (cliente_id, fecha_solicitud, monto_total_facturas, tasa_descuento, dias_descuento, monto_descuento, monto_a_desembolsar, estado, creado_en, actualizado_en)
		           SELECT id, now(), 10, 2, 30, 0.02, 9.98, 'PENDIENTE', now(), now() FROM c RETURNING id)
		INSERT INTO operacion_eventos (operacion_id, tipo, fecha, estado_nuevo, request_id, actor, detalle)
		SELECT id, 'CREADA', now(), 'PENDIENTE', 'r1', 'ana', '{}' FROM o`)
	require.NoError(t, err)

	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	u.User = url.UserPassword(role.Name, role.Password)
	app, err := sql.Open("pgx", u.String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = app.Close() })

	// What serving needs works.
	var n int
	require.NoError(t, app.QueryRowContext(ctx, `SELECT count(*) FROM operacion_eventos`).Scan(&n))
	assert.Equal(t, 1, n)
	_, err = app.ExecContext(ctx, `UPDATE clientes SET razon_social = 'Uno SpA'`)
	assert.NoError(t, err, "the serving role updates ordinary rows")
	_, err = app.ExecContext(ctx, `INSERT INTO operacion_eventos (operacion_id, tipo, fecha, estado_anterior, estado_nuevo, request_id, actor, detalle)
		SELECT operacion_id, 'RECHAZADA', now(), 'PENDIENTE', 'RECHAZADA', 'r2', 'eva', '{}' FROM operacion_eventos LIMIT 1`)
	assert.NoError(t, err, "the serving role appends events")
	_, err = app.ExecContext(ctx, `INSERT INTO eventos_auditoria (entidad, entidad_id, cliente_id, tipo, fecha, request_id, actor, detalle)
		SELECT 'CLIENTE', id, id, 'CLIENTE_ACTUALIZADO', now(), 'r3', 'eva', '{}' FROM clientes`)
	assert.NoError(t, err, "and audit entries")
	require.NoError(t, app.QueryRowContext(ctx, `SELECT count(*) FROM `+database.RevisionsTable).Scan(&n), "readiness reads the migrations' record")

	refused := map[string]string{
		"update_evento":            `UPDATE operacion_eventos SET actor = 'otro'`,
		"delete_evento":            `DELETE FROM operacion_eventos`,
		"truncate_eventos":         `TRUNCATE operacion_eventos`,
		"update_auditoria":         `UPDATE eventos_auditoria SET actor = 'otro'`,
		"delete_auditoria":         `DELETE FROM eventos_auditoria`,
		"truncate_auditoria":       `TRUNCATE eventos_auditoria`,
		"disable_trigger":          `ALTER TABLE operacion_eventos DISABLE TRIGGER ALL`,
		"session_replication_role": `SET session_replication_role = replica`,
		"drop_trigger":             `DROP TRIGGER operacion_eventos_sin_update_delete ON operacion_eventos`,
		"create_table":             `CREATE TABLE intruso (id int)`,
		"drop_table":               `DROP TABLE clientes`,
		"write_revisions":          `DELETE FROM ` + database.RevisionsTable,
		"create_role":              `CREATE ROLE otro_rol`,
	}
	for name, stmt := range refused {
		t.Run(name, func(t *testing.T) {
			_, err := app.ExecContext(ctx, stmt)
			require.Error(t, err, stmt)
			var pgErr *pgconn.PgError
			require.True(t, errors.As(err, &pgErr), "%v", err)
			assert.Equal(t, "42501", pgErr.Code, "insufficient_privilege, not the trigger: %s", pgErr.Message)
		})
	}
	require.NoError(t, owner.SQL.QueryRowContext(ctx, `SELECT count(*) FROM operacion_eventos`).Scan(&n))
	assert.Equal(t, 2, n, "the trail is intact")
}

func TestEnsureServingRoleRefusesBadNames(t *testing.T) {
	for _, name := range []string{"", "Factoring", "a-b", "x; DROP TABLE clientes", "pg_" + string(make([]byte, 70))} {
		assert.False(t, database.ValidRoleName(name), "%q", name)
	}
	assert.True(t, database.ValidRoleName("factoring_app"))
}

func randomSuffix(t *testing.T) uint32 {
	t.Helper()
	var b [4]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
