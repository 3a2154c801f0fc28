package database

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Ensure that IsUnavailable tells a database that cannot be reached from one
// that refused a statement: connection exceptions and shutdowns are
// unavailability; contention, constraint violations and bad values are not.
func TestIsUnavailable(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("crear operación: iniciar transacción: %w", err) }
	// A connection refused, as pgx reports it.
	_, refused := pgconn.Connect(context.Background(), "postgres://factoring@127.0.0.1:1/factoring?connect_timeout=1")
	require.Error(t, refused)
	for name, err := range map[string]error{
		"admin_shutdown_pg_terminate_backend": &pgconn.PgError{Code: "57P01"},
		"crash_shutdown":                      &pgconn.PgError{Code: "57P02"},
		"cannot_connect_now":                  &pgconn.PgError{Code: "57P03"},
		"connection_failure":                  &pgconn.PgError{Code: "08006"},
		"connection_exception":                &pgconn.PgError{Code: "08000"},
		"connect_error":                       refused,
		"connection_refused":                  &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED},
		"bad_conn":                            driver.ErrBadConn,
		"conn_closed":                         pgconn.ErrConnClosed,
		"unexpected_eof":                      io.ErrUnexpectedEOF,
		"reset":                               syscall.ECONNRESET,
		"health":                              ErrUnavailable,
	} {
		t.Run(name, func(t *testing.T) {
			assert.True(t, IsUnavailable(err))
			assert.True(t, IsUnavailable(wrap(err)))
		})
	}
	for name, err := range map[string]error{
		"nil":                   nil,
		"serialization_failure": &pgconn.PgError{Code: "40001"},
		"unique_violation":      &pgconn.PgError{Code: "23505"},
		"check_violation":       &pgconn.PgError{Code: "23514"},
		"numeric_overflow":      &pgconn.PgError{Code: "22003"},
		"query_canceled":        &pgconn.PgError{Code: "57014"},
		"deadline":              context.DeadlineExceeded,
		"other":                 errors.New("boom"),
	} {
		t.Run("no_"+name, func(t *testing.T) {
			assert.False(t, IsUnavailable(err))
		})
	}
}

// Ensure that Health lets everything through until a request reports the
// database unreachable; then checks it at once (a failed check refuses
// the requests that follow, without checking again for ProbeInterval); and
// lets everything through again once a check succeeds.
func TestHealth(t *testing.T) {
	now := time.Unix(1000, 0)
	var pings int
	pingErr := error(nil)
	h := NewHealth(func(context.Context) error { pings++; return pingErr })
	h.now = func() time.Time { return now }
	ctx := context.Background()

	require.NoError(t, h.Check(ctx))
	assert.Zero(t, pings, "no check while nothing went wrong")

	h.Failed()
	require.NoError(t, h.Check(ctx), "a check that succeeds lets the request through")
	assert.Equal(t, 1, pings)
	require.NoError(t, h.Check(ctx))
	assert.Equal(t, 1, pings, "the check cleared the suspicion")

	h.Failed()
	pingErr = &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	err := h.Check(ctx)
	require.Error(t, err)
	assert.True(t, IsUnavailable(err))
	assert.Equal(t, 2, pings)
	for range 100 {
		assert.True(t, IsUnavailable(h.Check(ctx)))
	}
	assert.Equal(t, 2, pings, "no check before ProbeInterval: refused at once")

	now = now.Add(ProbeInterval)
	assert.True(t, IsUnavailable(h.Check(ctx)))
	assert.Equal(t, 3, pings, "one check per ProbeInterval")

	now = now.Add(ProbeInterval)
	pingErr = nil
	require.NoError(t, h.Check(ctx))
	require.NoError(t, h.Check(ctx))
	assert.Equal(t, 4, pings)

	var none *Health
	require.NoError(t, none.Check(ctx))
	none.Failed()
}
