// Package idempotencia keeps the Idempotency-Key of mutations: which
// subject sent which key with which request, and the response to give back
// when the same request comes again, so that a retried mutation never runs
// twice (README, "Retrying mutations").
//
// A key lives in one row of claves_idempotencia, unique per (subject, key).
// The row is written by the mutation's own transaction, just before it
// commits (Context hands database.WithTx the hook): the mutation and its
// key commit together or not at all, and the unique index lets only one
// mutation per key ever commit, whatever the concurrency. A request that
// finds the key taken rolls its mutation back and answers from the row
// (Finish, Lookup). Once the mutation answered, its response is saved on
// the row, batched with other requests' responses in one commit; a
// response refused for a business reason (nothing committed) is saved on
// a row of its own, as a retry would only be refused again. Responses of
// outages and timeouts are not saved: nothing committed, there is no row,
// and the retry runs.
//
// A crash before the commit leaves nothing (the retry runs). A crash
// between the commit and the save of its response leaves the row without
// one: the mutation ran and must not run again, and its response is lost.
// While the row's lease (vigente_hasta) lasts, a retry waits for the
// response; after it, the retry is told that the mutation was applied and
// its answer lost (Lost).
//
// The cost: one statement in the mutation's transaction, and one in a
// batch after it. Claiming the key first, in a transaction of its own,
// would have answered a concurrent retry "in progress" sooner, but cost
// two more statements and two more commits per mutation, which took about
// 40 % of make bench's M1 throughput (BENCHMARKS.md).
package idempotencia

import (
	"bytes"
	"context"
	"crypto/sha256"
	stdsql "database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/claveidempotencia"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
)

// Header names of the protocol.
const (
	// HeaderKey carries the client's key on a mutation.
	HeaderKey = "Idempotency-Key"
	// HeaderReplayed marks a response given back from the store.
	HeaderReplayed = "Idempotent-Replayed"
)

// MaxKeyLen bounds a key, in characters (all ASCII).
const MaxKeyLen = 255

// Defaults of Config.
const (
	DefaultTTL   = 24 * time.Hour
	DefaultLease = time.Minute
	DefaultWait  = 2 * time.Second
	// PurgeInterval is how often serve deletes expired keys.
	PurgeInterval = 15 * time.Minute
)

// CheckKey validates a key as sent: 1 to 255 visible ASCII characters
// (! to ~: no spaces, no control characters, nothing outside ASCII).
func CheckKey(key string) *apperror.Error {
	msg := fmt.Sprintf("Debe tener entre 1 y %d caracteres ASCII visibles (sin espacios ni caracteres de control); p. ej. un UUID.", MaxKeyLen)
	if len(key) == 0 || len(key) > MaxKeyLen {
		return apperror.Invalid(HeaderKey, msg)
	}
	for i := range len(key) {
		if c := key[i]; c < '!' || c > '~' {
			return apperror.Invalid(HeaderKey, msg)
		}
	}
	return nil
}

// Fingerprint is the SHA-256 of a GraphQL request as its key remembers it:
// the operation's text, its name and its variables as canonical JSON (keys
// sorted at every level, no insignificant space, numbers as sent). No
// variables and an empty object are the same request.
func Fingerprint(query, operationName string, variables map[string]any) ([]byte, error) {
	if variables == nil {
		variables = map[string]any{}
	}
	vars, err := json.Marshal(variables) // encoding/json sorts map keys
	if err != nil {
		return nil, fmt.Errorf("variables: %w", err)
	}
	h := sha256.New()
	for _, part := range [][]byte{[]byte(query), []byte(operationName), vars} {
		// Each part prefixed with its length, so no two requests concatenate
		// to one.
		_ = binary.Write(h, binary.BigEndian, uint64(len(part)))
		h.Write(part)
	}
	return h.Sum(nil), nil
}

// Config tunes a Store.
type Config struct {
	// Clock stamps keys, their leases and their expiry.
	Clock clock.Clock
	// Logger reports the responses that could not be saved; none when nil.
	Logger *slog.Logger
	// TTL is how long a key is remembered after its mutation
	// (FACTORING_IDEMPOTENCY_TTL); DefaultTTL when zero.
	TTL time.Duration
	// Lease is how long a retry waits, at most, for the response of a
	// mutation that committed to be saved before taking it as lost: longer
	// than a request can last after its commit. DefaultLease when zero.
	Lease time.Duration
	// Wait is how long a request waits for the response of another
	// request with the same key, to replay it rather than answer
	// IDEMPOTENCY_IN_PROGRESS. DefaultWait when zero; negative: no wait.
	Wait time.Duration
}

// Store keeps the keys in the database.
type Store struct {
	db    *database.DB
	clock clock.Clock
	log   *slog.Logger
	ttl   time.Duration
	lease time.Duration
	wait  time.Duration

	// The responses waiting to be saved (Finish, saveAll).
	mu      sync.Mutex
	idle    *sync.Cond // saving went false
	pending []pendingSave
	saving  bool
}

// New returns the store over db.
func New(db *database.DB, cfg Config) *Store {
	s := &Store{db: db, clock: cfg.Clock, log: cfg.Logger, ttl: cfg.TTL, lease: cfg.Lease, wait: cfg.Wait}
	s.idle = sync.NewCond(&s.mu)
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.clock == nil {
		s.clock = clock.System{}
	}
	if s.ttl <= 0 {
		s.ttl = DefaultTTL
	}
	if s.lease <= 0 {
		s.lease = DefaultLease
	}
	if s.wait == 0 {
		s.wait = DefaultWait
	}
	return s
}

// Run is one request's attempt to run the mutation of a key.
type Run struct {
	subject, key string
	huella       []byte
	// intento names this run on the row it writes.
	intento string
	// written: the hook wrote the row in a transaction (committed or
	// not). taken: the hook found the key already taken.
	written, taken atomic.Bool
}

// Start prepares subject's run of the mutation of key, for a request of
// fingerprint huella. It reads nothing: the mutation runs under Context,
// and Finish tells what its answer is.
func (s *Store) Start(subject, key string, huella []byte) *Run {
	return &Run{subject: subject, key: key, huella: huella, intento: uuid.NewString()}
}

// errTaken rolls back a mutation whose key another request holds: only one
// mutation per key commits. The request then answers from the key's row.
var errTaken = apperror.New(apperror.IdempotencyInProgress)

// Context returns ctx for run's mutation: every transaction database.WithTx
// runs under it writes the key's row before committing, or rolls back if
// another request holds the key.
func (s *Store) Context(ctx context.Context, run *Run) context.Context {
	return database.BeforeCommit(ctx, func(ctx context.Context, tx *ent.Tx) error {
		n, err := s.claim(ctx, tx.ExecContext, run, nil, 0)
		if err != nil {
			return fmt.Errorf("registrar la clave de idempotencia: %w", err)
		}
		if n == 0 {
			run.taken.Store(true)
			return errTaken
		}
		run.written.Store(true)
		return nil
	})
}

// claim writes run's row, with its response when body is not nil: a new
// row, or one over an expired key. It returns 0 when the key is held (a
// live row of another run), leaving that row untouched.
func (s *Store) claim(ctx context.Context, exec func(context.Context, string, ...any) (stdsql.Result, error),
	run *Run, body []byte, status int,
) (int64, error) {
	now := s.clock.Now()
	cols := []string{
		claveidempotencia.FieldSujeto, claveidempotencia.FieldClave, claveidempotencia.FieldHuella,
		claveidempotencia.FieldIntento, claveidempotencia.FieldRespuesta, claveidempotencia.FieldEstadoHTTP,
		claveidempotencia.FieldCreadoEn, claveidempotencia.FieldVigenteHasta, claveidempotencia.FieldExpiraEn,
	}
	var respuesta, estado any // NULL until the response is known
	if body != nil {
		respuesta, estado = body, status
	}
	t := entsql.Table(claveidempotencia.Table)
	query, args := entsql.Dialect(s.db.Dialect).
		Insert(claveidempotencia.Table).
		Columns(cols...).
		Values(run.subject, run.key, run.huella, run.intento, respuesta, estado, now, now.Add(s.lease), now.Add(s.ttl)).
		OnConflict(
			entsql.ConflictColumns(claveidempotencia.FieldSujeto, claveidempotencia.FieldClave),
			entsql.ResolveWith(func(u *entsql.UpdateSet) {
				for _, c := range cols[2:] {
					u.SetExcluded(c)
				}
			}),
			// Only over an expired key whose response is not awaited, or
			// over this run's own row (a second transaction of its
			// mutation).
			entsql.UpdateWhere(entsql.Or(
				entsql.And(
					entsql.LTE(t.C(claveidempotencia.FieldExpiraEn), now),
					entsql.LTE(t.C(claveidempotencia.FieldVigenteHasta), now),
				),
				entsql.EQ(t.C(claveidempotencia.FieldIntento), run.intento),
			)),
		).
		Query()
	res, err := exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Outcome is what a request answers.
type Outcome int

// The outcomes of Finish and Lookup.
const (
	// Own: the request's own response is the key's (it was saved, or
	// is not to be kept); answer it.
	Own Outcome = iota + 1
	// Replay: the key belongs to an earlier request of the same
	// fingerprint; Status and Body are its response.
	Replay
	// Reused: the key came with another request (another fingerprint).
	Reused
	// InProgress: another request with the key has not saved its response
	// yet, and the wait for it ran out.
	InProgress
	// Lost: the key's mutation committed but its response was not saved
	// (the server stopped in between, or its response was not one to
	// keep): it must not run again, and there is nothing to replay.
	Lost
)

// Answer is what a request with a key answers.
type Answer struct {
	Outcome Outcome
	// Status and Body: the stored response, for Replay.
	Status int
	Body   []byte
}

// Result is how a mutation answered, as its key sees it.
type Result int

// The results of a mutation.
const (
	// Applied: the mutation answered without errors: it committed.
	Applied Result = iota + 1
	// Refused: it answered a business error (VALIDATION_ERROR, CONFLICT,
	// NOT_FOUND, FORBIDDEN…): a retry would be refused again, and the
	// answer is kept.
	Refused
	// Failed: an outage, a timeout, an internal error: the answer is not
	// kept, and a retry runs.
	Failed
)

// Finish settles run once its mutation answered, with status and body
// and how (result). The answer says what the request responds: its own
// response, or, when another request holds the key, what that one left.
//
// The response of an applied mutation is saved on its key after Finish
// returns, in a batch with other requests' (one commit for all): the
// request does not wait for it, and a retry that comes first waits for it
// (Lookup). Wait blocks until every such response is saved.
func (s *Store) Finish(ctx context.Context, run *Run, result Result, status int, body []byte) (*Answer, error) {
	switch {
	case run.taken.Load():
		return s.Lookup(ctx, run.subject, run.key, run.huella)
	case result == Applied && run.written.Load():
		// It committed, and with it the key's row.
		s.queue(pendingSave{run: run, status: status, body: body})
		return &Answer{Outcome: Own}, nil
	case result != Failed:
		// Refused (nothing committed): the refusal is kept on a row of
		// its own, unless another request took the key meanwhile. (Or
		// applied by a mutation that wrote no transaction, or answered a
		// business error after committing: the row, if any, is this
		// run's, and takes the answer.)
		n, err := s.claim(ctx, s.db.Client.ExecContext, run, body, status)
		if err != nil || n == 1 {
			return &Answer{Outcome: Own}, err
		}
		return s.Lookup(ctx, run.subject, run.key, run.huella)
	case run.written.Load():
		// Not kept, but the mutation may have committed: if it did, a
		// retry must learn it at once rather than wait for a response
		// that will never be saved.
		_, err := s.db.Client.ClaveIdempotencia.Update().
			Where(claveidempotencia.Sujeto(run.subject), claveidempotencia.Clave(run.key), claveidempotencia.Intento(run.intento)).
			SetVigenteHasta(s.clock.Now()).
			Save(ctx)
		return &Answer{Outcome: Own}, err
	default:
		return &Answer{Outcome: Own}, nil
	}
}

// pendingSave is an applied mutation's response waiting to be saved on its
// key.
type pendingSave struct {
	run    *Run
	status int
	body   []byte
}

// saveTimeout bounds one batch of saves.
const saveTimeout = 10 * time.Second

// queue adds p to the responses to save, and starts saving them unless a
// save is under way (it will take p too).
func (s *Store) queue(p pendingSave) {
	s.mu.Lock()
	s.pending = append(s.pending, p)
	start := !s.saving
	s.saving = true
	s.mu.Unlock()
	if start {
		go s.saveAll()
	}
}

// saveAll saves the queued responses, in batches of whatever queued up
// while the previous batch committed, until none is left. A batch that
// fails is logged; its keys then read as Lost once their lease ends.
func (s *Store) saveAll() {
	for {
		s.mu.Lock()
		batch := s.pending
		s.pending = nil
		if len(batch) == 0 {
			s.saving = false
			s.idle.Broadcast()
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		if err := s.save(batch); err != nil {
			s.log.Error("no se pudieron guardar respuestas idempotentes; sus claves quedarán sin respuesta",
				"respuestas", len(batch), "error", err)
		}
	}
}

func (s *Store) save(batch []pendingSave) error {
	ctx, cancel := context.WithTimeout(context.Background(), saveTimeout)
	defer cancel()
	tx, err := s.db.Client.Tx(ctx)
	if err != nil {
		return err
	}
	for _, p := range batch {
		err := tx.ClaveIdempotencia.Update().
			Where(claveidempotencia.Sujeto(p.run.subject), claveidempotencia.Clave(p.run.key), claveidempotencia.Intento(p.run.intento)).
			SetRespuesta(p.body).
			SetEstadoHTTP(p.status).
			Exec(ctx)
		if err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

// Wait blocks until every response Finish queued is saved: for a server
// shutting down, before it closes the database, and for tests.
func (s *Store) Wait() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.saving {
		s.idle.Wait()
	}
}

// Lookup reports what the key's row says to a request of fingerprint
// huella: a response to replay, another request's key, a response still
// awaited (after waiting up to Config.Wait for it, and no longer than ctx),
// or a lost one. A key with no live row is InProgress too: it was just
// released or expired, and a retry will run.
func (s *Store) Lookup(ctx context.Context, subject, key string, huella []byte) (*Answer, error) {
	var deadline time.Time
	if s.wait > 0 {
		deadline = time.Now().Add(s.wait)
	}
	pause := 5 * time.Millisecond
	for {
		a, err := s.look(ctx, subject, key, huella)
		if err != nil || a.Outcome != InProgress || !time.Now().Add(pause).Before(deadline) {
			return a, err
		}
		select {
		case <-ctx.Done():
			return a, nil
		case <-time.After(pause):
		}
		pause = min(2*pause, 100*time.Millisecond)
	}
}

func (s *Store) look(ctx context.Context, subject, key string, huella []byte) (*Answer, error) {
	row, err := s.db.Client.ClaveIdempotencia.Query().
		Where(claveidempotencia.Sujeto(subject), claveidempotencia.Clave(key)).
		Only(ctx)
	if ent.IsNotFound(err) {
		return &Answer{Outcome: InProgress}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("leer la clave de idempotencia: %w", err)
	}
	now := s.clock.Now()
	switch {
	case !row.ExpiraEn.After(now) && !row.VigenteHasta.After(now):
		return &Answer{Outcome: InProgress}, nil // expired: the retry runs
	case !bytes.Equal(row.Huella, huella):
		return &Answer{Outcome: Reused}, nil
	case row.Respuesta != nil && len(*row.Respuesta) > 0: // (a NULL reads as an empty slice)
		a := &Answer{Outcome: Replay, Status: 200, Body: *row.Respuesta}
		if row.EstadoHTTP != nil { // always, as Finish writes both
			a.Status = *row.EstadoHTTP
		}
		return a, nil
	case row.VigenteHasta.After(now):
		return &Answer{Outcome: InProgress}, nil
	default:
		return &Answer{Outcome: Lost}, nil
	}
}

// Purge deletes the keys expired at now, but for one whose response is
// still awaited, and returns how many it deleted. A scheduler calls it
// periodically (serve does, every PurgeInterval: see PurgeEvery).
func (s *Store) Purge(ctx context.Context, now time.Time) (int, error) {
	n, err := s.db.Client.ClaveIdempotencia.Delete().
		Where(claveidempotencia.ExpiraEnLTE(now), claveidempotencia.VigenteHastaLTE(now)).
		Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("purgar claves de idempotencia vencidas: %w", err)
	}
	return n, nil
}

// PurgeEvery runs Purge now and then every interval until ctx ends,
// logging what it deleted and any failure (the next tick tries again).
func (s *Store) PurgeEvery(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := s.Purge(ctx, s.clock.Now())
		switch {
		case err != nil && ctx.Err() == nil:
			log.ErrorContext(ctx, "no se pudieron purgar las claves de idempotencia vencidas", "error", err)
		case n > 0:
			log.InfoContext(ctx, "claves de idempotencia vencidas purgadas", "claves", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
