package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// PostgreSQL error codes CreateDatabaseIfMissing tells apart.
const (
	pgInvalidCatalogName     = "3D000" // the database does not exist
	pgDuplicateDatabase      = "42P04"
	pgInsufficientPrivilege  = "42501"
	pgMaintenanceDatabase    = "postgres"
	pgMaintenanceAlternative = "template1" // always there, when postgres was dropped
)

// CreateDatabaseIfMissing creates the PostgreSQL database that rawURL names
// when the server answers that it does not exist, connecting as the same
// user to the server's maintenance database (postgres, else template1), and
// reports whether it created it. The new database belongs to that user, so
// `factoring migrate` run as the schema's owner needs no createdb first.
//
// It does nothing for a SQLite URL (Open creates the file) nor when the
// database exists or the server cannot be reached at all: Open then reports
// that in its own words. When the user may not create databases the error
// says so and how to create it instead.
func CreateDatabaseIfMissing(ctx context.Context, rawURL string) (bool, error) {
	driverName, _, _, err := parseURL(rawURL)
	if err != nil || driverName != "pgx" {
		return false, err
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return false, err
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" {
		return false, nil // pgx connects to the user's own database
	}
	if err := pingURL(ctx, rawURL); !isPgCode(err, pgInvalidCatalogName) {
		return false, nil
	}
	user := "el usuario de la conexión"
	if u.User != nil {
		user = "el usuario " + u.User.Username()
	}
	stmt := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	for _, maintenance := range []string{pgMaintenanceDatabase, pgMaintenanceAlternative} {
		m := *u
		m.Path, m.RawPath = "/"+maintenance, ""
		err = execOnServer(ctx, m.String(), stmt)
		if !isPgCode(err, pgInvalidCatalogName) {
			break
		}
	}
	switch {
	case err == nil:
		return true, nil
	case isPgCode(err, pgDuplicateDatabase):
		return false, nil // another migrate created it meanwhile
	case isPgCode(err, pgInsufficientPrivilege):
		return false, fmt.Errorf("la base de datos %q no existe y %s no puede crearla (le falta el atributo CREATEDB): "+
			"créela con `createdb %s` o con un usuario que pueda, y vuelva a ejecutar factoring migrate", name, user, name)
	default:
		return false, fmt.Errorf("crear la base de datos %q en %s: %w", name, Redact(rawURL), err)
	}
}

func pingURL(ctx context.Context, rawURL string) error {
	db, err := sql.Open("pgx", rawURL)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

func isPgCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}
