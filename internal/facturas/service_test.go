package facturas_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/facturas"
	"github.com/banpro/factoring/internal/rut"
	"github.com/banpro/factoring/internal/testkit"
)

var ctx = context.Background()

const missingClienteID = 999_999

func TestRegistrar(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		svc := env.Svc.Facturas
		c := env.MustCrearClienteActivo(t, "1000000")

		t.Run("registra_disponible", func(t *testing.T) {
			// Ensure that an invoice starts DISPONIBLE, with its number
			// trimmed and the debtor's RUT canonical.
			deudor := testkit.Body()
			in := testkit.FacturaInput(c.ID, "1500.50", testkit.Vence(30))
			in.NumeroFactura = "  " + in.NumeroFactura + " "
			in.RutDeudor = testkit.Spellings(deudor)[2]
			f, err := svc.Registrar(ctx, in)
			require.NoError(t, err)
			stored := env.Factura(t, f.ID)
			assert.Equal(t, estado.FacturaDisponible, stored.Estado)
			assert.Equal(t, strings.TrimSpace(in.NumeroFactura), stored.NumeroFactura)
			assert.Equal(t, rut.Format(deudor, rut.CheckDigit(deudor)), stored.RutDeudor)
			assert.Equal(t, "1500.50", stored.MontoTotal.StringFixed(2))
			assert.Equal(t, c.ID, stored.ClienteID)
			assert.True(t, in.FechaVencimiento.Equal(stored.FechaVencimiento))
			assert.Nil(t, stored.MotivoAnulacion)
		})

		t.Run("monto_total_mayor_que_cero", func(t *testing.T) {
			for _, m := range []string{"0", "-0.01", "-100"} {
				_, err := svc.Registrar(ctx, testkit.FacturaInput(c.ID, m, testkit.Vence(30)))
				testkit.RequireCode(t, err, apperror.Validation, "montoTotal")
			}
			_, err := svc.Registrar(ctx, testkit.FacturaInput(c.ID, "0.01", testkit.Vence(30)))
			require.NoError(t, err)
		})

		t.Run("vencimiento_posterior_a_emision", func(t *testing.T) {
			for _, dias := range []int{0, -1, -365} {
				in := testkit.FacturaInput(c.ID, "1000", testkit.Vence(-400))
				in.FechaEmision = in.FechaVencimiento.AddDate(0, 0, -dias)
				_, err := svc.Registrar(ctx, in)
				testkit.RequireCode(t, err, apperror.Validation, "fechaVencimiento")
			}
			in := testkit.FacturaInput(c.ID, "1000", testkit.Vence(1))
			in.FechaEmision = in.FechaVencimiento.AddDate(0, 0, -1)
			_, err := svc.Registrar(ctx, in)
			require.NoError(t, err, "one day after the issue date is enough")
		})

		t.Run("fechas_acotadas", func(t *testing.T) {
			// Ensure that an invoice is issued from 2000-01-01 to today (in
			// Santiago) and falls due at most 5 years after its issue: a
			// due date in 9999 was accepted, and crearOperacion over it
			// failed with INTERNAL_ERROR (a discount above the total).
			registrar := func(emision, vencimiento time.Time) error {
				in := testkit.FacturaInput(c.ID, "1000", vencimiento)
				in.FechaEmision = emision
				_, err := svc.Registrar(ctx, in)
				return err
			}
			hoy := testkit.HoyFecha
			for name, tc := range map[string]struct {
				emision, vencimiento time.Time
				field                string
			}{
				"emision_0000":           {clock.Date(0, time.January, 1), clock.Date(0, time.March, 1), "fechaEmision"},
				"emision_1999":           {clock.Date(1999, time.December, 31), clock.Date(2000, time.March, 1), "fechaEmision"},
				"emision_manana":         {hoy.AddDate(0, 0, 1), hoy.AddDate(0, 0, 30), "fechaEmision"},
				"emision_futura":         {clock.Date(2030, time.January, 1), clock.Date(2030, time.March, 1), "fechaEmision"},
				"vencimiento_9999":       {hoy, clock.Date(9999, time.December, 31), "fechaVencimiento"},
				"vencimiento_5_anios_+1": {hoy, hoy.AddDate(5, 0, 1), "fechaVencimiento"},
			} {
				t.Run(name, func(t *testing.T) {
					testkit.RequireCode(t, registrar(tc.emision, tc.vencimiento), apperror.Validation, tc.field)
				})
			}
			require.NoError(t, registrar(facturas.MinFechaEmision, facturas.MinFechaEmision.AddDate(0, 0, 30)))
			require.NoError(t, registrar(hoy, hoy.AddDate(facturas.MaxAniosVencimiento, 0, 0)), "exactly 5 years")
			// Today is Santiago's: at 22:00 on the 26th there, UTC is
			// already the 27th, which is still tomorrow.
			env.Clock.Set(time.Date(2026, 11, 26, 22, 0, 0, 0, testkit.Santiago))
			t.Cleanup(func() { env.Clock.Set(testkit.Hoy) })
			testkit.RequireCode(t, registrar(hoy.AddDate(0, 0, 1), hoy.AddDate(0, 0, 30)), apperror.Validation, "fechaEmision")
			require.NoError(t, registrar(hoy, hoy.AddDate(0, 0, 30)))
		})

		t.Run("fecha_recepcion", func(t *testing.T) {
			// Ensure that the reception defaults to the issue and may be any
			// day from the issue to today, and that the acuse starts
			// PENDIENTE.
			in := testkit.FacturaInput(c.ID, "10.00", testkit.Vence(30))
			f, err := svc.Registrar(ctx, in)
			require.NoError(t, err)
			assert.True(t, f.FechaRecepcion.Equal(in.FechaEmision), "defaults to fechaEmision")
			assert.Equal(t, estado.AcusePendiente, f.EstadoAcuse)
			for _, r := range []time.Time{in.FechaEmision, testkit.HoyFecha} {
				in := testkit.FacturaInput(c.ID, "10.00", testkit.Vence(30))
				in.FechaRecepcion = &r
				f, err := svc.Registrar(ctx, in)
				require.NoError(t, err)
				assert.True(t, env.Factura(t, f.ID).FechaRecepcion.Equal(r))
			}
			for _, r := range []time.Time{in.FechaEmision.AddDate(0, 0, -1), testkit.HoyFecha.AddDate(0, 0, 1)} {
				in := testkit.FacturaInput(c.ID, "10.00", testkit.Vence(30))
				in.FechaRecepcion = &r
				_, err := svc.Registrar(ctx, in)
				testkit.RequireCode(t, err, apperror.Validation, "fechaRecepcion")
			}
		})

		t.Run("rut_deudor_valido", func(t *testing.T) {
			for _, bad := range []string{"", "12.345.678-9", "no-rut", "1.234-5"} {
				in := testkit.FacturaInput(c.ID, "1000", testkit.Vence(30))
				in.RutDeudor = bad
				_, err := svc.Registrar(ctx, in)
				testkit.RequireCode(t, err, apperror.Validation, "rutDeudor")
			}
		})

		t.Run("rechaza_deudor_igual_al_cliente_en_cualquier_grafia", func(t *testing.T) {
			// Ensure that the cliente cannot be its own debtor, however its RUT
			// is written.
			b := testkit.Body()
			in := testkit.ClienteInput("1000")
			in.Rut = testkit.Spellings(b)[0]
			propio, err := env.Svc.Clientes.Crear(ctx, in)
			require.NoError(t, err)
			for _, s := range testkit.Spellings(b) {
				fin := testkit.FacturaInput(propio.ID, "1000", testkit.Vence(30))
				fin.RutDeudor = s
				_, err := svc.Registrar(ctx, fin)
				testkit.RequireCode(t, err, apperror.Validation, "rutDeudor")
			}
		})

		t.Run("cliente_inexistente", func(t *testing.T) {
			_, err := svc.Registrar(ctx, testkit.FacturaInput(missingClienteID, "1000", testkit.Vence(30)))
			testkit.RequireCode(t, err, apperror.NotFound)
		})

		t.Run("cliente_bloqueado", func(t *testing.T) {
			b := env.MustCrearClienteActivo(t, "1000")
			_, err := env.Svc.Clientes.Bloquear(ctx, b.ID, "Fraude")
			require.NoError(t, err)
			_, err = svc.Registrar(ctx, testkit.FacturaInput(b.ID, "1000", testkit.Vence(30)))
			testkit.RequireCode(t, err, apperror.Validation, "clienteId")
		})

		t.Run("cliente_pendiente_o_suspendido_si_puede", func(t *testing.T) {
			// Only BLOQUEADO is refused.
			p := env.MustCrearCliente(t, "1000")
			_, err := svc.Registrar(ctx, testkit.FacturaInput(p.ID, "1000", testkit.Vence(30)))
			require.NoError(t, err)
			s := env.MustCrearClienteActivo(t, "1000")
			_, err = env.Svc.Clientes.Suspender(ctx, s.ID, nil)
			require.NoError(t, err)
			_, err = svc.Registrar(ctx, testkit.FacturaInput(s.ID, "1000", testkit.Vence(30)))
			require.NoError(t, err)
		})

		t.Run("numero_repetido_para_el_mismo_cliente", func(t *testing.T) {
			first := env.MustRegistrarFactura(t, c.ID, "1000", testkit.Vence(30))
			in := testkit.FacturaInput(c.ID, "2000", testkit.Vence(60))
			in.NumeroFactura = " " + first.NumeroFactura + " "
			_, err := svc.Registrar(ctx, in)
			testkit.RequireCode(t, err, apperror.Conflict, "numeroFactura")

			otro := env.MustCrearClienteActivo(t, "1000")
			in = testkit.FacturaInput(otro.ID, "2000", testkit.Vence(60))
			in.NumeroFactura = first.NumeroFactura
			f, err := svc.Registrar(ctx, in)
			require.NoError(t, err, "the same number for another cliente is fine")
			assert.Equal(t, first.NumeroFactura, f.NumeroFactura)
		})

		t.Run("textos_obligatorios_y_largos", func(t *testing.T) {
			cases := map[string]func(in *facturas.RegistrarInput){
				"numeroFactura":     func(in *facturas.RegistrarInput) { in.NumeroFactura = "   " },
				"razonSocialDeudor": func(in *facturas.RegistrarInput) { in.RazonSocialDeudor = "" },
			}
			for field, edit := range cases {
				in := testkit.FacturaInput(c.ID, "1000", testkit.Vence(30))
				edit(&in)
				_, err := svc.Registrar(ctx, in)
				testkit.RequireCode(t, err, apperror.Validation, field)
			}
			in := testkit.FacturaInput(c.ID, "1000", testkit.Vence(30))
			in.NumeroFactura = strings.Repeat("9", 51)
			_, err := svc.Registrar(ctx, in)
			testkit.RequireCode(t, err, apperror.Validation, "numeroFactura")

			in = testkit.FacturaInput(c.ID, "1000", testkit.Vence(30))
			in.NumeroFactura = "Nº-" + strings.Repeat("ñ", 47) // 50 characters, more bytes
			in.RazonSocialDeudor = strings.Repeat("ñ", 255)
			_, err = svc.Registrar(ctx, in)
			require.NoError(t, err, "lengths are counted in characters")
		})

		t.Run("un_error_no_deja_filas", func(t *testing.T) {
			before := env.Count(t)
			_, err := svc.Registrar(ctx, testkit.FacturaInput(c.ID, "0", testkit.Vence(30)))
			require.Error(t, err)
			b := env.MustCrearClienteActivo(t, "1")
			_, err = env.Svc.Clientes.Bloquear(ctx, b.ID, "x")
			require.NoError(t, err)
			before.Clientes++
			_, err = svc.Registrar(ctx, testkit.FacturaInput(b.ID, "10", testkit.Vence(30)))
			require.Error(t, err)
			assert.Equal(t, before, env.Count(t))
		})
	})
}

// facturaEn builds a factura of c in state e, through the services where
// a service leads there. VENCIDA is the overdue job's state and no service
// of this issue moves an invoice there, so it is written directly.
func facturaEn(t *testing.T, env *testkit.Env, c *ent.Cliente, e estado.Factura) *ent.Factura {
	t.Helper()
	vence := testkit.Vence(45)
	if e == estado.FacturaVencida {
		vence = testkit.Vence(-1) // already due: the overdue job marks it
	}
	f := env.MustRegistrarFactura(t, c.ID, "1000.00", vence)
	var err error
	switch e {
	case estado.FacturaDisponible:
	case estado.FacturaEnProceso:
		env.MustCrearOperacion(t, c.ID, f.ID)
	case estado.FacturaCedida:
		op := env.MustCrearOperacion(t, c.ID, f.ID)
		_, err = env.Svc.Operaciones.Aprobar(ctx, op.ID)
	case estado.FacturaPagada:
		_, err = env.Svc.Facturas.Pagar(ctx, f.ID)
	case estado.FacturaAnulada:
		_, err = env.Svc.Facturas.Anular(ctx, f.ID, testkit.Ptr("Emitida por error"))
	case estado.FacturaVencida:
		_, err = env.Svc.Facturas.MarcarVencidas(ctx, testkit.Santiago)
	}
	require.NoError(t, err)
	f = env.Factura(t, f.ID)
	require.Equal(t, e, f.Estado)
	return f
}

var todos = []estado.Factura{estado.FacturaDisponible, estado.FacturaEnProceso, estado.FacturaCedida,
	estado.FacturaPagada, estado.FacturaVencida, estado.FacturaAnulada}

func TestPagar(t *testing.T) {
	// Ensure that an invoice is paid from DISPONIBLE, CEDIDA or VENCIDA, and
	// that paying it from any other state is a CONFLICT naming that state.
	permitido := map[estado.Factura]bool{estado.FacturaDisponible: true, estado.FacturaCedida: true, estado.FacturaVencida: true}
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		c := env.MustCrearClienteActivo(t, "100000000")
		for _, from := range todos {
			t.Run("desde_"+string(from), func(t *testing.T) {
				f := facturaEn(t, env, c, from)
				got, err := env.Svc.Facturas.Pagar(ctx, f.ID)
				if permitido[from] {
					require.NoError(t, err)
					assert.Equal(t, estado.FacturaPagada, got.Estado)
					assert.Equal(t, estado.FacturaPagada, env.Factura(t, f.ID).Estado)
					return
				}
				appErr := testkit.RequireCode(t, err, apperror.Conflict)
				assert.Contains(t, appErr.Message, "estado "+string(from))
				assert.Equal(t, from, env.Factura(t, f.ID).Estado)
			})
		}
		t.Run("factura_inexistente", func(t *testing.T) {
			_, err := env.Svc.Facturas.Pagar(ctx, 1<<32+999_999)
			testkit.RequireCode(t, err, apperror.NotFound)
		})
	})
}

func TestAnular(t *testing.T) {
	// Ensure that (change) only a DISPONIBLE invoice can be voided: a paid,
	// ceded, held, overdue or already voided one is a CONFLICT naming its
	// state.
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		c := env.MustCrearClienteActivo(t, "100000000")
		for _, from := range todos {
			t.Run("desde_"+string(from), func(t *testing.T) {
				f := facturaEn(t, env, c, from)
				got, err := env.Svc.Facturas.Anular(ctx, f.ID, testkit.Ptr(" Duplicada "))
				if from == estado.FacturaDisponible {
					require.NoError(t, err)
					assert.Equal(t, estado.FacturaAnulada, got.Estado)
					stored := env.Factura(t, f.ID)
					assert.Equal(t, estado.FacturaAnulada, stored.Estado)
					require.NotNil(t, stored.MotivoAnulacion)
					assert.Equal(t, "Duplicada", *stored.MotivoAnulacion)
					return
				}
				appErr := testkit.RequireCode(t, err, apperror.Conflict)
				assert.Contains(t, appErr.Message, "estado "+string(from))
				stored := env.Factura(t, f.ID)
				assert.Equal(t, from, stored.Estado)
				if from != estado.FacturaAnulada {
					assert.Nil(t, stored.MotivoAnulacion, "a refused voiding records no reason")
				}
			})
		}
		t.Run("sin_motivo", func(t *testing.T) {
			f := env.MustRegistrarFactura(t, c.ID, "10", testkit.Vence(10))
			got, err := env.Svc.Facturas.Anular(ctx, f.ID, nil)
			require.NoError(t, err)
			assert.Nil(t, got.MotivoAnulacion)
		})
		t.Run("motivo_demasiado_largo", func(t *testing.T) {
			f := env.MustRegistrarFactura(t, c.ID, "10", testkit.Vence(10))
			_, err := env.Svc.Facturas.Anular(ctx, f.ID, testkit.Ptr(strings.Repeat("m", 501)))
			testkit.RequireCode(t, err, apperror.Validation, "motivo")
			assert.Equal(t, estado.FacturaDisponible, env.Factura(t, f.ID).Estado)
		})
		t.Run("factura_inexistente", func(t *testing.T) {
			_, err := env.Svc.Facturas.Anular(ctx, 1<<32+999_999, nil)
			testkit.RequireCode(t, err, apperror.NotFound)
		})
		testkit.RequireVerificado(t, db)
	})
}

// TestRegistrarAcuse: the deudor's acuse is recorded once, from PENDIENTE:
// ACEPTADA (with an optional motivo) or RECLAMADA (with a required one, and
// only within 8 días corridos of the reception); the factura's own state
// does not move. (Which facturas can then be ceded: operaciones TestAcuse.)
func TestRegistrarAcuse(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		svc := env.Svc.Facturas
		c := env.MustCrearClienteActivo(t, "1000000")
		nueva := func() *ent.Factura {
			in := testkit.FacturaInput(c.ID, "10.00", testkit.Vence(30))
			in.FechaRecepcion = &testkit.HoyFecha
			f, err := svc.Registrar(ctx, in)
			require.NoError(t, err)
			return f
		}

		f, err := svc.RegistrarAcuse(ctx, nueva().ID, estado.AcuseAceptada, nil)
		require.NoError(t, err)
		assert.Equal(t, estado.AcuseAceptada, f.EstadoAcuse)
		assert.Nil(t, f.MotivoAcuse)
		assert.Equal(t, estado.FacturaDisponible, f.Estado)

		f, err = svc.RegistrarAcuse(ctx, nueva().ID, estado.AcuseReclamada, testkit.Ptr(" Precio distinto al pactado "))
		require.NoError(t, err)
		assert.Equal(t, estado.AcuseReclamada, f.EstadoAcuse)
		assert.Equal(t, "Precio distinto al pactado", *f.MotivoAcuse)
		_, err = svc.RegistrarAcuse(ctx, f.ID, estado.AcuseAceptada, nil)
		e := testkit.RequireCode(t, err, apperror.Conflict)
		assert.Contains(t, e.Message, "estado RECLAMADA")

		_, err = svc.RegistrarAcuse(ctx, nueva().ID, estado.AcusePendiente, nil)
		testkit.RequireCode(t, err, apperror.Validation, "estado")
		_, err = svc.RegistrarAcuse(ctx, nueva().ID, estado.AcuseAceptada, testkit.Ptr(strings.Repeat("x", 501)))
		testkit.RequireCode(t, err, apperror.Validation, "motivo")
		testkit.RequireVerificado(t, db)
	})
}
