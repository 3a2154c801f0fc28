package deudores_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/deudor"
	"github.com/banpro/factoring/ent/eventoauditoria"
	"github.com/banpro/factoring/ent/outboxevento"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/deudores"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/requestid"
	"github.com/banpro/factoring/internal/testkit"
)

const missingDeudor = 68<<32 + 999_999

// TestRegistrarFacturaCreaElDeudor ensures that the first factura that
// names a RUT creates its deudor (ACTIVO, no limit, named as the factura
// names it) with its own audit entry and event, in the factura's request;
// and that every later factura of the RUT, in any spelling and from any
// cliente, is linked to that deudor without changing it.
func TestRegistrarFacturaCreaElDeudor(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		ctx := requestid.NewContext(context.Background(), "req-primera")
		a, b := env.MustCrearClienteActivo(t, "1000000.00"), env.MustCrearClienteActivo(t, "1000000.00")

		in := testkit.FacturaInputDe(a.ID, "76543210-3", "100000.00", testkit.Vence(30))
		in.RazonSocialDeudor = "Deudor Uno SpA"
		f1, err := env.Svc.Facturas.Registrar(ctx, in)
		require.NoError(t, err)
		d := env.DeudorDe(t, f1.ID)
		assert.Equal(t, "76.543.210-3", d.Rut, "canonical")
		assert.Equal(t, "Deudor Uno SpA", d.RazonSocial)
		assert.Equal(t, estado.DeudorActivo, d.Estado)
		assert.Nil(t, d.LineaExposicion, "no limit")
		assert.Equal(t, "0.00", env.Exposicion(t, d.ID))

		entradas, err := db.Client.EventoAuditoria.Query().Where(eventoauditoria.RequestID("req-primera")).
			Order(ent.Asc(eventoauditoria.FieldID)).All(context.Background())
		require.NoError(t, err)
		require.Len(t, entradas, 2)
		assert.Equal(t, estado.AudDeudorCreado, entradas[0].Tipo, "the deudor first")
		assert.Equal(t, estado.EntidadDeudor, entradas[0].Entidad)
		assert.Equal(t, &d.ID, entradas[0].DeudorID)
		assert.Equal(t, "ACTIVO", *entradas[0].EstadoNuevo)
		assert.Equal(t, estado.AudFacturaRegistrada, entradas[1].Tipo)
		evs, err := db.Client.OutboxEvento.Query().Where(outboxevento.RequestID("req-primera")).
			Order(ent.Asc(outboxevento.FieldID)).All(context.Background())
		require.NoError(t, err)
		require.Len(t, evs, 2)
		assert.Equal(t, "deudor.creado", evs[0].Tipo)
		assert.Equal(t, gid.Encode(d.ID), evs[0].Sujeto)
		assert.Equal(t, "factura.registrada", evs[1].Tipo)

		// The same RUT, spelled otherwise, from another cliente, with
		// another razón social: the same deudor, unchanged.
		in = testkit.FacturaInputDe(b.ID, " 76.543.210-3 ", "50000.00", testkit.Vence(30))
		in.RazonSocialDeudor = "DEUDOR UNO S.P.A."
		f2, err := env.Svc.Facturas.Registrar(env.Ctx, in)
		require.NoError(t, err)
		assert.Equal(t, d.ID, f2.DeudorID)
		assert.Equal(t, "DEUDOR UNO S.P.A.", f2.RazonSocialDeudor, "the factura keeps what it says")
		assert.Equal(t, "Deudor Uno SpA", env.Deudor(t, d.ID).RazonSocial)
		n, err := db.Client.Deudor.Query().Count(context.Background())
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		testkit.RequireVerificado(t, db)
	})
}

// TestPrimeraVistaConcurrente ensures that clientes registering at once the
// first facturas of one new RUT make one deudor between them: the losers of
// the race run again and find it.
func TestPrimeraVistaConcurrente(t *testing.T) {
	db := testkit.Postgres(t)
	env := testkit.NewEnv(t, db)
	const n = 12
	clientes := make([]*ent.Cliente, n)
	for i := range clientes {
		clientes[i] = env.MustCrearClienteActivo(t, "1000000.00")
	}
	rut := testkit.NewRUT()
	errs := testkit.Race(n, func(i int) error {
		_, err := env.Svc.Facturas.Registrar(env.Ctx, testkit.FacturaInputDe(clientes[i].ID, rut, "1000.00", testkit.Vence(30)))
		return err
	})
	assert.Equal(t, map[string]int{"OK": n}, testkit.Tally(errs))
	ds, err := db.Client.Deudor.Query().Where(deudor.Rut(rut)).All(context.Background())
	require.NoError(t, err)
	require.Len(t, ds, 1)
	nf, err := ds[0].QueryFacturas().Count(context.Background())
	require.NoError(t, err)
	assert.Equal(t, n, nf)
	r := testkit.RequireVerificado(t, db)
	assert.Equal(t, 1, r.Deudores)
	t.Logf("%d registrations of a new RUT at once: 1 deudor, %d retries", n, db.Retries())
}

// TestFijarLineaExposicion: a limit of zero or more is set, null removes
// it, a negative one is refused; a limit below the exposure is allowed.
func TestFijarLineaExposicion(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		c := env.MustCrearClienteActivo(t, "10000000.00")
		_, ids := env.MustOperacionAprobada(t, c.ID, "300000.00")
		d := env.DeudorDe(t, ids[0])

		t.Run("bajo_la_exposicion", func(t *testing.T) {
			got, err := env.Svc.Deudores.FijarLineaExposicion(env.Ctx, d.ID, testkit.Ptr(testkit.Dec("100000.00")))
			require.NoError(t, err)
			assert.Equal(t, "100000.00", got.LineaExposicion.StringFixed(2))
			assert.Equal(t, "300000.00", env.Exposicion(t, d.ID), "what is approved stays approved")
		})
		t.Run("cero", func(t *testing.T) {
			got, err := env.Svc.Deudores.FijarLineaExposicion(env.Ctx, d.ID, testkit.Ptr(testkit.Dec("0")))
			require.NoError(t, err)
			assert.True(t, got.LineaExposicion.IsZero())
		})
		t.Run("null_la_quita", func(t *testing.T) {
			got, err := env.Svc.Deudores.FijarLineaExposicion(env.Ctx, d.ID, nil)
			require.NoError(t, err)
			assert.Nil(t, got.LineaExposicion)
		})
		t.Run("negativa", func(t *testing.T) {
			before := env.Snapshot(t)
			_, err := env.Svc.Deudores.FijarLineaExposicion(env.Ctx, d.ID, testkit.Ptr(testkit.Dec("-0.01")))
			testkit.RequireCode(t, err, apperror.Validation, "lineaExposicion")
			assert.Equal(t, before, env.Snapshot(t))
		})
		t.Run("no_existe", func(t *testing.T) {
			_, err := env.Svc.Deudores.FijarLineaExposicion(env.Ctx, missingDeudor, nil)
			testkit.RequireCode(t, err, apperror.NotFound)
		})
		testkit.RequireVerificado(t, db)
	})
}

// TestBloquearYActivar: the deudor's machine, its reason, and what each
// refusal says.
func TestBloquearYActivar(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		d := env.MustCrearDeudor(t)

		_, err := env.Svc.Deudores.Bloquear(env.Ctx, d.ID, "   ")
		testkit.RequireCode(t, err, apperror.Validation, "motivo")
		_, err = env.Svc.Deudores.Activar(env.Ctx, d.ID)
		e := testkit.RequireCode(t, err, apperror.Conflict)
		assert.Contains(t, e.Message, "estado ACTIVO")

		got, err := env.Svc.Deudores.Bloquear(env.Ctx, d.ID, " Quiebra declarada ")
		require.NoError(t, err)
		assert.Equal(t, estado.DeudorBloqueado, got.Estado)
		assert.Equal(t, "Quiebra declarada", *got.MotivoEstado)
		_, err = env.Svc.Deudores.Bloquear(env.Ctx, d.ID, "Otra vez")
		e = testkit.RequireCode(t, err, apperror.Conflict)
		assert.Contains(t, e.Message, "estado BLOQUEADO")

		got, err = env.Svc.Deudores.Activar(env.Ctx, d.ID)
		require.NoError(t, err)
		assert.Equal(t, estado.DeudorActivo, got.Estado)
		assert.Nil(t, got.MotivoEstado, "activation clears the reason")

		_, err = env.Svc.Deudores.Bloquear(env.Ctx, missingDeudor, "x")
		testkit.RequireCode(t, err, apperror.NotFound)
		_, err = env.Svc.Deudores.Activar(env.Ctx, missingDeudor)
		testkit.RequireCode(t, err, apperror.NotFound)
		testkit.RequireVerificado(t, db)
	})
}

// TestActualizar: the razón social changes; an omitted one does not; a
// blank one is refused.
func TestActualizar(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		d := env.MustCrearDeudor(t)
		got, err := env.Svc.Deudores.Actualizar(env.Ctx, d.ID, deudores.ActualizarInput{RazonSocial: testkit.Ptr("  Nuevo Nombre SpA ")})
		require.NoError(t, err)
		assert.Equal(t, "Nuevo Nombre SpA", got.RazonSocial)
		got, err = env.Svc.Deudores.Actualizar(env.Ctx, d.ID, deudores.ActualizarInput{})
		require.NoError(t, err)
		assert.Equal(t, "Nuevo Nombre SpA", got.RazonSocial)
		_, err = env.Svc.Deudores.Actualizar(env.Ctx, d.ID, deudores.ActualizarInput{RazonSocial: testkit.Ptr("")})
		testkit.RequireCode(t, err, apperror.Validation, "razonSocial")
		_, err = env.Svc.Deudores.Actualizar(env.Ctx, missingDeudor, deudores.ActualizarInput{})
		testkit.RequireCode(t, err, apperror.NotFound)
		testkit.RequireVerificado(t, db)
	})
}

// TestExposicion: the money at risk on a deudor, across clientes, is the
// unpaid amount of its facturas held by operaciones APROBADA or
// DESEMBOLSADA; pending, rejected, paid and finalized ones do not count.
func TestExposicion(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		rut := testkit.NewRUT()
		a, b := env.MustCrearClienteActivo(t, "10000000.00"), env.MustCrearClienteActivo(t, "10000000.00")
		d := env.DeudorDe(t, env.MustRegistrarFacturaDe(t, a.ID, rut, "1.00").ID) // DISPONIBLE: 0
		exp := func() string { return env.Exposicion(t, d.ID) }
		require.Equal(t, "0.00", exp())

		pendiente, _ := env.MustOperacionPendienteDe(t, a.ID, rut, "1000.00")
		assert.Equal(t, "0.00", exp(), "a pending operación does not count")
		_, err := env.Svc.Operaciones.Aprobar(env.Ctx, pendiente.ID)
		require.NoError(t, err)
		assert.Equal(t, "1000.00", exp())

		op, ids := env.MustOperacionPendienteDe(t, b.ID, rut, "250.00", "0.50")
		_, err = env.Svc.Operaciones.Aprobar(env.Ctx, op.ID)
		require.NoError(t, err)
		_, err = env.Svc.Operaciones.Desembolsar(env.Ctx, op.ID)
		require.NoError(t, err)
		assert.Equal(t, "1250.50", exp(), "across clientes, APROBADA and DESEMBOLSADA")

		rechazada, _ := env.MustOperacionPendienteDe(t, b.ID, rut, "999.00")
		_, err = env.Svc.Operaciones.Rechazar(env.Ctx, rechazada.ID, "No califica")
		require.NoError(t, err)
		assert.Equal(t, "1250.50", exp(), "a rejected operación does not count")

		env.MustPagarTodas(t, ids[0])
		assert.Equal(t, "1000.50", exp(), "a paid factura is no longer at risk")
		env.MustPagarTodas(t, ids[1])
		_, err = env.Svc.Operaciones.Finalizar(env.Ctx, op.ID)
		require.NoError(t, err)
		assert.Equal(t, "1000.00", exp())

		otro := env.DeudorDe(t, env.MustRegistrarFactura(t, a.ID, "5.00", testkit.Vence(30)).ID)
		all, err := deudores.Exposiciones(context.Background(), db.Client, []int{d.ID, otro.ID, missingDeudor})
		require.NoError(t, err)
		assert.Equal(t, map[int]string{d.ID: "1000.00", otro.ID: "0.00", missingDeudor: "0.00"},
			map[int]string{d.ID: all[d.ID].StringFixed(2), otro.ID: all[otro.ID].StringFixed(2), missingDeudor: all[missingDeudor].StringFixed(2)})
		testkit.RequireVerificado(t, db)
	})
}

// TestExposicionDeMuchosDeudores: an IN list longer than one chunk is split
// and summed the same.
func TestExposicionDeMuchosDeudores(t *testing.T) {
	db := testkit.SQLite(t)
	env := testkit.NewEnv(t, db)
	c := env.MustCrearClienteActivo(t, "10000000.00")
	op, ids := env.MustOperacionPendiente(t, c.ID, "10.00", "20.00")
	_, err := env.Svc.Operaciones.Aprobar(env.Ctx, op.ID)
	require.NoError(t, err)
	want := []int{env.Factura(t, ids[0]).DeudorID, env.Factura(t, ids[1]).DeudorID}
	query := make([]int, 0, 2500)
	for i := range 2500 {
		query = append(query, 68<<32+5_000+i)
	}
	query = append(query, want...)
	got, err := deudores.Exposiciones(context.Background(), db.Client, query)
	require.NoError(t, err)
	assert.Len(t, got, len(query))
	assert.Equal(t, "10.00", got[want[0]].StringFixed(2))
	assert.Equal(t, "20.00", got[want[1]].StringFixed(2), fmt.Sprint(want))
}

// TestExposicionVencidas: a ceded factura that falls due unpaid is still at
// risk; one that fell due without ever being ceded never was.
func TestExposicionVencidas(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		rut := testkit.NewRUT()
		c := env.MustCrearClienteActivo(t, "10000000.00")
		cedida, err := env.Svc.Facturas.Registrar(env.Ctx, testkit.FacturaInputDe(c.ID, rut, "700.00", testkit.Vence(10)))
		require.NoError(t, err)
		libre, err := env.Svc.Facturas.Registrar(env.Ctx, testkit.FacturaInputDe(c.ID, rut, "300.00", testkit.Vence(10)))
		require.NoError(t, err)
		op := env.MustCrearOperacion(t, c.ID, cedida.ID)
		_, err = env.Svc.Operaciones.Aprobar(env.Ctx, op.ID)
		require.NoError(t, err)

		env.Clock.Advance(20 * 24 * time.Hour)
		n, err := env.Svc.Facturas.MarcarVencidas(env.Ctx, testkit.Santiago)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		env.RequireEstadoFacturas(t, estado.FacturaVencida, cedida.ID, libre.ID)
		assert.Equal(t, "700.00", env.Exposicion(t, cedida.DeudorID), "the ceded one only")
		env.MustPagarTodas(t, cedida.ID)
		assert.Equal(t, "0.00", env.Exposicion(t, cedida.DeudorID))
		testkit.RequireVerificado(t, db)
	})
}
