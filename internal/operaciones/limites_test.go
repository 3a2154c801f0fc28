package operaciones_test

// The risk rules of approval (docs/dominio.md, "Limits checked at
// approval", "Acceptance of the invoice"): each deudor's line across every
// cliente, the cliente's cap on one deudor, blocked deudores and the acuse.

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/operaciones"
	"github.com/banpro/factoring/internal/testkit"
)

// conLinea gives the deudor of rut (seen through a factura of a new
// cliente) a lineaExposicion, and returns it.
func conLinea(t *testing.T, env *testkit.Env, rut, linea string) *ent.Deudor {
	t.Helper()
	c := env.MustCrearClienteActivo(t, "1000.00")
	d := env.DeudorDe(t, env.MustRegistrarFacturaDe(t, c.ID, rut, "1.00").ID)
	d, err := env.Svc.Deudores.FijarLineaExposicion(ctx, d.ID, testkit.Ptr(testkit.Dec(linea)))
	require.NoError(t, err)
	return d
}

// aprobar approves op and returns the refusal, if any; on a refusal it
// checks that nothing changed.
func aprobar(t *testing.T, env *testkit.Env, op *ent.Operacion) error {
	t.Helper()
	before := env.Snapshot(t)
	_, err := env.Svc.Operaciones.Aprobar(ctx, op.ID)
	if err != nil {
		assert.Equal(t, before, env.Snapshot(t), "a refused approval changes nothing")
	}
	return err
}

// TestLineaExposicionEnElLimite: a deudor's exposure across every cliente
// plus its facturas in the operación may reach its line and not pass it by
// a cent; the refusal names the deudor's RUT, its line and the excess.
func TestLineaExposicionEnElLimite(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		rut := testkit.NewRUT()
		d := conLinea(t, env, rut, "1000000.00")
		a, b := env.MustCrearClienteActivo(t, "10000000.00"), env.MustCrearClienteActivo(t, "10000000.00")
		previa, _ := env.MustOperacionPendienteDe(t, a.ID, rut, "600000.00")
		require.NoError(t, aprobar(t, env, previa))
		require.Equal(t, "600000.00", env.Exposicion(t, d.ID))

		sobre, _ := env.MustOperacionPendienteDe(t, b.ID, rut, "400000.00", "0.01")
		e := testkit.RequireCode(t, aprobar(t, env, sobre), apperror.Validation, "lineaExposicion")
		msg := e.Fields["lineaExposicion"]
		for _, want := range []string{d.Rut, d.RazonSocial, "línea de exposición 1000000.00", "exposición 600000.00 + 400000.01", "= 1000000.01", "exceso 0.01"} {
			assert.Contains(t, msg, want)
		}
		_, err := env.Svc.Operaciones.Rechazar(ctx, sobre.ID, "Sobre la línea del deudor")
		require.NoError(t, err)

		justa, pagables := env.MustOperacionPendienteDe(t, b.ID, rut, "400000.00")
		require.NoError(t, aprobar(t, env, justa), "equal to the line passes")
		assert.Equal(t, "1000000.00", env.Exposicion(t, d.ID))

		// Nothing more, not a cent, until the exposure falls: a payment
		// of the deudor takes its factura off the risk.
		otra, _ := env.MustOperacionPendienteDe(t, a.ID, rut, "0.01")
		testkit.RequireCode(t, aprobar(t, env, otra), apperror.Validation, "lineaExposicion")
		env.MustPagarTodas(t, pagables...)
		assert.Equal(t, "600000.00", env.Exposicion(t, d.ID))
		require.NoError(t, aprobar(t, env, otra))

		// Without a line, anything goes (the default).
		_, err = env.Svc.Deudores.FijarLineaExposicion(ctx, d.ID, nil)
		require.NoError(t, err)
		grande, _ := env.MustOperacionPendienteDe(t, a.ID, rut, "5000000.00")
		require.NoError(t, aprobar(t, env, grande))
		testkit.RequireVerificado(t, db)
	})
}

// TestLineaExposicionVariosDeudores: one operación over facturas of several
// deudores checks each deudor's line against its own facturas there, and
// the refusal lists every deudor over its line, and only those.
func TestLineaExposicionVariosDeudores(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		rutJusto, rutCentavo, rutCinco, rutLibre := testkit.NewRUT(), testkit.NewRUT(), testkit.NewRUT(), testkit.NewRUT()
		conLinea(t, env, rutJusto, "300000.00")
		centavo := conLinea(t, env, rutCentavo, "200000.00")
		cinco := conLinea(t, env, rutCinco, "100000.00")
		c := env.MustCrearClienteActivo(t, "10000000.00")
		facturas := func(montos map[string][]string) []int {
			var ids []int
			for rut, ms := range montos {
				for _, m := range ms {
					ids = append(ids, env.MustRegistrarFacturaDe(t, c.ID, rut, m).ID)
				}
			}
			return ids
		}

		op := env.MustCrearOperacion(t, c.ID, facturas(map[string][]string{
			rutJusto:   {"100000.00", "200000.00"}, // 300000.00: its line, exactly
			rutCentavo: {"200000.01"},
			rutCinco:   {"50000.00", "55000.00"},
			rutLibre:   {"9000000.00"}, // no line
		})...)
		e := testkit.RequireCode(t, aprobar(t, env, op), apperror.Validation, "lineaExposicion")
		msg := e.Fields["lineaExposicion"]
		assert.Contains(t, msg, centavo.Rut+" ("+centavo.RazonSocial+"): línea de exposición 200000.00, exposición 0.00 + 200000.01 de esta operación = 200000.01, exceso 0.01")
		assert.Contains(t, msg, cinco.Rut+" ("+cinco.RazonSocial+"): línea de exposición 100000.00, exposición 0.00 + 105000.00 de esta operación = 105000.00, exceso 5000.00")
		assert.NotContains(t, msg, rutJusto, "a deudor at its line exactly is not over it")
		assert.NotContains(t, msg, rutLibre)
		_, err := env.Svc.Operaciones.Rechazar(ctx, op.ID, "Sobre las líneas")
		require.NoError(t, err)

		op = env.MustCrearOperacion(t, c.ID, facturas(map[string][]string{
			rutJusto:   {"150000.00", "150000.00"},
			rutCentavo: {"200000.00"},
			rutCinco:   {"100000.00"},
			rutLibre:   {"9000000.00"},
		})...)
		require.NoError(t, aprobar(t, env, op), "every deudor at its line exactly")
		testkit.RequireVerificado(t, db)
	})
}

// TestConcentracionEnElLimite: the cliente's exposure to one deudor after
// the approval may reach concentracionMaxima × lineaCredito and not pass it
// by a cent; other clientes' exposure to the deudor does not count; the
// refusal names the deudor's RUT, the cap and the excess.
func TestConcentracionEnElLimite(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		c := env.MustCrearClienteActivo(t, "1000000.00")
		c, err := env.Svc.Clientes.FijarConcentracionMaxima(ctx, c.ID, testkit.Dec("30.00")) // 300000.00 per deudor
		require.NoError(t, err)
		uno, dos := testkit.NewRUT(), testkit.NewRUT()
		otro := env.MustCrearClienteActivo(t, "10000000.00")
		ajena, _ := env.MustOperacionPendienteDe(t, otro.ID, uno, "5000000.00")
		require.NoError(t, aprobar(t, env, ajena), "another cliente's exposure to the deudor")

		previa, _ := env.MustOperacionPendienteDe(t, c.ID, uno, "100000.00")
		require.NoError(t, aprobar(t, env, previa))
		sobre, _ := env.MustOperacionPendienteDe(t, c.ID, uno, "200000.01")
		e := testkit.RequireCode(t, aprobar(t, env, sobre), apperror.Validation, "concentracionMaxima")
		msg := e.Fields["concentracionMaxima"]
		for _, want := range []string{"30.00 % de su línea de crédito 1000000.00 = 300000.00 por deudor", uno,
			"exposición del cliente 100000.00 + 200000.01 de esta operación = 300000.01, exceso 0.01"} {
			assert.Contains(t, msg, want)
		}
		_, err = env.Svc.Operaciones.Rechazar(ctx, sobre.ID, "Concentración")
		require.NoError(t, err)
		justa, _ := env.MustOperacionPendienteDe(t, c.ID, uno, "200000.00")
		require.NoError(t, aprobar(t, env, justa), "equal to the cap passes")

		// Several deudores in one operación: each against the cap; only
		// the one over it is named.
		ids := []int{
			env.MustRegistrarFacturaDe(t, c.ID, dos, "300000.00").ID,
			env.MustRegistrarFacturaDe(t, c.ID, uno, "0.01").ID,
		}
		varios := env.MustCrearOperacion(t, c.ID, ids...)
		e = testkit.RequireCode(t, aprobar(t, env, varios), apperror.Validation, "concentracionMaxima")
		assert.Contains(t, e.Fields["concentracionMaxima"], uno+" (")
		assert.NotContains(t, e.Fields["concentracionMaxima"], dos)
		_, err = env.Svc.Operaciones.Rechazar(ctx, varios.ID, "Concentración")
		require.NoError(t, err)
		soloDos := env.MustCrearOperacion(t, c.ID, ids[0])
		require.NoError(t, aprobar(t, env, soloDos), "the other deudor up to the cap")

		// 100.00 is no cap: the credit line is then the only bound.
		_, err = env.Svc.Clientes.FijarConcentracionMaxima(ctx, c.ID, testkit.Dec("100"))
		require.NoError(t, err)
		libre, _ := env.MustOperacionPendienteDe(t, c.ID, uno, "100000.00")
		require.NoError(t, aprobar(t, env, libre))
		testkit.RequireVerificado(t, db)
	})
}

// TestConcentracionConfigurada: a cliente nobody set a cap for has the
// configured one (FACTORING_CONCENTRACION_MAXIMA); its own replaces it.
func TestConcentracionConfigurada(t *testing.T) {
	db := testkit.SQLite(t)
	env := testkit.NewEnv(t, db)
	svc := operaciones.NewService(db, operaciones.Config{Clock: env.Clock, TimeZone: testkit.Santiago,
		TasaDescuento: testkit.Dec("2.00"), ConcentracionMaxima: testkit.Dec("25.00")})
	c := env.MustCrearClienteActivo(t, "1000000.00")
	rut := testkit.NewRUT()
	op, _ := env.MustOperacionPendienteDe(t, c.ID, rut, "250000.01")
	_, err := svc.Aprobar(ctx, op.ID)
	e := testkit.RequireCode(t, err, apperror.Validation, "concentracionMaxima")
	assert.Contains(t, e.Fields["concentracionMaxima"], "25.00 % de su línea de crédito 1000000.00 = 250000.00 por deudor")

	_, err = env.Svc.Clientes.FijarConcentracionMaxima(ctx, c.ID, testkit.Dec("25.01"))
	require.NoError(t, err)
	_, err = svc.Aprobar(ctx, op.ID)
	require.NoError(t, err)
	testkit.RequireVerificado(t, db)
}

// TestDeudorBloqueado: a BLOQUEADO deudor's facturas cannot join an
// operación, and an operación created before the block cannot be approved
// until the deudor is active again.
func TestDeudorBloqueado(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		c := env.MustCrearClienteActivo(t, "10000000.00")
		rut := testkit.NewRUT()
		op, ids := env.MustOperacionPendienteDe(t, c.ID, rut, "1000.00")
		otra := env.MustRegistrarFactura(t, c.ID, "500.00", testkit.Vence(30))
		d := env.DeudorDe(t, ids[0])
		_, err := env.Svc.Deudores.Bloquear(ctx, d.ID, "Quiebra")
		require.NoError(t, err)

		e := testkit.RequireCode(t, aprobar(t, env, op), apperror.Validation, "facturas")
		assert.Contains(t, e.Fields["facturas"], gid.Encode(ids[0])+" (deudor "+d.Rut+" BLOQUEADO)")

		libre := env.MustRegistrarFacturaDe(t, c.ID, rut, "700.00")
		_, err = env.Svc.Operaciones.Crear(ctx, operaciones.CrearInput{ClienteID: c.ID, FacturaIDs: []int{otra.ID, libre.ID}})
		e = testkit.RequireCode(t, err, apperror.Validation, "facturaIds")
		assert.Contains(t, e.Fields["facturaIds"], gid.Encode(libre.ID)+" (deudor "+d.Rut+" BLOQUEADO)")
		assert.NotContains(t, e.Fields["facturaIds"], gid.Encode(otra.ID))

		_, err = env.Svc.Deudores.Activar(ctx, d.ID)
		require.NoError(t, err)
		require.NoError(t, aprobar(t, env, op))
		env.MustCrearOperacion(t, c.ID, otra.ID, libre.ID)
		testkit.RequireVerificado(t, db)
	})
}

// TestAcuse: a RECLAMADA factura is never cedible; with
// FACTORING_EXIGIR_ACUSE a factura is cedible once ACEPTADA or after 8
// días corridos from its reception without a claim (7 are not enough);
// a claim after an acceptance, or after those 8 days, is a CONFLICT.
func TestAcuse(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		exigente := operaciones.NewService(db, operaciones.Config{Clock: env.Clock, TimeZone: testkit.Santiago,
			TasaDescuento: testkit.Dec("2.00"), ExigirAcuse: true})
		c := env.MustCrearClienteActivo(t, "10000000.00")
		hoy := testkit.HoyFecha
		recibida := func(dias int) *ent.Factura {
			t.Helper()
			in := testkit.FacturaInput(c.ID, "1000.00", testkit.Vence(60))
			in.FechaEmision = hoy.AddDate(0, 0, -30)
			r := hoy.AddDate(0, 0, -dias)
			in.FechaRecepcion = &r
			f, err := env.Svc.Facturas.Registrar(ctx, in)
			require.NoError(t, err)
			return f
		}
		crear := func(svc *operaciones.Service, fs ...*ent.Factura) (*ent.Operacion, error) {
			ids := make([]int, len(fs))
			for i, f := range fs {
				ids[i] = f.ID
			}
			return svc.Crear(ctx, operaciones.CrearInput{ClienteID: c.ID, FacturaIDs: ids})
		}

		t.Run("por_fecha", func(t *testing.T) {
			siete, ocho := recibida(7), recibida(8)
			assert.Equal(t, estado.AcusePendiente, siete.EstadoAcuse)
			_, err := crear(exigente, siete, ocho)
			e := testkit.RequireCode(t, err, apperror.Validation, "facturaIds")
			assert.Contains(t, e.Fields["facturaIds"], gid.Encode(siete.ID)+" (sin acuse de recibo: aceptada tácitamente el "+
				hoy.AddDate(0, 0, 1).Format(time.DateOnly))
			assert.NotContains(t, e.Fields["facturaIds"], gid.Encode(ocho.ID), "8 días corridos: tacitly accepted")
			_, err = crear(exigente, ocho)
			require.NoError(t, err)

			// The 7-day one: pending on the day, accepted the day after.
			env.Clock.Advance(24 * time.Hour)
			op, err := crear(exigente, siete)
			require.NoError(t, err)
			_, err = exigente.Aprobar(ctx, op.ID)
			require.NoError(t, err)
			env.Clock.Set(testkit.Hoy)
		})

		t.Run("aceptada_se_cede_el_mismo_dia", func(t *testing.T) {
			f := recibida(0)
			_, err := crear(exigente, f)
			testkit.RequireCode(t, err, apperror.Validation, "facturaIds")
			f, err = env.Svc.Facturas.RegistrarAcuse(ctx, f.ID, estado.AcuseAceptada, nil)
			require.NoError(t, err)
			assert.Equal(t, estado.AcuseAceptada, f.EstadoAcuse)
			_, err = crear(exigente, f)
			require.NoError(t, err)
		})

		t.Run("sin_exigir_se_cede_pendiente", func(t *testing.T) {
			_, err := crear(env.Svc.Operaciones, recibida(0))
			require.NoError(t, err, "the default keeps the original flow")
		})

		t.Run("reclamada_nunca", func(t *testing.T) {
			f := recibida(7)
			f, err := env.Svc.Facturas.RegistrarAcuse(ctx, f.ID, estado.AcuseReclamada, testkit.Ptr("Mercadería dañada"))
			require.NoError(t, err)
			assert.Equal(t, "Mercadería dañada", *f.MotivoAcuse)
			for _, svc := range []*operaciones.Service{env.Svc.Operaciones, exigente} {
				_, err = crear(svc, f)
				e := testkit.RequireCode(t, err, apperror.Validation, "facturaIds")
				assert.Contains(t, e.Fields["facturaIds"], gid.Encode(f.ID)+" (RECLAMADA por el deudor)")
			}
			// Claimed while an operación holds it: not approved.
			g := recibida(0)
			op, err := crear(env.Svc.Operaciones, g)
			require.NoError(t, err)
			_, err = env.Svc.Facturas.RegistrarAcuse(ctx, g.ID, estado.AcuseReclamada, testkit.Ptr("No corresponde"))
			require.NoError(t, err)
			e := testkit.RequireCode(t, aprobar(t, env, op), apperror.Validation, "facturas")
			assert.Contains(t, e.Fields["facturas"], gid.Encode(g.ID)+" (RECLAMADA por el deudor)")
		})

		t.Run("reclamo_tras_aceptacion", func(t *testing.T) {
			f := recibida(0)
			_, err := env.Svc.Facturas.RegistrarAcuse(ctx, f.ID, estado.AcuseAceptada, testkit.Ptr("Conforme"))
			require.NoError(t, err)
			before := env.Snapshot(t)
			_, err = env.Svc.Facturas.RegistrarAcuse(ctx, f.ID, estado.AcuseReclamada, testkit.Ptr("Tarde"))
			e := testkit.RequireCode(t, err, apperror.Conflict)
			assert.Contains(t, e.Message, "estado ACEPTADA")
			_, err = env.Svc.Facturas.RegistrarAcuse(ctx, f.ID, estado.AcuseAceptada, nil)
			testkit.RequireCode(t, err, apperror.Conflict)
			assert.Equal(t, before, env.Snapshot(t))
		})

		t.Run("reclamo_tras_8_dias", func(t *testing.T) {
			ocho, siete := recibida(8), recibida(7)
			_, err := env.Svc.Facturas.RegistrarAcuse(ctx, ocho.ID, estado.AcuseReclamada, testkit.Ptr("Tarde"))
			e := testkit.RequireCode(t, err, apperror.Conflict)
			assert.Contains(t, e.Message, "aceptada tácitamente el "+hoy.Format(time.DateOnly))
			_, err = env.Svc.Facturas.RegistrarAcuse(ctx, siete.ID, estado.AcuseReclamada, testkit.Ptr("A tiempo"))
			require.NoError(t, err, "on the 7th day a claim is in time")
		})

		t.Run("entradas_invalidas", func(t *testing.T) {
			f := recibida(0)
			_, err := env.Svc.Facturas.RegistrarAcuse(ctx, f.ID, estado.AcusePendiente, nil)
			testkit.RequireCode(t, err, apperror.Validation, "estado")
			_, err = env.Svc.Facturas.RegistrarAcuse(ctx, f.ID, estado.AcuseReclamada, nil)
			testkit.RequireCode(t, err, apperror.Validation, "motivo")
			_, err = env.Svc.Facturas.RegistrarAcuse(ctx, f.ID, estado.AcuseReclamada, testkit.Ptr("  "))
			testkit.RequireCode(t, err, apperror.Validation, "motivo")
			_, err = env.Svc.Facturas.RegistrarAcuse(ctx, 1<<32+999_999, estado.AcuseAceptada, nil)
			testkit.RequireCode(t, err, apperror.NotFound)
		})
		testkit.RequireVerificado(t, db)
	})
}
