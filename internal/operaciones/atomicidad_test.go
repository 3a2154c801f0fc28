package operaciones_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/factura"
	"github.com/banpro/factoring/ent/hook"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/operaciones"
	"github.com/banpro/factoring/internal/testkit"
)

// errInyectado is the failure the hook injects.
var errInyectado = errors.New("falla inyectada")

// fallaAlEscribirEvento makes every OperacionEvento write fail while armed
// is true. The event is the last write of every operación mutation, so the
// failure comes after the operación, its links, the invoices and the
// cliente's line were written in the transaction. inside, when not nil,
// runs at that moment with the transaction's client, to see those writes.
func fallaAlEscribirEvento(db *database.DB, armed *atomic.Bool, inside func(ctx context.Context, tx *ent.Client)) {
	db.Client.OperacionEvento.Use(func(next ent.Mutator) ent.Mutator {
		return hook.OperacionEventoFunc(func(ctx context.Context, m *ent.OperacionEventoMutation) (ent.Value, error) {
			if !armed.Load() {
				return next.Mutate(ctx, m)
			}
			if inside != nil {
				inside(ctx, m.Client())
			}
			return nil, errInyectado
		})
	})
}

// TestAtomicidad ensures invariant 4: a mutation that fails halfway (here
// at its last write, the event) leaves no row and no event behind.
func TestAtomicidad(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		svc := env.Svc.Operaciones
		var armed atomic.Bool
		var seen struct {
			ops, enProceso, cedidas int
			linea                   string
		}
		fallaAlEscribirEvento(db, &armed, func(ctx context.Context, tx *ent.Client) {
			seen.ops, _ = tx.Operacion.Query().Count(ctx)
			seen.enProceso, _ = tx.Factura.Query().Where(factura.EstadoEQ(estado.FacturaEnProceso)).Count(ctx)
			seen.cedidas, _ = tx.Factura.Query().Where(factura.EstadoEQ(estado.FacturaCedida)).Count(ctx)
			if c, err := tx.Cliente.Query().First(ctx); err == nil {
				seen.linea = c.LineaDisponible.StringFixed(2)
			}
		})
		c := env.MustCrearClienteActivo(t, "1000000.00")

		t.Run("crear", func(t *testing.T) {
			_, ids := env.MustRegistrarFacturas(t, c.ID, "100000.00", "50000.00")
			before := env.Count(t)
			armed.Store(true)
			_, err := svc.Crear(ctx, operaciones.CrearInput{ClienteID: c.ID, FacturaIDs: ids})
			armed.Store(false)
			assert.ErrorIs(t, err, errInyectado)
			assert.Equal(t, apperror.Internal, apperror.CodeOf(err))
			require.Equal(t, 1, seen.ops, "the operación was written before the failure")
			require.Equal(t, 2, seen.enProceso, "the invoices were held before the failure")

			after := env.Count(t)
			assert.Equal(t, before.Operaciones, after.Operaciones, "no operación row")
			assert.Equal(t, before.Links, after.Links, "no link")
			assert.Equal(t, before.Eventos, after.Eventos, "no event")
			env.RequireEstadoFacturas(t, estado.FacturaDisponible, ids...)
			env.RequireLinea(t, c.ID, "1000000.00", "1000000.00")
			testkit.RequireVerificado(t, db)
		})

		t.Run("aprobar", func(t *testing.T) {
			op, ids := env.MustOperacionPendiente(t, c.ID, "100000.00", "50000.00")
			before := env.Snapshot(t)
			armed.Store(true)
			_, err := svc.Aprobar(ctx, op.ID)
			armed.Store(false)
			assert.ErrorIs(t, err, errInyectado)
			require.Equal(t, "850000.00", seen.linea, "the line was taken before the failure")
			require.Equal(t, 2, seen.cedidas, "the invoices were ceded before the failure")

			assert.Equal(t, before, env.Snapshot(t))
			env.RequireLinea(t, c.ID, "1000000.00", "1000000.00")
			env.RequireEstadoFacturas(t, estado.FacturaEnProceso, ids...)
			stored := env.Operacion(t, op.ID)
			assert.Equal(t, estado.OperacionPendiente, stored.Estado)
			assert.Nil(t, stored.FechaAprobacion)
			assert.Len(t, env.Eventos(t, op.ID), 1)
			testkit.RequireVerificado(t, db)

			_, err = svc.Aprobar(ctx, op.ID)
			require.NoError(t, err, "the same mutation succeeds once nothing fails")
		})

		// Every other transition of the operación, the same way.
		cases := []struct {
			name string
			from estado.Operacion
			run  func(id int) error
			prep func(ids []int)
		}{
			{"rechazar", estado.OperacionPendiente, func(id int) error { _, err := svc.Rechazar(ctx, id, "Motivo válido"); return err }, nil},
			{"desembolsar", estado.OperacionAprobada, func(id int) error { _, err := svc.Desembolsar(ctx, id); return err }, nil},
			{"finalizar", estado.OperacionDesembolsada, func(id int) error { _, err := svc.Finalizar(ctx, id); return err },
				func(ids []int) { env.MustPagarTodas(t, ids...) }},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				op, ids := opEn(t, env, c, tc.from)
				if tc.prep != nil {
					tc.prep(ids)
				}
				before := env.Snapshot(t)
				armed.Store(true)
				err := tc.run(op.ID)
				armed.Store(false)
				assert.ErrorIs(t, err, errInyectado)
				assert.Equal(t, before, env.Snapshot(t), "nothing changed")
				testkit.RequireVerificado(t, db)
			})
		}

		t.Run("graphql_responde_error_interno_generico", func(t *testing.T) {
			client, _ := testkit.Serve(t, db, testkit.ServeOptions{})
			op, _ := env.MustOperacionPendiente(t, c.ID, "1000.00")
			before := env.Snapshot(t)
			armed.Store(true)
			res := client.Do(`mutation($id: ID!) { aprobarOperacion(id: $id) { id estado } }`, map[string]any{"id": gid.Encode(op.ID)})
			armed.Store(false)
			e := testkit.RequireGQLError(t, res, apperror.Internal)
			assert.Equal(t, apperror.GenericMessage(), e.Message)
			assert.NotContains(t, e.Message, "falla inyectada", "the cause stays in the log")
			assert.Equal(t, before, env.Snapshot(t))
		})
	})
}
