package operaciones_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/eventoauditoria"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/testkit"
)

// TestLineaExposicionConcurrente: 30 approvals at once, each of another
// cliente, whose facturas all owe one deudor with a line that covers 10 of
// them. The deudor's row is locked between the clientes and the
// operaciones, so exactly 10 pass, the other 20 are refused on
// lineaExposicion, the exposure ends exactly at the line, and verificar
// finds nothing.
func TestLineaExposicionConcurrente(t *testing.T) {
	db := testkit.Postgres(t)
	env := testkit.NewEnv(t, db)
	const n, cubre = 30, 10
	rut := testkit.NewRUT()
	d := conLinea(t, env, rut, "1000000.00") // 10 × 100000.00
	ops := make([]*ent.Operacion, n)
	for i := range ops {
		c := env.MustCrearClienteActivo(t, "5000000.00")
		ops[i], _ = env.MustOperacionPendienteDe(t, c.ID, rut, "100000.00")
	}

	start := time.Now()
	errs := testkit.Race(n, func(i int) error {
		_, err := env.Svc.Operaciones.Aprobar(ctx, ops[i].ID)
		return err
	})
	elapsed := time.Since(start)
	tally := testkit.Tally(errs)
	t.Logf("%d aprobarOperacion concurrentes de %d clientes contra un deudor con línea para %d: %v en %v, reintentos %d",
		n, n, cubre, tally, elapsed.Round(time.Millisecond), db.Retries())
	require.Equal(t, map[string]int{"OK": cubre, string(apperror.Validation): n - cubre}, tally, "errors: %v", errs)
	for _, err := range errs {
		if err != nil {
			testkit.RequireCode(t, err, apperror.Validation, "lineaExposicion")
		}
	}
	assert.Equal(t, "1000000.00", env.Exposicion(t, d.ID), "the exposure is exactly what the line allows")
	r := testkit.RequireVerificado(t, db)
	t.Logf("exposición %s = línea %s; verificar: %d clientes, %d deudores, %d operaciones, 0 violaciones",
		env.Exposicion(t, d.ID), env.Deudor(t, d.ID).LineaExposicion.StringFixed(2), r.Clientes, r.Deudores, r.Operaciones)
}

// TestConcentracionConcurrente: 30 approvals at once of one cliente whose
// cap on one deudor covers 10 of them, racing with 10 approvals of other
// clientes on the same deudor (which do not count towards the cap, and
// have no limit to meet). Exactly 10 of the cliente's pass, refused on
// concentracionMaxima otherwise; every other cliente's passes; verificar
// finds nothing.
func TestConcentracionConcurrente(t *testing.T) {
	db := testkit.Postgres(t)
	env := testkit.NewEnv(t, db)
	const n, cubre, ajenas = 30, 10, 10
	rut := testkit.NewRUT()
	c := env.MustCrearClienteActivo(t, "10000000.00")
	_, err := env.Svc.Clientes.FijarConcentracionMaxima(ctx, c.ID, testkit.Dec("10.00")) // 1000000.00 per deudor
	require.NoError(t, err)
	ops := make([]*ent.Operacion, n+ajenas)
	for i := range n {
		ops[i], _ = env.MustOperacionPendienteDe(t, c.ID, rut, "100000.00")
	}
	for i := range ajenas {
		otro := env.MustCrearClienteActivo(t, "10000000.00")
		ops[n+i], _ = env.MustOperacionPendienteDe(t, otro.ID, rut, "100000.00")
	}

	start := time.Now()
	errs := testkit.Race(len(ops), func(i int) error {
		_, err := env.Svc.Operaciones.Aprobar(ctx, ops[i].ID)
		return err
	})
	elapsed := time.Since(start)
	propias, otras := testkit.Tally(errs[:n]), testkit.Tally(errs[n:])
	t.Logf("%d aprobarOperacion concurrentes de un cliente con tope por deudor para %d, y %d de otros clientes sobre el mismo deudor: %v / %v en %v, reintentos %d",
		n, cubre, ajenas, propias, otras, elapsed.Round(time.Millisecond), db.Retries())
	require.Equal(t, map[string]int{"OK": cubre, string(apperror.Validation): n - cubre}, propias, "errors: %v", errs)
	require.Equal(t, map[string]int{"OK": ajenas}, otras)
	for _, err := range errs[:n] {
		if err != nil {
			testkit.RequireCode(t, err, apperror.Validation, "concentracionMaxima")
		}
	}
	d := env.DeudorDe(t, ops[0].QueryFacturas().OnlyX(ctx).ID)
	assert.Equal(t, "2000000.00", env.Exposicion(t, d.ID), "10 of the cliente's and the 10 others'")
	env.RequireLinea(t, c.ID, "10000000.00", "9000000.00")
	testkit.RequireVerificado(t, db)
}

// TestBloqueoConcurrenteConAprobaciones: a deudor blocked while 20
// approvals of its facturas race. Blocking locks the deudor's row as each
// approval does, so they serialize: every approval that passed committed
// before the block (its entry comes first in the trail), every one after
// it was refused on facturas.
func TestBloqueoConcurrenteConAprobaciones(t *testing.T) {
	db := testkit.Postgres(t)
	env := testkit.NewEnv(t, db)
	const n = 20
	rut := testkit.NewRUT()
	ops := make([]*ent.Operacion, n)
	for i := range ops {
		c := env.MustCrearClienteActivo(t, "5000000.00")
		ops[i], _ = env.MustOperacionPendienteDe(t, c.ID, rut, "1000.00")
	}
	d := env.DeudorDe(t, ops[0].QueryFacturas().OnlyX(ctx).ID)

	errs := testkit.Race(n+1, func(i int) error {
		if i == n/2 {
			_, err := env.Svc.Deudores.Bloquear(ctx, d.ID, "Quiebra")
			return err
		}
		if i > n/2 {
			i--
		}
		_, err := env.Svc.Operaciones.Aprobar(ctx, ops[i].ID)
		return err
	})
	require.NoError(t, errs[n/2], "the block")
	tally := testkit.Tally(append(errs[:n/2:n/2], errs[n/2+1:]...))
	t.Logf("%d aprobaciones concurrentes con un bloqueo del deudor: %v, reintentos %d", n, tally, db.Retries())
	assert.Equal(t, n, tally["OK"]+tally[string(apperror.Validation)], "%v", tally)

	bloqueo, err := db.Client.EventoAuditoria.Query().
		Where(eventoauditoria.DeudorID(d.ID), eventoauditoria.TipoEQ(estado.AudDeudorBloqueado)).Only(ctx)
	require.NoError(t, err)
	aprobadas, err := db.Client.EventoAuditoria.Query().Where(eventoauditoria.TipoEQ(estado.AudOperacionAprobada)).All(ctx)
	require.NoError(t, err)
	assert.Len(t, aprobadas, tally["OK"])
	for _, e := range aprobadas {
		assert.Less(t, e.ID, bloqueo.ID, "an approval of a blocked deudor's factura committed after the block")
	}
	for _, err := range errs {
		if err != nil {
			testkit.RequireCode(t, err, apperror.Validation, "facturas")
		}
	}
	testkit.RequireVerificado(t, db)
}
