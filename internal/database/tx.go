package database

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"entgo.io/ent/dialect/sql/sqlgraph"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/apperror"
)

// maxAttempts bounds how often a transaction that lost to contention runs.
const maxAttempts = 5

// WithTx runs fn in one transaction: begin, fn, commit; an error or a panic
// in fn rolls everything back. A transaction that loses to contention (a
// PostgreSQL serialization failure or deadlock, SQLite busy) runs again, up
// to 5 times with a short jittered pause, and is then reported as CONFLICT.
// ctx bounds it all: when its deadline passes the running statement is
// cancelled and the transaction rolled back.
func (d *DB) WithTx(ctx context.Context, fn func(tx *ent.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := d.runTx(ctx, fn)
		if err == nil || !IsContention(err) {
			return err
		}
		if attempt == maxAttempts {
			return apperror.Conflictf("La operación no pudo completarse por alta concurrencia sobre los mismos datos; reintente.").WithCause(err)
		}
		d.retries.Add(1)
		pause := time.Duration(attempt*attempt)*5*time.Millisecond + rand.N(10*time.Millisecond)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
}

func (d *DB) runTx(ctx context.Context, fn func(tx *ent.Tx) error) (err error) {
	tx, err := d.Client.Tx(ctx)
	if err != nil {
		return fmt.Errorf("iniciar transacción: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	for _, hook := range beforeCommitHooks(ctx) {
		if err := hook(ctx, tx); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("confirmar transacción: %w", err)
	}
	return nil
}

// TxHook is work a caller adds to every transaction WithTx runs under a
// context: see BeforeCommit.
type TxHook func(ctx context.Context, tx *ent.Tx) error

type beforeCommitKey struct{}

// BeforeCommit returns ctx carrying hook: every transaction that WithTx
// runs under it calls hook after fn succeeded and before committing, inside
// the transaction, so that hook's writes commit together with fn's or not
// at all; an error from hook rolls the whole transaction back and is
// WithTx's error. A transaction that runs again after contention calls it
// again. The idempotency keys use it: a mutation and its key's completion
// are one commit (internal/idempotencia).
func BeforeCommit(ctx context.Context, hook TxHook) context.Context {
	hooks := beforeCommitHooks(ctx)
	return context.WithValue(ctx, beforeCommitKey{}, append(hooks[:len(hooks):len(hooks)], hook))
}

func beforeCommitHooks(ctx context.Context) []TxHook {
	hooks, _ := ctx.Value(beforeCommitKey{}).([]TxHook)
	return hooks
}

// Retries returns how many transactions ran again after losing to
// contention since the database was opened.
func (d *DB) Retries() int64 { return d.retries.Load() }

// SQLite result codes (the low byte of an extended code).
const (
	sqliteBusy   = 5
	sqliteLocked = 6
)

// carrera is an error marked as lost contention by Carrera.
type carrera struct{ err error }

func (c carrera) Error() string { return c.err.Error() }
func (c carrera) Unwrap() error { return c.err }

// Carrera marks err as lost contention, so that WithTx runs the transaction
// again: for a row that two transactions create on first sight at once (a
// deudor by its RUT), where the loser's unique violation means "someone
// else just created it" and its retry finds the row.
func Carrera(err error) error { return carrera{err} }

// IsContention reports whether err means the transaction lost to another
// one and may succeed if run again.
func IsContention(err error) bool {
	if errors.As(err, new(carrera)) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40001" || pgErr.Code == "40P01" // serialization_failure, deadlock_detected
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		code := liteErr.Code() & 0xff
		return code == sqliteBusy || code == sqliteLocked
	}
	return false
}

// IsUniqueViolation reports whether err is a unique-constraint violation
// (two writers racing for one RUT, say), on either dialect.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	return sqlgraph.IsUniqueConstraintError(err)
}

// IsInvalidValue reports whether err is PostgreSQL refusing a value the
// client sent (SQLSTATE class 22, data exception: a NUL byte in text, a
// number out of range): the client's mistake, not the server's.
func IsInvalidValue(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "22")
}
