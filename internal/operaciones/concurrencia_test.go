package operaciones_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/hook"
	"github.com/banpro/factoring/ent/operacion"
	"github.com/banpro/factoring/ent/operacionevento"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/operaciones"
	"github.com/banpro/factoring/internal/testkit"
)

// TestAprobarConcurrenteLineaParaDiez is the documented example
// (docs/dominio.md, "Concurrency"): 50 concurrent aprobarOperacion calls on
// different operaciones of one cliente whose line covers only 10 of them.
// Exactly 10 succeed, 40 fail on lineaDisponible, the line ends at exactly
// 0 and there are 10 APROBADA events.
func TestAprobarConcurrenteLineaParaDiez(t *testing.T) {
	db := testkit.Postgres(t)
	env := testkit.NewEnv(t, db)
	const n, cubre = 50, 10
	c := env.MustCrearClienteActivo(t, "100000.00")
	ops := make([]*ent.Operacion, n)
	for i := range ops {
		ops[i], _ = env.MustOperacionPendiente(t, c.ID, "10000.00")
	}

	start := time.Now()
	errs := testkit.Race(n, func(i int) error {
		_, err := env.Svc.Operaciones.Aprobar(ctx, ops[i].ID)
		return err
	})
	elapsed := time.Since(start)

	tally := testkit.Tally(errs)
	t.Logf("50 aprobarOperacion concurrentes (línea para 10): %v en %v, reintentos %d", tally, elapsed.Round(time.Millisecond), db.Retries())
	require.Equal(t, map[string]int{"OK": cubre, string(apperror.Validation): n - cubre}, tally, "errors: %v", errs)
	for _, err := range errs {
		if err != nil {
			testkit.RequireCode(t, err, apperror.Validation, "lineaDisponible")
		}
	}
	env.RequireLinea(t, c.ID, "100000.00", "0.00")
	aprobadas, err := db.Client.OperacionEvento.Query().Where(operacionevento.TipoEQ(estado.EventoAprobada)).Count(ctx)
	require.NoError(t, err)
	assert.Equal(t, cubre, aprobadas)
	pendientes, err := db.Client.Operacion.Query().Where(operacion.EstadoEQ(estado.OperacionPendiente)).Count(ctx)
	require.NoError(t, err)
	assert.Equal(t, n-cubre, pendientes)
	r := testkit.RequireVerificado(t, db)
	t.Logf("verificar: %d clientes, %d facturas, %d operaciones, %d eventos, 0 violaciones", r.Clientes, r.Facturas, r.Operaciones, r.Eventos)
}

// TestCrearConcurrenteMismaFactura ensures that operaciones racing for one
// invoice cannot both hold it: exactly one wins, the others are refused on
// facturaIds, and the losers' other invoices stay DISPONIBLE.
func TestCrearConcurrenteMismaFactura(t *testing.T) {
	db := testkit.Postgres(t)
	env := testkit.NewEnv(t, db)
	const n, rounds = 12, 5
	c := env.MustCrearClienteActivo(t, "100000000.00")
	start := time.Now()
	total := map[string]int{}
	for range rounds {
		disputada := env.MustRegistrarFactura(t, c.ID, "1000.00", testkit.Vence(30))
		_, propias := env.MustRegistrarFacturas(t, c.ID, repeat("500.00", n)...)
		created := make([]*ent.Operacion, n)
		errs := testkit.Race(n, func(i int) error {
			var err error
			created[i], err = env.Svc.Operaciones.Crear(ctx, operaciones.CrearInput{
				ClienteID: c.ID, FacturaIDs: []int{propias[i], disputada.ID},
			})
			return err
		})
		tally := testkit.Tally(errs)
		require.Equal(t, map[string]int{"OK": 1, string(apperror.Validation): n - 1}, tally, "errors: %v", errs)
		for i, err := range errs {
			if err == nil {
				env.RequireEstadoFacturas(t, estado.FacturaEnProceso, propias[i], disputada.ID)
				holders, err := db.Client.Factura.QueryOperaciones(disputada).IDs(ctx)
				require.NoError(t, err)
				assert.Equal(t, []int{created[i].ID}, holders, "held by the winner only")
				continue
			}
			requireLista(t, err, "facturaIds", []int{disputada.ID}, []int{propias[i]})
			env.RequireEstadoFacturas(t, estado.FacturaDisponible, propias[i])
		}
		for k, v := range tally {
			total[k] += v
		}
	}
	r := testkit.RequireVerificado(t, db)
	t.Logf("%d crearOperacion concurrentes sobre una factura, %d rondas: %v en %v, reintentos %d; verificar: %d operaciones, 0 violaciones",
		n, rounds, total, time.Since(start).Round(time.Millisecond), db.Retries(), r.Operaciones)
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// TestAprobarContraRechazarConcurrente ensures that approving and
// rejecting one operación at the same instant serialize: exactly one wins
// each round, the other is a CONFLICT, and the invoices and the line follow
// the winner.
func TestAprobarContraRechazarConcurrente(t *testing.T) {
	db := testkit.Postgres(t)
	env := testkit.NewEnv(t, db)
	const rounds = 20
	c := env.MustCrearClienteActivo(t, "100000000.00")
	start := time.Now()
	wins := map[string]int{}
	for range rounds {
		op, ids := env.MustOperacionPendiente(t, c.ID, "1000.00", "500.00")
		lineaAntes := env.Cliente(t, c.ID).LineaDisponible
		errs := testkit.Race(2, func(i int) error {
			var err error
			if i == 0 {
				_, err = env.Svc.Operaciones.Aprobar(ctx, op.ID)
			} else {
				_, err = env.Svc.Operaciones.Rechazar(ctx, op.ID, "Carrera")
			}
			return err
		})
		require.Equal(t, map[string]int{"OK": 1, string(apperror.Conflict): 1}, testkit.Tally(errs), "errors: %v", errs)
		linea := env.Cliente(t, c.ID).LineaDisponible
		if errs[0] == nil {
			wins["aprobar"]++
			assert.Equal(t, estado.OperacionAprobada, env.Operacion(t, op.ID).Estado)
			env.RequireEstadoFacturas(t, estado.FacturaCedida, ids...)
			assert.Equal(t, lineaAntes.Sub(testkit.Dec("1500.00")).StringFixed(2), linea.StringFixed(2))
			assert.Contains(t, errs[1].Error(), "estado APROBADA")
		} else {
			wins["rechazar"]++
			assert.Equal(t, estado.OperacionRechazada, env.Operacion(t, op.ID).Estado)
			env.RequireEstadoFacturas(t, estado.FacturaDisponible, ids...)
			assert.True(t, lineaAntes.Equal(linea), "the line is untouched")
			assert.Contains(t, errs[0].Error(), "estado RECHAZADA")
		}
		assert.Len(t, env.Eventos(t, op.ID), 2, "one event for the one state change")
	}
	testkit.RequireVerificado(t, db)
	t.Logf("aprobar contra rechazar: %d rondas en %v: %v, reintentos %d", rounds, time.Since(start).Round(time.Millisecond), wins, db.Retries())
}

// TestPlazoVencidoAMitadDeTransaccion ensures that a request whose context
// deadline passes while its transaction runs fails and rolls everything
// back.
func TestPlazoVencidoAMitadDeTransaccion(t *testing.T) {
	db := testkit.Postgres(t)
	env := testkit.NewEnv(t, db)
	c := env.MustCrearClienteActivo(t, "1000000.00")

	t.Run("bloqueada_esperando_una_fila", func(t *testing.T) {
		// Another connection holds a factura's row lock, so crearOperacion
		// (which has already locked the cliente) waits on it until its
		// deadline passes.
		_, ids := env.MustRegistrarFacturas(t, c.ID, "1000.00", "2000.00")
		other, err := db.SQL.BeginTx(ctx, nil)
		require.NoError(t, err)
		defer other.Rollback()
		_, err = other.ExecContext(ctx, "SELECT id FROM facturas WHERE id = $1 FOR UPDATE", ids[1])
		require.NoError(t, err)
		before := env.Snapshot(t)

		short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err = env.Svc.Operaciones.Crear(short, operaciones.CrearInput{ClienteID: c.ID, FacturaIDs: ids})
		elapsed := time.Since(start)
		require.Error(t, err)
		assert.ErrorIs(t, short.Err(), context.DeadlineExceeded)
		assert.NotEqual(t, apperror.Validation, apperror.CodeOf(err))
		assert.Less(t, elapsed, 3*time.Second, "the deadline interrupts the wait")

		require.NoError(t, other.Rollback())
		assert.Equal(t, before, env.Snapshot(t), "nothing changed")

		// The cliente's lock went with the rolled-back transaction.
		quick, cancel2 := context.WithTimeout(ctx, 5*time.Second)
		defer cancel2()
		op, err := env.Svc.Operaciones.Crear(quick, operaciones.CrearInput{ClienteID: c.ID, FacturaIDs: ids})
		require.NoError(t, err)
		assert.Equal(t, estado.OperacionPendiente, op.Estado)
	})

	t.Run("vence_despues_de_escribir", func(t *testing.T) {
		// The deadline passes after aprobarOperacion has taken the line and
		// ceded the invoices, just before the event is written.
		var armed atomic.Bool
		db.Client.OperacionEvento.Use(func(next ent.Mutator) ent.Mutator {
			return hook.OperacionEventoFunc(func(ctx context.Context, m *ent.OperacionEventoMutation) (ent.Value, error) {
				if armed.Load() {
					<-ctx.Done()
				}
				return next.Mutate(ctx, m)
			})
		})
		op, ids := env.MustOperacionPendiente(t, c.ID, "3000.00")
		before := env.Snapshot(t)
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		armed.Store(true)
		_, err := env.Svc.Operaciones.Aprobar(short, op.ID)
		armed.Store(false)
		require.Error(t, err)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, before, env.Snapshot(t), "nothing changed")
		env.RequireEstadoFacturas(t, estado.FacturaEnProceso, ids...)

		_, err = env.Svc.Operaciones.Aprobar(ctx, op.ID)
		require.NoError(t, err)
	})
	testkit.RequireVerificado(t, db)
}
