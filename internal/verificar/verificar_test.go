package verificar_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/testkit"
	"github.com/banpro/factoring/internal/verificar"
)

var ctx = context.Background()

// found runs verificar and returns its violations as "invariante:entidad".
func found(t *testing.T, db *database.DB) []string {
	t.Helper()
	r, err := verificar.Run(ctx, db.Client)
	require.NoError(t, err)
	out := make([]string, len(r.Violations))
	for i, v := range r.Violations {
		out[i] = fmt.Sprintf("%d:%s", v.Invariante, v.Entidad)
		t.Logf("%s", v)
	}
	return out
}

func v(inv, id int) string { return fmt.Sprintf("%d:%s", inv, gid.Encode(id)) }

// TestCicloLimpio ensures that data made only through the services, with
// operaciones in every state, has no violation, and that the report counts
// what it read.
func TestCicloLimpio(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		r := testkit.RequireVerificado(t, db)
		assert.Equal(t, verificar.Report{}, r, "an empty database is clean")

		c := env.MustCrearClienteActivo(t, "10000000.00")
		env.MustOperacionPendiente(t, c.ID, "1000.00", "2000.00")
		env.MustOperacionAprobada(t, c.ID, "300000.00")
		env.MustOperacionDesembolsada(t, c.ID, "400000.00", "5.55")
		rech, _ := env.MustOperacionPendiente(t, c.ID, "700.00")
		_, err := env.Svc.Operaciones.Rechazar(ctx, rech.ID, "No califica")
		require.NoError(t, err)
		fin, ids := env.MustOperacionDesembolsada(t, c.ID, "9999.99")
		env.MustPagarTodas(t, ids...)
		_, err = env.Svc.Operaciones.Finalizar(ctx, fin.ID)
		require.NoError(t, err)
		env.MustRegistrarFactura(t, c.ID, "123.00", testkit.Vence(3))
		otro := env.MustCrearClienteActivo(t, "500.00")
		env.MustOperacionAprobada(t, otro.ID, "500.00")

		r = testkit.RequireVerificado(t, db)
		assert.Equal(t, 2, r.Clientes)
		assert.Equal(t, 9, r.Facturas)
		assert.Equal(t, 6, r.Operaciones)
		assert.Equal(t, 1+2+3+2+4+2, r.Eventos)
		assert.Equal(t, 9, r.Deudores, "each factura names a new deudor")
		// 2 clientes (created, activated), 9 facturas (registered; 1 paid),
		// one entry per operación event and one per deudor (created).
		assert.Equal(t, 2*2+9+1+r.Eventos+r.Deudores, r.Auditoria)
	})
}

// TestDetectaViolaciones breaks each invariant with writes that bypass the
// services and checks that verificar reports it, with the right invariant
// number and entity, and nothing else.
func TestDetectaViolaciones(t *testing.T) {
	later := func(env *testkit.Env) time.Time { return env.Clock.Now().Add(time.Hour) }
	evento := func(t *testing.T, env *testkit.Env, op *ent.Operacion, tipo estado.TipoEvento, anterior *estado.Operacion, nuevo estado.Operacion) {
		t.Helper()
		require.NoError(t, env.DB.Client.OperacionEvento.Create().SetOperacionID(op.ID).SetTipo(tipo).SetFecha(later(env)).
			SetNillableEstadoAnterior(anterior).SetEstadoNuevo(nuevo).SetRequestID("manual").SetActor("manual").
			SetDetalle(map[string]any{}).Exec(ctx))
	}
	// aprobarSinEvento does what aprobarOperacion does except writing its
	// event.
	aprobarSinEvento := func(t *testing.T, env *testkit.Env, c *ent.Cliente, op *ent.Operacion, ids []int) {
		t.Helper()
		require.NoError(t, env.DB.Client.Operacion.UpdateOneID(op.ID).SetEstado(estado.OperacionAprobada).Exec(ctx))
		require.NoError(t, env.DB.Client.Cliente.UpdateOneID(c.ID).AddLineaDisponible(op.MontoTotalFacturas.Neg()).Exec(ctx))
		for _, id := range ids {
			require.NoError(t, env.DB.Client.Factura.UpdateOneID(id).SetEstado(estado.FacturaCedida).Exec(ctx))
		}
	}

	cases := []struct {
		name   string
		break_ func(t *testing.T, env *testkit.Env) []string
	}{
		{"1_linea_utilizada_distinta_de_lo_expuesto", func(t *testing.T, env *testkit.Env) []string {
			c := env.MustCrearClienteActivo(t, "1000000.00")
			env.MustOperacionAprobada(t, c.ID, "300000.00")
			require.NoError(t, env.DB.Client.Cliente.UpdateOneID(c.ID).SetLineaDisponible(testkit.Dec("800000.00")).Exec(ctx))
			return []string{v(1, c.ID)}
		}},
		{"1_linea_credito_cambiada_sin_mover_la_disponible", func(t *testing.T, env *testkit.Env) []string {
			c := env.MustCrearClienteActivo(t, "1000000.00")
			env.MustOperacionDesembolsada(t, c.ID, "300000.00")
			require.NoError(t, env.DB.Client.Cliente.UpdateOneID(c.ID).SetLineaCredito(testkit.Dec("2000000.00")).Exec(ctx))
			return []string{v(1, c.ID), v(5, c.ID)}
		}},
		{"1_aprobada_que_no_desconto_la_linea", func(t *testing.T, env *testkit.Env) []string {
			c := env.MustCrearClienteActivo(t, "1000000.00")
			env.MustOperacionAprobada(t, c.ID, "300000.00")
			// A finalization that restored the line but left the operación
			// APROBADA.
			require.NoError(t, env.DB.Client.Cliente.UpdateOneID(c.ID).SetLineaDisponible(testkit.Dec("1000000.00")).Exec(ctx))
			return []string{v(1, c.ID)}
		}},
		{"2_factura_en_proceso_sin_operacion_pendiente", func(t *testing.T, env *testkit.Env) []string {
			c := env.MustCrearClienteActivo(t, "1000000.00")
			f := env.MustRegistrarFactura(t, c.ID, "1000.00", testkit.Vence(30))
			require.NoError(t, env.DB.Client.Factura.UpdateOneID(f.ID).SetEstado(estado.FacturaEnProceso).Exec(ctx))
			return []string{v(2, f.ID), v(5, f.ID)}
		}},
		{"2_factura_disponible_retenida_por_una_pendiente", func(t *testing.T, env *testkit.Env) []string {
			// The seed's behaviour: a pending operación that left its
			// invoices DISPONIBLE.
			c := env.MustCrearClienteActivo(t, "1000000.00")
			_, ids := env.MustOperacionPendiente(t, c.ID, "1000.00", "2000.00")
			require.NoError(t, env.DB.Client.Factura.UpdateOneID(ids[1]).SetEstado(estado.FacturaDisponible).Exec(ctx))
			return []string{v(2, ids[1]), v(5, ids[1])}
		}},
		{"2_factura_en_proceso_de_una_aprobada", func(t *testing.T, env *testkit.Env) []string {
			c := env.MustCrearClienteActivo(t, "1000000.00")
			_, ids := env.MustOperacionAprobada(t, c.ID, "1000.00")
			require.NoError(t, env.DB.Client.Factura.UpdateOneID(ids[0]).SetEstado(estado.FacturaEnProceso).Exec(ctx))
			// Its deudor's exposure too: the approval's computation reads
			// the factura's state, which no longer says CEDIDA.
			return []string{v(2, ids[0]), v(5, ids[0]), v(6, env.Factura(t, ids[0]).DeudorID)}
		}},
		{"2_factura_retenida_por_dos_operaciones_activas", func(t *testing.T, env *testkit.Env) []string {
			c := env.MustCrearClienteActivo(t, "1000000.00")
			_, ids1 := env.MustOperacionPendiente(t, c.ID, "1000.00")
			op2, _ := env.MustOperacionAprobada(t, c.ID, "2000.00")
			require.NoError(t, env.DB.Client.OperacionFactura.Create().SetOperacionID(op2.ID).SetFacturaID(ids1[0]).Exec(ctx))
			// The second operación's total no longer matches its invoices
			// either (the amount check, reported as 0), the invoice's trail
			// now says the later operación ceded it, and an EN_PROCESO
			// invoice held by an approved operación is exposed by its links
			// but not by its state.
			return []string{v(0, op2.ID), v(2, ids1[0]), v(5, ids1[0]), v(6, env.Factura(t, ids1[0]).DeudorID)}
		}},
		{"3_falta_un_evento", func(t *testing.T, env *testkit.Env) []string {
			c := env.MustCrearClienteActivo(t, "1000000.00")
			op, ids := env.MustOperacionPendiente(t, c.ID, "1000.00")
			aprobarSinEvento(t, env, c, op, ids)
			return []string{v(3, op.ID), v(5, op.ID), v(5, ids[0])}
		}},
		{"3_operacion_sin_eventos", func(t *testing.T, env *testkit.Env) []string {
			c := env.MustCrearClienteActivo(t, "1000000.00")
			f := env.MustRegistrarFactura(t, c.ID, "1000.00", testkit.Vence(30))
			now := env.Clock.Now()
			op, err := env.DB.Client.Operacion.Create().SetClienteID(c.ID).SetFechaSolicitud(now).
				SetMontoTotalFacturas(testkit.Dec("1000.00")).SetTasaDescuento(testkit.Dec("2.00")).SetDiasDescuento(30).
				SetMontoDescuento(testkit.Dec("16.67")).SetMontoADesembolsar(testkit.Dec("983.33")).SetEstado(estado.OperacionPendiente).
				AddFacturaIDs(f.ID).SetCreadoEn(now).SetActualizadoEn(now).Save(ctx)
			require.NoError(t, err)
			require.NoError(t, env.DB.Client.Factura.UpdateOneID(f.ID).SetEstado(estado.FacturaEnProceso).Exec(ctx))
			return []string{v(3, op.ID), v(5, op.ID), v(5, f.ID)}
		}},
		{"3_cadena_que_salta_un_estado", func(t *testing.T, env *testkit.Env) []string {
			// PENDIENTE straight to DESEMBOLSADA: no such transition.
			c := env.MustCrearClienteActivo(t, "1000000.00")
			op, ids := env.MustOperacionPendiente(t, c.ID, "1000.00")
			aprobarSinEvento(t, env, c, op, ids)
			require.NoError(t, env.DB.Client.Operacion.UpdateOneID(op.ID).SetEstado(estado.OperacionDesembolsada).Exec(ctx))
			evento(t, env, op, estado.EventoDesembolsada, testkit.Ptr(estado.OperacionPendiente), estado.OperacionDesembolsada)
			return []string{v(3, op.ID), v(5, op.ID), v(5, ids[0])}
		}},
		{"3_estado_anterior_que_no_coincide", func(t *testing.T, env *testkit.Env) []string {
			// The DESEMBOLSADA event claims to start from APROBADA, but the
			// history so far ends in PENDIENTE.
			c := env.MustCrearClienteActivo(t, "1000000.00")
			op, ids := env.MustOperacionPendiente(t, c.ID, "1000.00")
			aprobarSinEvento(t, env, c, op, ids)
			require.NoError(t, env.DB.Client.Operacion.UpdateOneID(op.ID).SetEstado(estado.OperacionDesembolsada).Exec(ctx))
			evento(t, env, op, estado.EventoDesembolsada, testkit.Ptr(estado.OperacionAprobada), estado.OperacionDesembolsada)
			return []string{v(3, op.ID), v(5, op.ID), v(5, ids[0])}
		}},
		{"3_dos_eventos_para_un_cambio", func(t *testing.T, env *testkit.Env) []string {
			c := env.MustCrearClienteActivo(t, "1000000.00")
			op, _ := env.MustOperacionAprobada(t, c.ID, "1000.00")
			evento(t, env, op, estado.EventoAprobada, testkit.Ptr(estado.OperacionPendiente), estado.OperacionAprobada)
			return []string{v(3, op.ID), v(5, op.ID)}
		}},
		{"3_evento_de_mas_al_final", func(t *testing.T, env *testkit.Env) []string {
			// A valid-looking FINALIZADA event for an operación still
			// APROBADA: the history ends in a state it is not in.
			c := env.MustCrearClienteActivo(t, "1000000.00")
			op, _ := env.MustOperacionAprobada(t, c.ID, "1000.00")
			evento(t, env, op, estado.EventoFinalizada, testkit.Ptr(estado.OperacionAprobada), estado.OperacionFinalizada)
			return []string{v(3, op.ID), v(5, op.ID)}
		}},
		{"3_primer_evento_que_no_es_creada", func(t *testing.T, env *testkit.Env) []string {
			c := env.MustCrearClienteActivo(t, "1000000.00")
			f := env.MustRegistrarFactura(t, c.ID, "1000.00", testkit.Vence(30))
			now := env.Clock.Now()
			op, err := env.DB.Client.Operacion.Create().SetClienteID(c.ID).SetFechaSolicitud(now).
				SetMontoTotalFacturas(testkit.Dec("1000.00")).SetTasaDescuento(testkit.Dec("2.00")).SetDiasDescuento(30).
				SetMontoDescuento(testkit.Dec("16.67")).SetMontoADesembolsar(testkit.Dec("983.33")).SetEstado(estado.OperacionRechazada).
				AddFacturaIDs(f.ID).SetCreadoEn(now).SetActualizadoEn(now).Save(ctx)
			require.NoError(t, err)
			evento(t, env, op, estado.EventoRechazada, testkit.Ptr(estado.OperacionPendiente), estado.OperacionRechazada)
			return []string{v(3, op.ID), v(5, op.ID)}
		}},
		{"5_cliente_insertado_sin_el_servicio", func(t *testing.T, env *testkit.Env) []string {
			now := env.Clock.Now()
			c, err := env.DB.Client.Cliente.Create().SetRut(testkit.NewRUT()).SetRazonSocial("Sin auditoría SpA").
				SetEmail("a@b.cl").SetFechaRegistro(now).SetLineaCredito(testkit.Dec("1000.00")).SetLineaDisponible(testkit.Dec("1000.00")).
				SetCreadoEn(now).SetActualizadoEn(now).Save(ctx)
			require.NoError(t, err)
			return []string{v(5, c.ID)}
		}},
		{"5_factura_insertada_sin_el_servicio", func(t *testing.T, env *testkit.Env) []string {
			c := env.MustCrearClienteActivo(t, "1000000.00")
			d := env.MustCrearDeudor(t)
			now := env.Clock.Now()
			f, err := env.DB.Client.Factura.Create().SetClienteID(c.ID).SetNumeroFactura("SIN-AUDITORIA").
				SetDeudorID(d.ID).SetRutDeudor(d.Rut).SetRazonSocialDeudor("Deudor SpA").SetMontoTotal(testkit.Dec("10.00")).
				SetFechaEmision(testkit.Vence(-1)).SetFechaRecepcion(testkit.Vence(-1)).SetFechaVencimiento(testkit.Vence(30)).
				SetCreadoEn(now).SetActualizadoEn(now).Save(ctx)
			require.NoError(t, err)
			return []string{v(5, f.ID)}
		}},
		{"5_deudor_insertado_sin_el_servicio", func(t *testing.T, env *testkit.Env) []string {
			now := env.Clock.Now()
			d, err := env.DB.Client.Deudor.Create().SetRut(testkit.NewRUT()).SetRazonSocial("Sin auditoría SpA").
				SetCreadoEn(now).SetActualizadoEn(now).Save(ctx)
			require.NoError(t, err)
			return []string{v(5, d.ID)}
		}},
		{"5_deudor_bloqueado_sin_auditoria", func(t *testing.T, env *testkit.Env) []string {
			d := env.MustCrearDeudor(t)
			require.NoError(t, env.DB.Client.Deudor.UpdateOneID(d.ID).SetEstado(estado.DeudorBloqueado).Exec(ctx))
			return []string{v(5, d.ID)}
		}},
		{"5_linea_de_exposicion_sin_auditoria", func(t *testing.T, env *testkit.Env) []string {
			// Raised by hand after a limit set through the service: the
			// trail names the old limit.
			d := env.MustCrearDeudor(t)
			_, err := env.Svc.Deudores.FijarLineaExposicion(ctx, d.ID, testkit.Ptr(testkit.Dec("1000.00")))
			require.NoError(t, err)
			require.NoError(t, env.DB.Client.Deudor.UpdateOneID(d.ID).SetLineaExposicion(testkit.Dec("99999999.00")).Exec(ctx))
			otro := env.MustCrearDeudor(t)
			require.NoError(t, env.DB.Client.Deudor.UpdateOneID(otro.ID).SetLineaExposicion(testkit.Dec("1.00")).Exec(ctx))
			return []string{v(5, d.ID), v(5, otro.ID)}
		}},
		{"6_factura_de_otro_deudor", func(t *testing.T, env *testkit.Env) []string {
			// deudor_id is immutable to ent: only SQL moves it. The factura
			// is exposed, so both deudores' exposure moves with it.
			c := env.MustCrearClienteActivo(t, "1000000.00")
			_, ids := env.MustOperacionAprobada(t, c.ID, "1000.00")
			otro := env.MustCrearDeudor(t)
			_, err := env.DB.SQL.ExecContext(ctx, fmt.Sprintf("UPDATE facturas SET deudor_id = %d WHERE id = %d", otro.ID, ids[0]))
			require.NoError(t, err)
			return []string{v(6, ids[0])}
		}},
		{"5_cliente_suspendido_sin_auditoria", func(t *testing.T, env *testkit.Env) []string {
			c := env.MustCrearClienteActivo(t, "1000000.00")
			require.NoError(t, env.DB.Client.Cliente.UpdateOneID(c.ID).SetEstado(estado.ClienteSuspendido).Exec(ctx))
			return []string{v(5, c.ID)}
		}},
		{"5_linea_ajustada_sin_auditoria", func(t *testing.T, env *testkit.Env) []string {
			// Both lines move together, so invariant 1 holds: only the
			// trail can tell (the riesgo token of the issue).
			c := env.MustCrearClienteActivo(t, "1000000.00")
			require.NoError(t, env.DB.Client.Cliente.UpdateOneID(c.ID).
				SetLineaCredito(testkit.Dec("9999999999999.99")).SetLineaDisponible(testkit.Dec("9999999999999.99")).Exec(ctx))
			return []string{v(5, c.ID)}
		}},
		{"5_factura_pagada_sin_auditoria", func(t *testing.T, env *testkit.Env) []string {
			c := env.MustCrearClienteActivo(t, "1000000.00")
			f := env.MustRegistrarFactura(t, c.ID, "1000.00", testkit.Vence(30))
			require.NoError(t, env.DB.Client.Factura.UpdateOneID(f.ID).SetEstado(estado.FacturaPagada).Exec(ctx))
			return []string{v(5, f.ID)}
		}},
		{"5_operacion_desembolsada_con_evento_sin_auditoria", func(t *testing.T, env *testkit.Env) []string {
			// Its own trail is complete; the audit trail lacks the entry.
			c := env.MustCrearClienteActivo(t, "1000000.00")
			op, _ := env.MustOperacionAprobada(t, c.ID, "1000.00")
			require.NoError(t, env.DB.Client.Operacion.UpdateOneID(op.ID).SetEstado(estado.OperacionDesembolsada).Exec(ctx))
			evento(t, env, op, estado.EventoDesembolsada, testkit.Ptr(estado.OperacionAprobada), estado.OperacionDesembolsada)
			return []string{v(5, op.ID)}
		}},
	}
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				env := testkit.NewEnv(t, dbFor(t, db))
				want := tc.break_(t, env)
				assert.ElementsMatch(t, want, found(t, env.DB))
			})
		}
	})
}

// dbFor gives each case a database of its own, of the same dialect as db.
func dbFor(t *testing.T, db *database.DB) *database.DB {
	if db.Dialect == "postgres" {
		return testkit.Postgres(t)
	}
	return testkit.SQLite(t)
}

// TestLaBaseGuardaElRangoDeLaLinea: 0 <= lineaDisponible <= lineaCredito
// is also a CHECK of both databases, so verificar's range check cannot be
// reached by a write; this test pins that guard down.
func TestLaBaseGuardaElRangoDeLaLinea(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		c := env.MustCrearClienteActivo(t, "1000.00")
		err := db.Client.Cliente.UpdateOneID(c.ID).SetLineaDisponible(testkit.Dec("1000.01")).Exec(ctx)
		assert.Error(t, err, "lineaDisponible > lineaCredito")
		err = db.Client.Cliente.UpdateOneID(c.ID).SetLineaDisponible(testkit.Dec("-0.01")).Exec(ctx)
		assert.Error(t, err, "lineaDisponible < 0")
		err = db.Client.Cliente.UpdateOneID(c.ID).SetLineaCredito(testkit.Dec("999.99")).Exec(ctx)
		assert.Error(t, err, "lineaCredito below lineaDisponible")
		testkit.RequireVerificado(t, db)
	})
}

// TestLosEventosSonSoloInsercion: the trail cannot be rewritten, which is
// why the broken histories above are built by inserting events.
func TestLosEventosSonSoloInsercion(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		c := env.MustCrearClienteActivo(t, "1000.00")
		op, _ := env.MustOperacionPendiente(t, c.ID, "10.00")
		ev := env.Eventos(t, op.ID)[0]
		_, err := db.SQL.ExecContext(ctx, "UPDATE operacion_eventos SET actor = 'otro' WHERE id = "+fmt.Sprint(ev.ID))
		assert.Error(t, err)
		_, err = db.SQL.ExecContext(ctx, "DELETE FROM operacion_eventos WHERE id = "+fmt.Sprint(ev.ID))
		assert.Error(t, err)
		assert.Len(t, env.Eventos(t, op.ID), 1)
	})
}
