package facturas_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/apptest"
	"github.com/banpro/factoring/internal/database"
	dt "github.com/banpro/factoring/internal/domaintest"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/facturas"
	"github.com/banpro/factoring/internal/rut"
	"github.com/banpro/factoring/internal/testdb"
)

var ctx = context.Background()

const missingClienteID = 999_999

func TestRegistrar(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		env := dt.New(t, db)
		svc := env.Svc.Facturas
		c := env.MustCrearClienteActivo(t, "1000000")

		t.Run("registra_disponible", func(t *testing.T) {
			// Ensure that an invoice starts DISPONIBLE, with its number
			// trimmed and the debtor's RUT canonical.
			deudor := dt.Body()
			in := dt.FacturaInput(c.ID, "1500.50", dt.Vence(30))
			in.NumeroFactura = "  " + in.NumeroFactura + " "
			in.RutDeudor = dt.Spellings(deudor)[2]
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
				_, err := svc.Registrar(ctx, dt.FacturaInput(c.ID, m, dt.Vence(30)))
				dt.RequireCode(t, err, apperror.Validation, "montoTotal")
			}
			_, err := svc.Registrar(ctx, dt.FacturaInput(c.ID, "0.01", dt.Vence(30)))
			require.NoError(t, err)
		})

		t.Run("vencimiento_posterior_a_emision", func(t *testing.T) {
			for _, dias := range []int{0, -1, -365} {
				in := dt.FacturaInput(c.ID, "1000", dt.Vence(30))
				in.FechaEmision = in.FechaVencimiento.AddDate(0, 0, -dias)
				_, err := svc.Registrar(ctx, in)
				dt.RequireCode(t, err, apperror.Validation, "fechaVencimiento")
			}
			in := dt.FacturaInput(c.ID, "1000", dt.Vence(30))
			in.FechaEmision = in.FechaVencimiento.AddDate(0, 0, -1)
			_, err := svc.Registrar(ctx, in)
			require.NoError(t, err, "one day after the issue date is enough")
		})

		t.Run("rut_deudor_valido", func(t *testing.T) {
			for _, bad := range []string{"", "12.345.678-9", "no-rut", "1.234-5"} {
				in := dt.FacturaInput(c.ID, "1000", dt.Vence(30))
				in.RutDeudor = bad
				_, err := svc.Registrar(ctx, in)
				dt.RequireCode(t, err, apperror.Validation, "rutDeudor")
			}
		})

		t.Run("rechaza_deudor_igual_al_cliente_en_cualquier_grafia", func(t *testing.T) {
			// Ensure that the cliente cannot be its own debtor, however its RUT
			// is written.
			b := dt.Body()
			in := dt.ClienteInput("1000")
			in.Rut = dt.Spellings(b)[0]
			propio, err := env.Svc.Clientes.Crear(ctx, in)
			require.NoError(t, err)
			for _, s := range dt.Spellings(b) {
				fin := dt.FacturaInput(propio.ID, "1000", dt.Vence(30))
				fin.RutDeudor = s
				_, err := svc.Registrar(ctx, fin)
				dt.RequireCode(t, err, apperror.Validation, "rutDeudor")
			}
		})

		t.Run("cliente_inexistente", func(t *testing.T) {
			_, err := svc.Registrar(ctx, dt.FacturaInput(missingClienteID, "1000", dt.Vence(30)))
			dt.RequireCode(t, err, apperror.NotFound)
		})

		t.Run("cliente_bloqueado", func(t *testing.T) {
			b := env.MustCrearClienteActivo(t, "1000")
			_, err := env.Svc.Clientes.Bloquear(ctx, b.ID, "Fraude")
			require.NoError(t, err)
			_, err = svc.Registrar(ctx, dt.FacturaInput(b.ID, "1000", dt.Vence(30)))
			dt.RequireCode(t, err, apperror.Validation, "clienteId")
		})

		t.Run("cliente_pendiente_o_suspendido_si_puede", func(t *testing.T) {
			// Only BLOQUEADO is refused.
			p := env.MustCrearCliente(t, "1000")
			_, err := svc.Registrar(ctx, dt.FacturaInput(p.ID, "1000", dt.Vence(30)))
			require.NoError(t, err)
			s := env.MustCrearClienteActivo(t, "1000")
			_, err = env.Svc.Clientes.Suspender(ctx, s.ID, nil)
			require.NoError(t, err)
			_, err = svc.Registrar(ctx, dt.FacturaInput(s.ID, "1000", dt.Vence(30)))
			require.NoError(t, err)
		})

		t.Run("numero_repetido_para_el_mismo_cliente", func(t *testing.T) {
			first := env.MustRegistrarFactura(t, c.ID, "1000", dt.Vence(30))
			in := dt.FacturaInput(c.ID, "2000", dt.Vence(60))
			in.NumeroFactura = " " + first.NumeroFactura + " "
			_, err := svc.Registrar(ctx, in)
			dt.RequireCode(t, err, apperror.Conflict, "numeroFactura")

			otro := env.MustCrearClienteActivo(t, "1000")
			in = dt.FacturaInput(otro.ID, "2000", dt.Vence(60))
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
				in := dt.FacturaInput(c.ID, "1000", dt.Vence(30))
				edit(&in)
				_, err := svc.Registrar(ctx, in)
				dt.RequireCode(t, err, apperror.Validation, field)
			}
			in := dt.FacturaInput(c.ID, "1000", dt.Vence(30))
			in.NumeroFactura = strings.Repeat("9", 51)
			_, err := svc.Registrar(ctx, in)
			dt.RequireCode(t, err, apperror.Validation, "numeroFactura")

			in = dt.FacturaInput(c.ID, "1000", dt.Vence(30))
			in.NumeroFactura = "Nº-" + strings.Repeat("ñ", 47) // 50 characters, more bytes
			in.RazonSocialDeudor = strings.Repeat("ñ", 255)
			_, err = svc.Registrar(ctx, in)
			require.NoError(t, err, "lengths are counted in characters")
		})

		t.Run("un_error_no_deja_filas", func(t *testing.T) {
			before := env.Count(t)
			_, err := svc.Registrar(ctx, dt.FacturaInput(c.ID, "0", dt.Vence(30)))
			require.Error(t, err)
			b := env.MustCrearClienteActivo(t, "1")
			_, err = env.Svc.Clientes.Bloquear(ctx, b.ID, "x")
			require.NoError(t, err)
			before.Clientes++
			_, err = svc.Registrar(ctx, dt.FacturaInput(b.ID, "10", dt.Vence(30)))
			require.Error(t, err)
			assert.Equal(t, before, env.Count(t))
		})
	})
}

// facturaEn builds a factura of c in state e, through the services where
// a service leads there. VENCIDA is the overdue job's state and no service
// of this issue moves an invoice there, so it is written directly.
func facturaEn(t *testing.T, env *dt.Env, c *ent.Cliente, e estado.Factura) *ent.Factura {
	t.Helper()
	vence := dt.Vence(45)
	if e == estado.FacturaVencida {
		vence = dt.Vence(-1) // already due: the overdue job marks it
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
		_, err = env.Svc.Facturas.Anular(ctx, f.ID, dt.Ptr("Emitida por error"))
	case estado.FacturaVencida:
		_, err = env.Svc.Facturas.MarcarVencidas(ctx, apptest.Santiago)
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
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		env := dt.New(t, db)
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
				appErr := dt.RequireCode(t, err, apperror.Conflict)
				assert.Contains(t, appErr.Message, "estado "+string(from))
				assert.Equal(t, from, env.Factura(t, f.ID).Estado)
			})
		}
		t.Run("factura_inexistente", func(t *testing.T) {
			_, err := env.Svc.Facturas.Pagar(ctx, 1<<32+999_999)
			dt.RequireCode(t, err, apperror.NotFound)
		})
	})
}

func TestAnular(t *testing.T) {
	// Ensure that (change) only a DISPONIBLE invoice can be voided: a paid,
	// ceded, held, overdue or already voided one is a CONFLICT naming its
	// state.
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		env := dt.New(t, db)
		c := env.MustCrearClienteActivo(t, "100000000")
		for _, from := range todos {
			t.Run("desde_"+string(from), func(t *testing.T) {
				f := facturaEn(t, env, c, from)
				got, err := env.Svc.Facturas.Anular(ctx, f.ID, dt.Ptr(" Duplicada "))
				if from == estado.FacturaDisponible {
					require.NoError(t, err)
					assert.Equal(t, estado.FacturaAnulada, got.Estado)
					stored := env.Factura(t, f.ID)
					assert.Equal(t, estado.FacturaAnulada, stored.Estado)
					require.NotNil(t, stored.MotivoAnulacion)
					assert.Equal(t, "Duplicada", *stored.MotivoAnulacion)
					return
				}
				appErr := dt.RequireCode(t, err, apperror.Conflict)
				assert.Contains(t, appErr.Message, "estado "+string(from))
				stored := env.Factura(t, f.ID)
				assert.Equal(t, from, stored.Estado)
				if from != estado.FacturaAnulada {
					assert.Nil(t, stored.MotivoAnulacion, "a refused voiding records no reason")
				}
			})
		}
		t.Run("sin_motivo", func(t *testing.T) {
			f := env.MustRegistrarFactura(t, c.ID, "10", dt.Vence(10))
			got, err := env.Svc.Facturas.Anular(ctx, f.ID, nil)
			require.NoError(t, err)
			assert.Nil(t, got.MotivoAnulacion)
		})
		t.Run("motivo_demasiado_largo", func(t *testing.T) {
			f := env.MustRegistrarFactura(t, c.ID, "10", dt.Vence(10))
			_, err := env.Svc.Facturas.Anular(ctx, f.ID, dt.Ptr(strings.Repeat("m", 501)))
			dt.RequireCode(t, err, apperror.Validation, "motivo")
			assert.Equal(t, estado.FacturaDisponible, env.Factura(t, f.ID).Estado)
		})
		t.Run("factura_inexistente", func(t *testing.T) {
			_, err := env.Svc.Facturas.Anular(ctx, 1<<32+999_999, nil)
			dt.RequireCode(t, err, apperror.NotFound)
		})
		dt.RequireVerificado(t, db)
	})
}
