package database_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/testkit"
)

// insertCliente writes one cliente inside tx.
func insertCliente(t *testing.T, tx *ent.Tx, rut string) {
	t.Helper()
	now := time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)
	_, err := tx.Cliente.Create().SetRut(rut).SetRazonSocial("Tx SpA").SetEmail("tx@ejemplo.cl").
		SetFechaRegistro(now).SetLineaCredito(decimal.NewFromInt(1)).SetLineaDisponible(decimal.NewFromInt(1)).
		SetEstado(estado.ClientePendiente).SetCreadoEn(now).SetActualizadoEn(now).Save(context.Background())
	require.NoError(t, err)
}

func countClientes(t *testing.T, db *database.DB) int {
	t.Helper()
	n, err := db.Client.Cliente.Query().Count(context.Background())
	require.NoError(t, err)
	return n
}

func TestWithTx(t *testing.T) {
	ctx := context.Background()
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		t.Run("confirma_si_fn_termina_bien", func(t *testing.T) {
			before := countClientes(t, db)
			require.NoError(t, db.WithTx(ctx, func(tx *ent.Tx) error {
				insertCliente(t, tx, "1.000.005-6")
				return nil
			}))
			assert.Equal(t, before+1, countClientes(t, db))
		})

		t.Run("un_error_deshace_todo_y_no_se_reintenta", func(t *testing.T) {
			// Ensure that an ordinary error rolls back and is returned as is,
			// after a single attempt.
			before, retries := countClientes(t, db), db.Retries()
			boom := errors.New("boom")
			calls := 0
			err := db.WithTx(ctx, func(tx *ent.Tx) error {
				calls++
				insertCliente(t, tx, "1.000.013-7")
				return boom
			})
			assert.ErrorIs(t, err, boom)
			assert.Equal(t, 1, calls)
			assert.Equal(t, before, countClientes(t, db), "rolled back")
			assert.Equal(t, retries, db.Retries())
		})

		t.Run("los_errores_de_dominio_no_se_reintentan", func(t *testing.T) {
			calls := 0
			err := db.WithTx(ctx, func(tx *ent.Tx) error {
				calls++
				return apperror.Conflictf("No se puede: está en estado X.")
			})
			assert.Equal(t, apperror.Conflict, apperror.CodeOf(err))
			assert.Equal(t, 1, calls)
			// Nor the other SQLSTATEs, a unique violation included.
			calls = 0
			err = db.WithTx(ctx, func(tx *ent.Tx) error {
				calls++
				return fmt.Errorf("insertar: %w", &pgconn.PgError{Code: "23505"})
			})
			require.Error(t, err)
			assert.Equal(t, 1, calls)
		})

		for _, code := range []string{"40001", "40P01"} {
			t.Run("reintenta_la_contencion_"+code, func(t *testing.T) {
				// Ensure that a serialization failure or a deadlock runs the
				// transaction again, each attempt from scratch: only the last
				// attempt's writes stay.
				before, retries := countClientes(t, db), db.Retries()
				calls := 0
				err := db.WithTx(ctx, func(tx *ent.Tx) error {
					calls++
					insertCliente(t, tx, "retry-"+code)
					if calls <= 3 {
						return fmt.Errorf("aprobar: %w", &pgconn.PgError{Code: code})
					}
					return nil
				})
				require.NoError(t, err)
				assert.Equal(t, 4, calls)
				assert.Equal(t, retries+3, db.Retries(), "each retry is counted")
				assert.Equal(t, before+1, countClientes(t, db), "the failed attempts left nothing")
			})
		}

		t.Run("tras_5_intentos_es_conflict", func(t *testing.T) {
			before, retries := countClientes(t, db), db.Retries()
			calls := 0
			err := db.WithTx(ctx, func(tx *ent.Tx) error {
				calls++
				insertCliente(t, tx, "1.000.048-K")
				return &pgconn.PgError{Code: "40001"}
			})
			assert.Equal(t, 5, calls, "at most 5 attempts")
			assert.Equal(t, apperror.Conflict, apperror.CodeOf(err))
			var pgErr *pgconn.PgError
			assert.True(t, errors.As(err, &pgErr), "the cause is kept for the log")
			assert.Equal(t, retries+4, db.Retries())
			assert.Equal(t, before, countClientes(t, db))
		})

		t.Run("un_panic_deshace_todo", func(t *testing.T) {
			before := countClientes(t, db)
			func() {
				defer func() {
					p := recover()
					assert.Equal(t, "boom", p, "the panic goes on to the caller")
				}()
				_ = db.WithTx(ctx, func(tx *ent.Tx) error {
					insertCliente(t, tx, "1.000.056-0")
					panic("boom")
				})
			}()
			assert.Equal(t, before, countClientes(t, db), "rolled back")
			// The connection went back to the pool usable.
			require.NoError(t, db.WithTx(ctx, func(tx *ent.Tx) error {
				insertCliente(t, tx, "1.000.056-0")
				return nil
			}))
		})

		t.Run("before_commit_confirma_junto_con_fn", func(t *testing.T) {
			// Ensure that a hook carried in the context writes inside fn's
			// transaction: both commit, in order, and a hook that fails
			// rolls fn's writes back too.
			before := countClientes(t, db)
			var order []string
			hctx := database.BeforeCommit(ctx, func(ctx context.Context, tx *ent.Tx) error {
				order = append(order, "hook1")
				insertCliente(t, tx, "hook-1")
				return nil
			})
			hctx = database.BeforeCommit(hctx, func(ctx context.Context, tx *ent.Tx) error {
				order = append(order, "hook2")
				return nil
			})
			require.NoError(t, db.WithTx(hctx, func(tx *ent.Tx) error {
				order = append(order, "fn")
				insertCliente(t, tx, "fn-1")
				return nil
			}))
			assert.Equal(t, []string{"fn", "hook1", "hook2"}, order)
			assert.Equal(t, before+2, countClientes(t, db))

			boom := errors.New("boom")
			fctx := database.BeforeCommit(ctx, func(ctx context.Context, tx *ent.Tx) error { return boom })
			err := db.WithTx(fctx, func(tx *ent.Tx) error {
				insertCliente(t, tx, "fn-2")
				return nil
			})
			assert.ErrorIs(t, err, boom)
			assert.Equal(t, before+2, countClientes(t, db), "fn's write rolled back with the hook's failure")
		})

		t.Run("before_commit_no_corre_si_fn_falla", func(t *testing.T) {
			called := false
			hctx := database.BeforeCommit(ctx, func(ctx context.Context, tx *ent.Tx) error {
				called = true
				return nil
			})
			err := db.WithTx(hctx, func(tx *ent.Tx) error { return apperror.Conflictf("no") })
			assert.Equal(t, apperror.Conflict, apperror.CodeOf(err))
			assert.False(t, called)
		})

		t.Run("contexto_cancelado_durante_la_espera", func(t *testing.T) {
			cctx, cancel := context.WithCancel(ctx)
			calls := 0
			err := db.WithTx(cctx, func(tx *ent.Tx) error {
				calls++
				cancel()
				return &pgconn.PgError{Code: "40001"}
			})
			require.Error(t, err)
			assert.ErrorIs(t, err, context.Canceled)
			assert.Equal(t, 1, calls, "no attempt after the context ended")
		})
	})
}
