package database_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/factura"
	"github.com/banpro/factoring/ent/operacion"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/testkit"
)

// TestLock ensures that Lock reads exactly the rows its set names: the
// cliente, the operación, the facturas in id order without the ones that do
// not exist; and that a named cliente or operación that does not exist is
// NOT_FOUND.
func TestLock(t *testing.T) {
	ctx := context.Background()
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		c := env.MustCrearClienteActivo(t, "1000000.00")
		op, ids := env.MustOperacionPendiente(t, c.ID, "1000.00", "2000.00")
		libre := env.MustRegistrarFactura(t, c.ID, "10.00", testkit.Vence(30))
		lock := func(set database.LockSet) (database.Locked, error) {
			var l database.Locked
			err := db.WithTx(ctx, func(tx *ent.Tx) (err error) {
				l, err = db.Lock(ctx, tx, set)
				return err
			})
			return l, err
		}
		facturaIDs := func(l database.Locked) []int {
			out := []int{}
			for _, f := range l.Facturas {
				out = append(out, f.ID)
			}
			return out
		}
		const missing = 1<<32 + 999_999

		t.Run("operacion_con_su_cliente_y_sus_facturas", func(t *testing.T) {
			l, err := lock(database.LockSet{
				ClienteDeOperacion: true,
				OperacionID:        &op.ID,
				Facturas:           factura.HasOperacionesWith(operacion.ID(op.ID)),
			})
			require.NoError(t, err)
			assert.Equal(t, c.ID, l.Cliente.ID)
			assert.Equal(t, op.ID, l.Operacion.ID)
			assert.Equal(t, ids, facturaIDs(l))
		})

		t.Run("facturas_en_orden_de_id_sin_las_inexistentes", func(t *testing.T) {
			l, err := lock(database.LockSet{FacturaIDs: []int{missing, libre.ID, ids[1], ids[0]}})
			require.NoError(t, err)
			assert.Nil(t, l.Cliente)
			assert.Nil(t, l.Operacion)
			assert.Equal(t, []int{ids[0], ids[1], libre.ID}, facturaIDs(l))
		})

		t.Run("facturas_nombradas_que_cumplen_la_condicion", func(t *testing.T) {
			l, err := lock(database.LockSet{
				FacturaIDs: []int{libre.ID, ids[0]},
				Facturas:   factura.EstadoEQ(estado.FacturaDisponible),
			})
			require.NoError(t, err)
			assert.Equal(t, []int{libre.ID}, facturaIDs(l))
		})

		t.Run("nada", func(t *testing.T) {
			l, err := lock(database.LockSet{})
			require.NoError(t, err)
			assert.Equal(t, database.Locked{}, l)
		})

		t.Run("cliente_inexistente", func(t *testing.T) {
			id := 999_999
			_, err := lock(database.LockSet{ClienteID: &id})
			assert.Equal(t, apperror.NotFound, apperror.CodeOf(err), "error: %v", err)
		})

		t.Run("operacion_inexistente", func(t *testing.T) {
			id := 2<<32 + 999_999
			_, err := lock(database.LockSet{ClienteDeOperacion: true, OperacionID: &id})
			assert.Equal(t, apperror.NotFound, apperror.CodeOf(err), "error: %v", err)
			_, err = lock(database.LockSet{OperacionID: &id})
			assert.Equal(t, apperror.NotFound, apperror.CodeOf(err), "error: %v", err)
		})
	})
}

// TestLockEspera ensures that on PostgreSQL a row Lock returned stays
// locked until its transaction ends: a second transaction locking it waits,
// and then reads what the first one wrote, not what was there before.
func TestLockEspera(t *testing.T) {
	ctx := context.Background()
	db := testkit.Postgres(t)
	env := testkit.NewEnv(t, db)
	c := env.MustCrearClienteActivo(t, "1000000.00")

	first, err := db.Client.Tx(ctx)
	require.NoError(t, err)
	defer func() { _ = first.Rollback() }()
	_, err = db.Lock(ctx, first, database.LockSet{ClienteID: &c.ID})
	require.NoError(t, err)

	read := make(chan string, 1)
	go func() {
		_ = db.WithTx(ctx, func(tx *ent.Tx) error {
			l, err := db.Lock(ctx, tx, database.LockSet{ClienteID: &c.ID})
			if err != nil {
				read <- err.Error()
				return err
			}
			read <- l.Cliente.RazonSocial
			return nil
		})
	}()

	// Give the second transaction time to reach the lock; should Lock not
	// lock, it reads the old name before the first one commits.
	time.Sleep(200 * time.Millisecond)
	require.NoError(t, first.Cliente.UpdateOneID(c.ID).SetRazonSocial("Escrita por la primera").Exec(ctx))
	require.NoError(t, first.Commit())
	assert.Equal(t, "Escrita por la primera", <-read)
}
