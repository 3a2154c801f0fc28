package database

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// ErrUnavailable is the error of a database known to be unreachable.
var ErrUnavailable = errors.New("la base de datos no está disponible")

// sqliteCantOpen is SQLite's SQLITE_CANTOPEN: the database file cannot be
// opened (a volume gone, a permission lost).
const sqliteCantOpen = 14

// IsUnavailable reports whether err means the database could not be
// reached, as opposed to a statement it refused: the server refused or
// dropped the connection (PostgreSQL's class 08, connection exceptions),
// is shutting down or starting up (57P01 admin_shutdown, which is also
// what pg_terminate_backend sends; 57P02 crash_shutdown; 57P03
// cannot_connect_now), the pool could not connect, or the network failed
// under an open connection. Contention (SQLite busy, serialization
// failures) is not unavailability: WithTx retries it and reports CONFLICT.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUnavailable) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57P01", "57P02", "57P03":
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08")
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		return liteErr.Code()&0xff == sqliteCantOpen
	}
	var connectErr *pgconn.ConnectError
	var netErr *net.OpError
	return errors.As(err, &connectErr) ||
		errors.As(err, &netErr) ||
		errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE)
}

// ProbeInterval is how often, while the database is known to be
// unreachable, one request is let through to check whether it is back.
const ProbeInterval = time.Second

// probeTimeout bounds that check: a database that does not answer within
// it is still unreachable.
const probeTimeout = 2 * time.Second

// Health remembers that requests found the database unreachable, so that
// while it stays so, requests are refused before they run, at once and
// without a connection attempt each: a 5 s outage answered 3,052
// requests one by one, each trying to connect. It checks (pings) the
// database when a request reports it unreachable, and then at most once
// per ProbeInterval until it answers again; a request that finds the
// check already running goes ahead unless the database is known to be
// down.
type Health struct {
	ping      func(context.Context) error
	suspect   atomic.Bool // a request found it unreachable; not checked yet
	down      atomic.Bool // the last check failed
	probing   atomic.Bool
	lastProbe atomic.Int64 // unix nanoseconds
	now       func() time.Time
}

// NewHealth returns the health of the database that ping reaches.
func NewHealth(ping func(context.Context) error) *Health {
	return &Health{ping: ping, now: time.Now}
}

// Failed records that a request found the database unreachable.
func (h *Health) Failed() {
	if h != nil {
		h.suspect.Store(true)
	}
}

// Check returns nil when the database may be used: nothing went wrong, or
// a check just found it answering. Otherwise it returns an error that
// IsUnavailable recognises. A nil Health always answers nil.
func (h *Health) Check(ctx context.Context) error {
	if h == nil || !h.suspect.Load() && !h.down.Load() {
		return nil
	}
	now := h.now().UnixNano()
	if h.down.Load() && now-h.lastProbe.Load() < int64(ProbeInterval) {
		return ErrUnavailable
	}
	if !h.probing.CompareAndSwap(false, true) {
		if h.down.Load() {
			return ErrUnavailable
		}
		return nil
	}
	defer h.probing.Store(false)
	h.lastProbe.Store(now)
	// The check is the database's, not the request's: a request about to
	// time out must not mark the database down.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), probeTimeout)
	defer cancel()
	if err := h.ping(pctx); err != nil {
		h.down.Store(true)
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	h.down.Store(false)
	h.suspect.Store(false)
	return nil
}
