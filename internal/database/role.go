package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"entgo.io/ent/dialect"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ServingRole is the PostgreSQL role `factoring serve` connects as: it may
// read and write the application's rows and nothing more. It owns nothing,
// so it cannot run DDL, disable a trigger or TRUNCATE; it is no superuser,
// so it cannot SET session_replication_role = replica to skip triggers; and
// on the append-only tables (the audit trails, recognised by their
// append-only trigger) it may only SELECT and INSERT. The schema's owner,
// the role `factoring migrate` runs as, keeps every other right.
type ServingRole struct {
	// Name of the role, e.g. factoring_app.
	Name string
	// Password, when set, lets the role log in with it; empty leaves the
	// role's password as it is (a new role then logs in only where
	// pg_hba trusts it, as on a developer's machine).
	Password string
}

// roleName keeps role names to plain identifiers: they are quoted anyway,
// but a name that needs quoting is a configuration mistake worth stopping.
var roleName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// ValidRoleName reports whether name is acceptable as the serving role.
func ValidRoleName(name string) bool { return roleName.MatchString(name) }

// EnsureServingRole creates the serving role if it does not exist, or
// updates it, and sets its privileges to exactly what serving needs on the
// current schema. It is idempotent and runs after the migrations (new
// tables get their grants). PostgreSQL only; on SQLite there are no roles
// and it does nothing.
func EnsureServingRole(ctx context.Context, db *DB, role ServingRole) error {
	if db.Dialect != dialect.Postgres {
		return nil
	}
	if !ValidRoleName(role.Name) {
		return fmt.Errorf("nombre de rol inválido %q: use minúsculas, dígitos y _ (máximo 63)", role.Name)
	}
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		return fmt.Errorf("conectar: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("iniciar transacción: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := grantServing(ctx, tx, role); err != nil {
		return fmt.Errorf("rol %s: %w", role.Name, err)
	}
	return tx.Commit()
}

func grantServing(ctx context.Context, tx *sql.Tx, role ServingRole) error {
	ident := pgx.Identifier{role.Name}.Sanitize()
	var owner string
	if err := tx.QueryRowContext(ctx, `SELECT current_user`).Scan(&owner); err != nil {
		return err
	}
	if owner == role.Name {
		return errors.New("migrate debe correr como el dueño del esquema, no como el rol de servicio")
	}
	// Roles belong to the whole server, so migrate runs of two databases
	// may race here: a CREATE that loses becomes the ALTER path, and an
	// ALTER happens only when an attribute differs (two concurrent ALTERs
	// of one role can fail with "tuple concurrently updated").
	var exists, wellFormed bool
	if err := tx.QueryRowContext(ctx, `
		SELECT true, rolcanlogin AND NOT rolsuper AND NOT rolcreatedb AND NOT rolcreaterole
		       AND NOT rolreplication AND NOT rolbypassrls AND NOT rolinherit
		FROM pg_roles WHERE rolname = $1`, role.Name).Scan(&exists, &wellFormed); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	const attrs = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT"
	if !exists {
		if _, err := tx.ExecContext(ctx, `SAVEPOINT crear_rol`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, fmt.Sprintf(`CREATE ROLE %s %s`, ident, attrs))
		var pgErr *pgconn.PgError
		switch {
		case err == nil:
			wellFormed = true
		case errors.As(err, &pgErr) && pgErr.Code == "42710": // created meanwhile by another migrate
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT crear_rol`); err != nil {
				return err
			}
		default:
			return err
		}
	}
	if !wellFormed {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`ALTER ROLE %s %s`, ident, attrs)); err != nil {
			return err
		}
	}
	if role.Password != "" {
		// ALTER ROLE takes no bind parameters: the password goes in as a
		// quoted literal, and never into a log or an error message.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`ALTER ROLE %s PASSWORD %s`, ident, quoteLiteral(role.Password))); err != nil {
			return errors.New("fijar la contraseña del rol falló")
		}
	}
	var dbname string
	if err := tx.QueryRowContext(ctx, `SELECT current_database()`).Scan(&dbname); err != nil {
		return err
	}
	appendOnly, err := appendOnlyTables(ctx, tx)
	if err != nil {
		return err
	}
	stmts := []string{
		fmt.Sprintf(`GRANT CONNECT ON DATABASE %s TO %s`, pgx.Identifier{dbname}.Sanitize(), ident),
		// Only what is granted below: never CREATE in the schema (PostgreSQL
		// before 15 grants it to PUBLIC).
		`REVOKE CREATE ON SCHEMA public FROM PUBLIC`,
		fmt.Sprintf(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %s`, ident),
		fmt.Sprintf(`GRANT USAGE ON SCHEMA public TO %s`, ident),
		fmt.Sprintf(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %s`, ident),
		fmt.Sprintf(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %s`, ident),
	}
	// The migrations' record is the owner's: serving reads it (readiness
	// checks that the schema is current) and never writes it.
	stmts = append(stmts, fmt.Sprintf(`REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON %s FROM %s`, pgx.Identifier{RevisionsTable}.Sanitize(), ident))
	for _, t := range appendOnly {
		stmts = append(stmts, fmt.Sprintf(`REVOKE UPDATE, DELETE, TRUNCATE ON %s FROM %s`, pgx.Identifier{t}.Sanitize(), ident))
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", strings.SplitN(s, " TO ", 2)[0], err)
		}
	}
	return nil
}

// appendOnlyTables are the tables guarded by an append-only trigger (the
// migrations give every audit trail one, named *_sin_update_delete): found
// in the catalogue, so a new trail is covered the day its migration lands.
func appendOnlyTables(ctx context.Context, tx *sql.Tx) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT DISTINCT c.relname
		FROM pg_trigger t
		JOIN pg_class c ON c.oid = t.tgrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND NOT t.tgisinternal AND t.tgname LIKE '%\_sin\_update\_delete'
		ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// ServingPrivilegeWarning says what is wrong with the role db is connected
// as for serving: a superuser, or the owner of the audit trail, can switch
// off its append-only triggers. Empty when the role is fit (and always on
// SQLite).
func ServingPrivilegeWarning(ctx context.Context, db *DB) (string, error) {
	if db.Dialect != dialect.Postgres {
		return "", nil
	}
	var user string
	var super, owner bool
	err := db.SQL.QueryRowContext(ctx, `
		SELECT current_user, r.rolsuper,
		       EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user)
		FROM pg_roles r WHERE r.rolname = current_user`).Scan(&user, &super, &owner)
	if err != nil {
		return "", fmt.Errorf("leer los privilegios de la conexión: %w", err)
	}
	switch {
	case super:
		return fmt.Sprintf("la API está conectada como %q, un superusuario: puede desactivar los triggers que protegen la auditoría; "+
			"sirva con el rol que crea `factoring migrate` (FACTORING_DB_SERVING_ROLE)", user), nil
	case owner:
		return fmt.Sprintf("la API está conectada como %q, dueño de las tablas: puede alterarlas y desactivar los triggers de la auditoría; "+
			"sirva con el rol que crea `factoring migrate` (FACTORING_DB_SERVING_ROLE)", user), nil
	}
	return "", nil
}
