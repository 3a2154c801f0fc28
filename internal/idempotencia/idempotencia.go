// Package idempotencia keeps the Idempotency-Key of mutations: which
// subject sent which key with which request, and the response to give back
// when the same request comes again, so that a retried mutation never runs
// twice (README, "Retrying mutations").
//
// A key lives in one row of claves_idempotencia, unique per (subject, key),
// and goes through three steps, each in its own commit:
//
//  1. Begin claims the key before the mutation runs: it inserts the row
//     EN_CURSO with the request's fingerprint and a lease, or finds the row
//     another request left (a response to replay, another fingerprint, a run
//     still under way).
//  2. The mutation's own transaction marks the row COMPLETADA just before
//     it commits (Context hands database.WithTx the hook), so the mutation
//     and its key's completion commit together or not at all.
//  3. Complete saves the response on the row; Release gives up a run whose
//     response is not worth keeping (an internal error, an outage, a
//     timeout): the row goes if the mutation did not commit, so a retry
//     runs it.
//
// Every write is conditional on the run that claimed the key (its
// "intento"): a run whose lease expired and whose key another run took over
// can neither complete nor release it, and its mutation rolls back. So
// nothing runs twice, whatever the concurrency, and a crash at any step
// leaves a row that says what a retry gets: EN_CURSO past its lease (the
// mutation never committed: the retry runs it), or COMPLETADA without a
// response (it committed; its answer was lost: the retry is told so, and
// the mutation does not run again).
package idempotencia

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

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
	// TTL is how long a key is remembered after its first request
	// (FACTORING_IDEMPOTENCY_TTL); DefaultTTL when zero.
	TTL time.Duration
	// Lease is how long a run holds its key before another request may
	// take it over: longer than a request can last (its deadline) plus
	// the time to save its response. DefaultLease when zero.
	Lease time.Duration
	// Wait is how long Begin waits for a run still under way with the
	// same key to finish, to replay its response rather than answer
	// IDEMPOTENCY_IN_PROGRESS. DefaultWait when zero; negative: no wait.
	Wait time.Duration
}

// Store keeps the keys in the database.
type Store struct {
	db    *database.DB
	clock clock.Clock
	ttl   time.Duration
	lease time.Duration
	wait  time.Duration
}

// New returns the store over db.
func New(db *database.DB, cfg Config) *Store {
	s := &Store{db: db, clock: cfg.Clock, ttl: cfg.TTL, lease: cfg.Lease, wait: cfg.Wait}
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

// Outcome is what Begin found for a key.
type Outcome int

// The outcomes of Begin.
const (
	// Run: this request holds the key and runs the mutation, under
	// Context, and ends with Complete or Release.
	Run Outcome = iota + 1
	// Replay: the key's mutation is done; Status and Body are its response.
	Replay
	// Reused: the key came with another request (another fingerprint).
	Reused
	// InProgress: a request with the key still runs.
	InProgress
	// Lost: the key's mutation committed but its response was not saved
	// (the server stopped in between): it must not run again, and there
	// is nothing to replay.
	Lost
)

// Claim is Begin's answer.
type Claim struct {
	Outcome Outcome
	// Status and Body: the stored response, for Replay.
	Status int
	Body   []byte

	// id and intento name the row and the run that holds it, for Run.
	id      int
	intento string
}

// Begin claims key for subject's request of fingerprint huella, or reports
// what an earlier request with the key left. While a run with the key is
// under way it waits up to Config.Wait (and no longer than ctx) for it to
// finish before answering InProgress.
func (s *Store) Begin(ctx context.Context, subject, key string, huella []byte) (*Claim, error) {
	var deadline time.Time
	if s.wait > 0 {
		deadline = time.Now().Add(s.wait)
	}
	pause := 5 * time.Millisecond
	for {
		c, err := s.try(ctx, subject, key, huella)
		if err != nil || c.Outcome != InProgress || !time.Now().Add(pause).Before(deadline) {
			return c, err
		}
		select {
		case <-ctx.Done():
			return c, nil
		case <-time.After(pause):
		}
		pause = min(2*pause, 100*time.Millisecond)
	}
}

// maxRaces bounds how often try starts over after losing a race for the
// key's row to another request.
const maxRaces = 10

// try is one look at the key's row, and the claim that follows from it.
func (s *Store) try(ctx context.Context, subject, key string, huella []byte) (*Claim, error) {
	for range maxRaces {
		now := s.clock.Now()
		row, err := s.db.Client.ClaveIdempotencia.Query().
			Where(claveidempotencia.Sujeto(subject), claveidempotencia.Clave(key)).
			Only(ctx)
		switch {
		case ent.IsNotFound(err):
			c, err := s.insert(ctx, subject, key, huella, now)
			if database.IsUniqueViolation(err) {
				continue // another request inserted it first: look again
			}
			return c, err
		case err != nil:
			return nil, fmt.Errorf("leer la clave de idempotencia: %w", err)
		}
		leased := row.VigenteHasta.After(now)
		switch {
		case !row.ExpiraEn.After(now) && !leased:
			// Expired: as if it had never been sent.
			c, ok, err := s.restart(ctx, row, huella, now)
			if err != nil || ok {
				return c, err
			}
			continue
		case !bytes.Equal(row.Huella, huella):
			return &Claim{Outcome: Reused}, nil
		case row.Estado == claveidempotencia.EstadoCOMPLETADA && row.Respuesta != nil && len(*row.Respuesta) > 0:
			// (ent reads a NULL bytea as a pointer to an empty slice.)
			c := &Claim{Outcome: Replay, Status: 200, Body: *row.Respuesta}
			if row.EstadoHTTP != nil { // always, as Complete writes both
				c.Status = *row.EstadoHTTP
			}
			return c, nil
		case leased:
			return &Claim{Outcome: InProgress}, nil
		case row.Estado == claveidempotencia.EstadoEN_CURSO:
			// A run that outlived its lease: its process stopped before
			// its mutation committed (a commit would have made the row
			// COMPLETADA). Take it over.
			c, ok, err := s.takeOver(ctx, row, now)
			if err != nil || ok {
				return c, err
			}
			continue
		default:
			return &Claim{Outcome: Lost}, nil
		}
	}
	return nil, errors.New("la clave de idempotencia cambió demasiadas veces mientras se leía")
}

func (s *Store) insert(ctx context.Context, subject, key string, huella []byte, now time.Time) (*Claim, error) {
	intento := uuid.NewString()
	row, err := s.db.Client.ClaveIdempotencia.Create().
		SetSujeto(subject).
		SetClave(key).
		SetHuella(huella).
		SetEstado(claveidempotencia.EstadoEN_CURSO).
		SetIntento(intento).
		SetCreadoEn(now).
		SetVigenteHasta(now.Add(s.lease)).
		SetExpiraEn(now.Add(s.ttl)).
		Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("registrar la clave de idempotencia: %w", err)
	}
	return &Claim{Outcome: Run, id: row.ID, intento: intento}, nil
}

// restart reuses an expired key's row for a new request. ok is false when
// another request changed the row first.
func (s *Store) restart(ctx context.Context, row *ent.ClaveIdempotencia, huella []byte, now time.Time) (*Claim, bool, error) {
	intento := uuid.NewString()
	n, err := s.db.Client.ClaveIdempotencia.Update().
		Where(claveidempotencia.ID(row.ID), claveidempotencia.Intento(row.Intento)).
		SetHuella(huella).
		SetEstado(claveidempotencia.EstadoEN_CURSO).
		SetIntento(intento).
		ClearRespuesta().
		ClearEstadoHTTP().
		SetCreadoEn(now).
		SetVigenteHasta(now.Add(s.lease)).
		SetExpiraEn(now.Add(s.ttl)).
		Save(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("renovar la clave de idempotencia vencida: %w", err)
	}
	return &Claim{Outcome: Run, id: row.ID, intento: intento}, n == 1, nil
}

// takeOver gives a crashed run's key to a new run. ok is false when
// another request changed the row first.
func (s *Store) takeOver(ctx context.Context, row *ent.ClaveIdempotencia, now time.Time) (*Claim, bool, error) {
	intento := uuid.NewString()
	n, err := s.db.Client.ClaveIdempotencia.Update().
		Where(claveidempotencia.ID(row.ID), claveidempotencia.Intento(row.Intento),
			claveidempotencia.EstadoEQ(claveidempotencia.EstadoEN_CURSO)).
		SetIntento(intento).
		SetVigenteHasta(now.Add(s.lease)).
		Save(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("retomar la clave de idempotencia: %w", err)
	}
	return &Claim{Outcome: Run, id: row.ID, intento: intento}, n == 1, nil
}

// Context returns ctx for c's run: every transaction database.WithTx runs
// under it marks the key COMPLETADA before committing. If another run took
// the key over meanwhile, the transaction rolls back with
// IDEMPOTENCY_IN_PROGRESS: only one run's mutation ever commits.
func (s *Store) Context(ctx context.Context, c *Claim) context.Context {
	return database.BeforeCommit(ctx, func(ctx context.Context, tx *ent.Tx) error {
		n, err := tx.ClaveIdempotencia.Update().
			Where(claveidempotencia.ID(c.id), claveidempotencia.Intento(c.intento)).
			SetEstado(claveidempotencia.EstadoCOMPLETADA).
			Save(ctx)
		if err != nil {
			return fmt.Errorf("completar la clave de idempotencia: %w", err)
		}
		if n == 0 {
			return apperror.New(apperror.IdempotencyInProgress)
		}
		return nil
	})
}

// ErrNotHeld is the error of Complete and Release when c's run no longer
// holds its key (another run took it over).
var ErrNotHeld = errors.New("la clave de idempotencia ya no pertenece a esta ejecución")

// Complete saves the response of c's run, to be replayed: status and body
// byte for byte. It also completes a run whose mutation did not commit (a
// business error, which a retry would only repeat).
func (s *Store) Complete(ctx context.Context, c *Claim, status int, body []byte) error {
	n, err := s.db.Client.ClaveIdempotencia.Update().
		Where(claveidempotencia.ID(c.id), claveidempotencia.Intento(c.intento)).
		SetEstado(claveidempotencia.EstadoCOMPLETADA).
		SetRespuesta(body).
		SetEstadoHTTP(status).
		Save(ctx)
	if err != nil {
		return fmt.Errorf("guardar la respuesta idempotente: %w", err)
	}
	if n == 0 {
		return ErrNotHeld
	}
	return nil
}

// Release gives up c's run without keeping its response. If its mutation
// did not commit, the key is deleted: a retry runs as if it were the
// first. If it did, the key stays COMPLETADA without a response and its
// lease ends now: a retry is told at once that the mutation was applied
// (Lost), and it never runs again.
func (s *Store) Release(ctx context.Context, c *Claim) error {
	n, err := s.db.Client.ClaveIdempotencia.Delete().
		Where(claveidempotencia.ID(c.id), claveidempotencia.Intento(c.intento),
			claveidempotencia.EstadoEQ(claveidempotencia.EstadoEN_CURSO)).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("liberar la clave de idempotencia: %w", err)
	}
	if n == 1 {
		return nil
	}
	n, err = s.db.Client.ClaveIdempotencia.Update().
		Where(claveidempotencia.ID(c.id), claveidempotencia.Intento(c.intento)).
		SetVigenteHasta(s.clock.Now()).
		Save(ctx)
	if err != nil {
		return fmt.Errorf("cerrar la clave de idempotencia: %w", err)
	}
	if n == 0 {
		return ErrNotHeld
	}
	return nil
}

// Purge deletes the keys expired at now, but for one whose run still holds
// its lease, and returns how many it deleted. A scheduler calls it
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
