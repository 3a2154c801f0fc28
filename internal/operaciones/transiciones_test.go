package operaciones_test

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
	"github.com/banpro/factoring/internal/testkit"
)

// opEn builds, through the services, an operación of c over two invoices
// (100000.00 and 50000.00, due in 90 days) in state e.
func opEn(t *testing.T, env *testkit.Env, c *ent.Cliente, e estado.Operacion) (*ent.Operacion, []int) {
	t.Helper()
	op, ids := env.MustOperacionPendiente(t, c.ID, "100000.00", "50000.00")
	svc := env.Svc.Operaciones
	var err error
	switch e {
	case estado.OperacionPendiente:
	case estado.OperacionAprobada:
		op, err = svc.Aprobar(ctx, op.ID)
	case estado.OperacionRechazada:
		op, err = svc.Rechazar(ctx, op.ID, "Documentación incompleta")
	case estado.OperacionDesembolsada:
		if op, err = svc.Aprobar(ctx, op.ID); err == nil {
			op, err = svc.Desembolsar(ctx, op.ID)
		}
	case estado.OperacionFinalizada:
		if op, err = svc.Aprobar(ctx, op.ID); err == nil {
			env.MustPagarTodas(t, ids...)
			op, err = svc.Finalizar(ctx, op.ID)
		}
	}
	require.NoError(t, err)
	require.Equal(t, e, op.Estado)
	return op, ids
}

var estadosOperacion = []estado.Operacion{estado.OperacionPendiente, estado.OperacionAprobada,
	estado.OperacionRechazada, estado.OperacionDesembolsada, estado.OperacionFinalizada}

// TestTransicionesDeEstado walks every (action, state) pair of the
// operación through the services: the allowed ones move it and write one
// event; every other one is a CONFLICT naming the current state that
// changes nothing.
func TestTransicionesDeEstado(t *testing.T) {
	type accion struct {
		name  string
		desde []estado.Operacion
		hacia estado.Operacion
		run   func(env *testkit.Env, id int) (*ent.Operacion, error)
	}
	acciones := []accion{
		{"aprobar", []estado.Operacion{estado.OperacionPendiente}, estado.OperacionAprobada,
			func(env *testkit.Env, id int) (*ent.Operacion, error) { return env.Svc.Operaciones.Aprobar(ctx, id) }},
		{"rechazar", []estado.Operacion{estado.OperacionPendiente}, estado.OperacionRechazada,
			func(env *testkit.Env, id int) (*ent.Operacion, error) {
				return env.Svc.Operaciones.Rechazar(ctx, id, "Motivo")
			}},
		{"desembolsar", []estado.Operacion{estado.OperacionAprobada}, estado.OperacionDesembolsada,
			func(env *testkit.Env, id int) (*ent.Operacion, error) {
				return env.Svc.Operaciones.Desembolsar(ctx, id)
			}},
		{"finalizar", []estado.Operacion{estado.OperacionAprobada, estado.OperacionDesembolsada}, estado.OperacionFinalizada,
			func(env *testkit.Env, id int) (*ent.Operacion, error) { return env.Svc.Operaciones.Finalizar(ctx, id) }},
	}
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		c := env.MustCrearClienteActivo(t, "100000000.00")
		for _, a := range acciones {
			for _, from := range estadosOperacion {
				t.Run(a.name+"_desde_"+string(from), func(t *testing.T) {
					op, ids := opEn(t, env, c, from)
					if a.name == "finalizar" {
						env.MustPagarTodas(t, payable(t, env, ids)...)
					}
					eventsBefore := len(env.Eventos(t, op.ID))
					got, err := a.run(env, op.ID)
					if !contains(a.desde, from) {
						appErr := testkit.RequireCode(t, err, apperror.Conflict)
						assert.Contains(t, appErr.Message, "estado "+string(from), "the CONFLICT names the current state")
						assert.Equal(t, from, env.Operacion(t, op.ID).Estado)
						assert.Len(t, env.Eventos(t, op.ID), eventsBefore, "no event")
						return
					}
					require.NoError(t, err)
					assert.Equal(t, a.hacia, got.Estado)
					assert.Equal(t, a.hacia, env.Operacion(t, op.ID).Estado)
					evs := env.Eventos(t, op.ID)
					require.Len(t, evs, eventsBefore+1, "one event per state change")
					last := evs[len(evs)-1]
					require.NotNil(t, last.EstadoAnterior)
					assert.Equal(t, from, *last.EstadoAnterior)
					assert.Equal(t, a.hacia, last.EstadoNuevo)
				})
			}
		}
		t.Run("operacion_inexistente", func(t *testing.T) {
			for _, a := range acciones {
				_, err := a.run(env, missingOperacion)
				testkit.RequireCode(t, err, apperror.NotFound)
			}
		})
		testkit.RequireVerificado(t, db)
	})
}

// payable returns the invoices among ids that pagarFactura accepts.
func payable(t *testing.T, env *testkit.Env, ids []int) []int {
	var out []int
	for _, id := range ids {
		if estado.Facturas.Puede(estado.PagarFactura, env.Factura(t, id).Estado) {
			out = append(out, id)
		}
	}
	return out
}

func contains[S comparable](s []S, v S) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestAprobar(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		svc := env.Svc.Operaciones

		t.Run("cede_las_facturas_y_descuenta_la_linea", func(t *testing.T) {
			c := env.MustCrearClienteActivo(t, "1000000.00")
			op, ids := env.MustOperacionPendiente(t, c.ID, "100000.00", "50000.00")
			env.Clock.Advance(time.Hour)
			now := env.Clock.Now()
			got, err := svc.Aprobar(ctx, op.ID)
			require.NoError(t, err)
			assert.Equal(t, estado.OperacionAprobada, got.Estado)
			require.NotNil(t, got.FechaAprobacion)
			assert.True(t, got.FechaAprobacion.Equal(now), "fechaAprobacion is now")
			stored := env.Operacion(t, op.ID)
			require.NotNil(t, stored.FechaAprobacion)
			assert.True(t, stored.FechaAprobacion.Equal(now))
			env.RequireEstadoFacturas(t, estado.FacturaCedida, ids...)
			env.RequireLinea(t, c.ID, "1000000.00", "850000.00")

			evs := env.Eventos(t, op.ID)
			require.Len(t, evs, 2)
			assert.Equal(t, estado.EventoAprobada, evs[1].Tipo)
			assert.Equal(t, map[string]any{
				"facturaIds":              []any{gid.Encode(ids[0]), gid.Encode(ids[1])},
				"lineaDisponibleAnterior": "1000000.00",
				"lineaDisponibleNueva":    "850000.00",
			}, evs[1].Detalle)
		})

		t.Run("linea_exactamente_igual_al_monto", func(t *testing.T) {
			c := env.MustCrearClienteActivo(t, "150000.00")
			op, _ := env.MustOperacionPendiente(t, c.ID, "100000.00", "50000.00")
			_, err := svc.Aprobar(ctx, op.ID)
			require.NoError(t, err)
			env.RequireLinea(t, c.ID, "150000.00", "0.00")
		})

		t.Run("linea_insuficiente", func(t *testing.T) {
			// Ensure that an operación the available line does not cover is
			// refused on lineaDisponible and changes nothing, even when the
			// line covered it at creation (creation does not reserve it).
			c := env.MustCrearClienteActivo(t, "150000.00")
			first, _ := env.MustOperacionPendiente(t, c.ID, "100000.00")
			second, ids := env.MustOperacionPendiente(t, c.ID, "50000.01")
			_, err := svc.Aprobar(ctx, first.ID)
			require.NoError(t, err)
			_, err = svc.Aprobar(ctx, second.ID)
			testkit.RequireCode(t, err, apperror.Validation, "lineaDisponible")
			env.RequireLinea(t, c.ID, "150000.00", "50000.00")
			assert.Equal(t, estado.OperacionPendiente, env.Operacion(t, second.ID).Estado)
			env.RequireEstadoFacturas(t, estado.FacturaEnProceso, ids...)
			assert.Len(t, env.Eventos(t, second.ID), 1)
		})

		t.Run("cliente_no_activo", func(t *testing.T) {
			c := env.MustCrearClienteActivo(t, "1000000.00")
			op, ids := env.MustOperacionPendiente(t, c.ID, "1000.00")
			_, err := env.Svc.Clientes.Suspender(ctx, c.ID, testkit.Ptr("Revisión"))
			require.NoError(t, err)
			_, err = svc.Aprobar(ctx, op.ID)
			testkit.RequireCode(t, err, apperror.Validation, "cliente")
			env.RequireEstadoFacturas(t, estado.FacturaEnProceso, ids...)
			env.RequireLinea(t, c.ID, "1000000.00", "1000000.00")

			_, err = env.Svc.Clientes.Activar(ctx, c.ID)
			require.NoError(t, err)
			_, err = svc.Aprobar(ctx, op.ID)
			require.NoError(t, err, "once ACTIVO again it may be approved")
		})

		t.Run("factura_vencida_desde_la_creacion", func(t *testing.T) {
			// Ensure that an invoice that fell due while the operación waited
			// blocks its approval; due today is still fine.
			c := env.MustCrearClienteActivo(t, "1000000.00")
			corta := env.MustRegistrarFactura(t, c.ID, "1000.00", testkit.Vence(10))
			larga := env.MustRegistrarFactura(t, c.ID, "1000.00", testkit.Vence(40))
			op := env.MustCrearOperacion(t, c.ID, corta.ID, larga.ID)

			env.Clock.Set(testkit.Hoy.AddDate(0, 0, 10))
			otra := env.MustCrearOperacion(t, c.ID, env.MustRegistrarFactura(t, c.ID, "5.00", testkit.Vence(10)).ID)
			_, err := svc.Aprobar(ctx, otra.ID)
			require.NoError(t, err, "due today is not overdue")

			env.Clock.Set(testkit.Hoy.AddDate(0, 0, 11))
			defer env.Clock.Set(testkit.Hoy)
			_, err = svc.Aprobar(ctx, op.ID)
			requireLista(t, err, "facturas", []int{corta.ID}, []int{larga.ID})
			env.RequireEstadoFacturas(t, estado.FacturaEnProceso, corta.ID, larga.ID)
			assert.Equal(t, estado.OperacionPendiente, env.Operacion(t, op.ID).Estado)
		})

		t.Run("factura_que_ya_no_esta_en_proceso", func(t *testing.T) {
			// No service takes a held invoice out of EN_PROCESO, so the state
			// is forced here to check that aprobar still refuses it.
			c := env.MustCrearClienteActivo(t, "1000000.00")
			op, ids := env.MustOperacionPendiente(t, c.ID, "1000.00", "2000.00")
			require.NoError(t, env.DB.Client.Factura.UpdateOneID(ids[1]).SetEstado(estado.FacturaAnulada).Exec(ctx))
			_, err := svc.Aprobar(ctx, op.ID)
			requireLista(t, err, "facturas", []int{ids[1]}, []int{ids[0]})
			env.RequireLinea(t, c.ID, "1000000.00", "1000000.00")
			env.RequireEstadoFacturas(t, estado.FacturaEnProceso, ids[0])
		})
	})
}

func TestRechazar(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		svc := env.Svc.Operaciones
		c := env.MustCrearClienteActivo(t, "1000000.00")

		t.Run("libera_las_facturas_sin_tocar_la_linea", func(t *testing.T) {
			// Ensure that (change) a rejection releases the invoices, which a
			// new operación may then hold.
			aprobada, _ := env.MustOperacionAprobada(t, c.ID, "300000.00")
			op, ids := env.MustOperacionPendiente(t, c.ID, "100000.00", "50000.00")
			got, err := svc.Rechazar(ctx, op.ID, "  Deudor con protestos  ")
			require.NoError(t, err)
			assert.Equal(t, estado.OperacionRechazada, got.Estado)
			stored := env.Operacion(t, op.ID)
			require.NotNil(t, stored.MotivoRechazo)
			assert.Equal(t, "Deudor con protestos", *stored.MotivoRechazo, "motivo is trimmed")
			assert.Nil(t, stored.FechaAprobacion)
			env.RequireEstadoFacturas(t, estado.FacturaDisponible, ids...)
			env.RequireLinea(t, c.ID, "1000000.00", "700000.00")
			assert.Equal(t, estado.OperacionAprobada, env.Operacion(t, aprobada.ID).Estado)

			evs := env.Eventos(t, op.ID)
			require.Len(t, evs, 2)
			assert.Equal(t, estado.EventoRechazada, evs[1].Tipo)
			assert.Equal(t, map[string]any{"motivo": "Deudor con protestos"}, evs[1].Detalle)

			again := env.MustCrearOperacion(t, c.ID, ids...)
			assert.Equal(t, estado.OperacionPendiente, again.Estado)
			env.RequireEstadoFacturas(t, estado.FacturaEnProceso, ids...)
		})

		t.Run("motivo_de_al_menos_3_caracteres", func(t *testing.T) {
			op, ids := env.MustOperacionPendiente(t, c.ID, "1000.00")
			for _, m := range []string{"", "ab", "   ab   ", "\t\n"} {
				_, err := svc.Rechazar(ctx, op.ID, m)
				testkit.RequireCode(t, err, apperror.Validation, "motivo")
			}
			assert.Equal(t, estado.OperacionPendiente, env.Operacion(t, op.ID).Estado)
			env.RequireEstadoFacturas(t, estado.FacturaEnProceso, ids...)
			_, err := svc.Rechazar(ctx, op.ID, " abc ")
			require.NoError(t, err, "three characters are enough")
		})
	})
}

func TestDesembolsar(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		c := env.MustCrearClienteActivo(t, "1000000.00")
		op, ids := env.MustOperacionAprobada(t, c.ID, "300000.00")
		env.Clock.Advance(2 * time.Hour)
		got, err := env.Svc.Operaciones.Desembolsar(ctx, op.ID)
		require.NoError(t, err)
		assert.Equal(t, estado.OperacionDesembolsada, got.Estado)
		stored := env.Operacion(t, op.ID)
		require.NotNil(t, stored.FechaDesembolso)
		assert.True(t, stored.FechaDesembolso.Equal(env.Clock.Now()))
		env.RequireLinea(t, c.ID, "1000000.00", "700000.00")
		env.RequireEstadoFacturas(t, estado.FacturaCedida, ids...)
		evs := env.Eventos(t, op.ID)
		require.Len(t, evs, 3)
		assert.Equal(t, estado.EventoDesembolsada, evs[2].Tipo)
		assert.Equal(t, map[string]any{"montoADesembolsar": op.MontoADesembolsar.StringFixed(2)}, evs[2].Detalle)
	})
}

func TestFinalizar(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		svc := env.Svc.Operaciones

		t.Run("exige_todas_las_facturas_pagadas", func(t *testing.T) {
			c := env.MustCrearClienteActivo(t, "1000000.00")
			op, ids := env.MustOperacionDesembolsada(t, c.ID, "100000.00", "50000.00", "25000.00")
			_, err := svc.Finalizar(ctx, op.ID)
			requireLista(t, err, "facturas", ids, nil)

			env.MustPagarTodas(t, ids[1])
			_, err = svc.Finalizar(ctx, op.ID)
			requireLista(t, err, "facturas", []int{ids[0], ids[2]}, []int{ids[1]})
			assert.Equal(t, estado.OperacionDesembolsada, env.Operacion(t, op.ID).Estado)
			env.RequireLinea(t, c.ID, "1000000.00", "825000.00")
		})

		t.Run("repone_la_linea", func(t *testing.T) {
			c := env.MustCrearClienteActivo(t, "1000000.00")
			otra, _ := env.MustOperacionAprobada(t, c.ID, "200000.00")
			op, ids := env.MustOperacionDesembolsada(t, c.ID, "100000.00", "50000.00")
			env.RequireLinea(t, c.ID, "1000000.00", "650000.00")
			env.MustPagarTodas(t, ids...)
			env.Clock.Advance(24 * time.Hour)
			got, err := svc.Finalizar(ctx, op.ID)
			require.NoError(t, err)
			assert.Equal(t, estado.OperacionFinalizada, got.Estado)
			stored := env.Operacion(t, op.ID)
			require.NotNil(t, stored.FechaFinalizacion)
			assert.True(t, stored.FechaFinalizacion.Equal(env.Clock.Now()))
			env.RequireLinea(t, c.ID, "1000000.00", "800000.00")
			assert.Equal(t, estado.OperacionAprobada, env.Operacion(t, otra.ID).Estado)

			evs := env.Eventos(t, op.ID)
			require.Len(t, evs, 4)
			assert.Equal(t, estado.EventoFinalizada, evs[3].Tipo)
			assert.Equal(t, "650000.00", evs[3].Detalle["lineaDisponibleAnterior"])
			assert.Equal(t, "800000.00", evs[3].Detalle["lineaDisponibleNueva"])
			// At the defaults, every invoice paid exactly: nothing to give
			// back.
			assert.Equal(t, "0.00", evs[3].Detalle["montoLiquidacion"])
			liq := evs[3].Detalle["liquidacion"].(map[string]any)
			assert.Equal(t, "0.00", liq["excedente"])
			assert.Equal(t, "0.00", liq["montoLiquidacion"])
			assert.Len(t, liq["facturas"], 2)
			require.NotNil(t, stored.MontoLiquidacion)
			assert.Equal(t, "0.00", stored.MontoLiquidacion.StringFixed(2))
		})

		t.Run("desde_aprobada_con_facturas_vencidas_y_pagadas", func(t *testing.T) {
			// An invoice the overdue job moved to VENCIDA is paid from there,
			// and then the operación may finalize.
			c := env.MustCrearClienteActivo(t, "1000000.00")
			op, ids := env.MustOperacionAprobada(t, c.ID, "100000.00")
			require.NoError(t, env.DB.Client.Factura.UpdateOneID(ids[0]).SetEstado(estado.FacturaVencida).Exec(ctx))
			env.MustPagarTodas(t, ids...)
			_, err := svc.Finalizar(ctx, op.ID)
			require.NoError(t, err)
			env.RequireLinea(t, c.ID, "1000000.00", "1000000.00")
		})
		testkit.RequireVerificado(t, db)
	})
}
