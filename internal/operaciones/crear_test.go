package operaciones_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/app"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/facturas"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/money"
	"github.com/banpro/factoring/internal/operaciones"
	"github.com/banpro/factoring/internal/testkit"
)

var ctx = context.Background()

// Ids no test creates: a cliente, a factura, an operación.
const (
	missingCliente   = 999_999
	missingFactura   = 1<<32 + 999_999
	missingOperacion = 2<<32 + 999_999
)

// requireLista asserts that err is a VALIDATION_ERROR on field whose
// message lists exactly the ids in listed (in their opaque form) and none
// of the ids in notListed.
func requireLista(t *testing.T, err error, field string, listed, notListed []int) {
	t.Helper()
	appErr := testkit.RequireCode(t, err, apperror.Validation, field)
	msg := appErr.Fields[field]
	for _, id := range listed {
		assert.Contains(t, msg, gid.Encode(id), "the message lists %d", id)
	}
	for _, id := range notListed {
		assert.NotContains(t, msg, gid.Encode(id), "the message does not list %d", id)
	}
}

func TestCrear(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		svc := env.Svc.Operaciones
		crear := func(clienteID int, ids ...int) error {
			_, err := svc.Crear(ctx, operaciones.CrearInput{ClienteID: clienteID, FacturaIDs: ids})
			return err
		}
		c := env.MustCrearClienteActivo(t, "10000000.00")

		t.Run("crea_pendiente_y_retiene_las_facturas", func(t *testing.T) {
			// Ensure that (change) the invoices of a new operación become
			// EN_PROCESO, that the credit line is not touched, and that the
			// CREADA event records the operation's terms.
			fs, ids := env.MustRegistrarFacturas(t, c.ID, "100000.00", "200000.00")
			op, err := svc.Crear(ctx, operaciones.CrearInput{ClienteID: c.ID, FacturaIDs: []int{ids[1], ids[0]}})
			require.NoError(t, err)
			assert.Equal(t, estado.OperacionPendiente, op.Estado)
			assert.Equal(t, c.ID, op.ClienteID)
			assert.Equal(t, "300000.00", op.MontoTotalFacturas.StringFixed(2))
			assert.Equal(t, "2.00", op.TasaDescuento.StringFixed(2))
			assert.Equal(t, 90, op.DiasDescuento)
			assert.Equal(t, "1500.00", op.MontoDescuento.StringFixed(2))
			assert.Equal(t, "298500.00", op.MontoADesembolsar.StringFixed(2))
			assert.True(t, op.FechaSolicitud.Equal(testkit.Hoy))
			assert.Nil(t, op.FechaAprobacion)

			env.RequireEstadoFacturas(t, estado.FacturaEnProceso, ids...)
			env.RequireLinea(t, c.ID, "10000000.00", "10000000.00")
			linked, err := env.DB.Client.Operacion.QueryFacturas(op).IDs(ctx)
			require.NoError(t, err)
			assert.ElementsMatch(t, ids, linked)

			evs := env.Eventos(t, op.ID)
			require.Len(t, evs, 1)
			e := evs[0]
			assert.Equal(t, estado.EventoCreada, e.Tipo)
			assert.Nil(t, e.EstadoAnterior)
			assert.Equal(t, estado.OperacionPendiente, e.EstadoNuevo)
			assert.Equal(t, map[string]any{
				"facturaIds":         []any{gid.Encode(fs[0].ID), gid.Encode(fs[1].ID)},
				"montoTotalFacturas": "300000.00",
				"tasaDescuento":      "2.00",
				"diasDescuento":      float64(90),
				"montoDescuento":     "1500.00",
				"montoADesembolsar":  "298500.00",
				// The advance at the defaults: the whole face value, no
				// commission, no late interest.
				"porcentajeAnticipo": "100.00",
				"montoAnticipado":    "300000.00",
				"comision":           "0.00",
				"excedente":          "0.00",
				"tasaMora":           "0.00",
			}, e.Detalle)
		})

		t.Run("paso1_facturaIds_vacio", func(t *testing.T) {
			testkit.RequireCode(t, crear(c.ID), apperror.Validation, "facturaIds")
			// Step 1 comes before the cliente is even looked up.
			testkit.RequireCode(t, crear(missingCliente), apperror.Validation, "facturaIds")
		})

		t.Run("paso1_facturaIds_repetidos", func(t *testing.T) {
			_, ids := env.MustRegistrarFacturas(t, c.ID, "10", "20")
			err := crear(missingCliente, ids[0], ids[1], ids[0])
			requireLista(t, err, "facturaIds", []int{ids[0]}, []int{ids[1]})
			env.RequireEstadoFacturas(t, estado.FacturaDisponible, ids...)
		})

		t.Run("paso1_mas_de_500", func(t *testing.T) {
			ids := make([]int, operaciones.MaxFacturas+1)
			for i := range ids {
				ids[i] = 1<<32 + 500_000 + i
			}
			testkit.RequireCode(t, crear(missingCliente, ids...), apperror.Validation, "facturaIds")
		})

		t.Run("exactamente_500_facturas", func(t *testing.T) {
			big := env.MustCrearClienteActivo(t, "1000000")
			montos := make([]string, operaciones.MaxFacturas)
			for i := range montos {
				montos[i] = "1.00"
			}
			_, ids := env.MustRegistrarFacturas(t, big.ID, montos...)
			op := env.MustCrearOperacion(t, big.ID, ids...)
			assert.Equal(t, "500.00", op.MontoTotalFacturas.StringFixed(2))
		})

		t.Run("paso2_cliente_inexistente", func(t *testing.T) {
			testkit.RequireCode(t, crear(missingCliente, missingFactura), apperror.NotFound)
		})

		t.Run("paso2_cliente_no_activo", func(t *testing.T) {
			// Ensure that only an ACTIVO cliente cedes invoices, and that this
			// is checked before the invoices (step 2 before step 3).
			pendiente := env.MustCrearCliente(t, "1000")
			suspendido := env.MustCrearClienteActivo(t, "1000")
			fSusp, _ := env.MustRegistrarFacturas(t, suspendido.ID, "10")
			_, err := env.Svc.Clientes.Suspender(ctx, suspendido.ID, nil)
			require.NoError(t, err)
			bloqueado := env.MustCrearClienteActivo(t, "1000")
			fBloq, _ := env.MustRegistrarFacturas(t, bloqueado.ID, "10")
			_, err = env.Svc.Clientes.Bloquear(ctx, bloqueado.ID, "Fraude")
			require.NoError(t, err)

			testkit.RequireCode(t, crear(pendiente.ID, missingFactura), apperror.Validation, "clienteId")
			testkit.RequireCode(t, crear(suspendido.ID, fSusp[0].ID), apperror.Validation, "clienteId")
			testkit.RequireCode(t, crear(bloqueado.ID, fBloq[0].ID), apperror.Validation, "clienteId")
			env.RequireEstadoFacturas(t, estado.FacturaDisponible, fSusp[0].ID, fBloq[0].ID)
		})

		t.Run("paso3_facturas_inexistentes", func(t *testing.T) {
			_, ids := env.MustRegistrarFacturas(t, c.ID, "10")
			otro := env.MustCrearClienteActivo(t, "1000")
			_, ajenas := env.MustRegistrarFacturas(t, otro.ID, "10")
			// A cliente's id is no factura: it is missing too.
			err := crear(c.ID, ids[0], missingFactura, ajenas[0], c.ID)
			requireLista(t, err, "facturaIds", []int{missingFactura, c.ID}, []int{ids[0], ajenas[0]})
			env.RequireEstadoFacturas(t, estado.FacturaDisponible, ids[0], ajenas[0])
		})

		t.Run("paso3_facturas_de_otro_cliente", func(t *testing.T) {
			_, propias := env.MustRegistrarFacturas(t, c.ID, "10", "20")
			otro := env.MustCrearClienteActivo(t, "1000")
			_, ajenas := env.MustRegistrarFacturas(t, otro.ID, "10", "20")
			err := crear(c.ID, propias[0], ajenas[0], propias[1], ajenas[1])
			requireLista(t, err, "facturaIds", ajenas, propias)
			env.RequireEstadoFacturas(t, estado.FacturaDisponible, append(propias, ajenas...)...)
		})

		t.Run("paso3_facturas_no_disponibles", func(t *testing.T) {
			_, ids := env.MustRegistrarFacturas(t, c.ID, "10", "20", "30", "40", "50")
			disponible, retenida, cedida, pagada, anulada := ids[0], ids[1], ids[2], ids[3], ids[4]
			pendiente := env.MustCrearOperacion(t, c.ID, retenida)
			aprobada := env.MustCrearOperacion(t, c.ID, cedida)
			_, err := svc.Aprobar(ctx, aprobada.ID)
			require.NoError(t, err)
			env.MustPagarTodas(t, pagada)
			_, err = env.Svc.Facturas.Anular(ctx, anulada, nil)
			require.NoError(t, err)

			err = crear(c.ID, ids...)
			requireLista(t, err, "facturaIds", []int{retenida, cedida, pagada, anulada}, []int{disponible})
			env.RequireEstadoFacturas(t, estado.FacturaDisponible, disponible)
			// Each invoice an operación holds names it, so that a client
			// that lost the answer of its own crearOperacion learns where
			// its invoices went.
			appErr, _ := apperror.As(err)
			fields := appErr.Fields["facturaIds"]
			assert.Contains(t, fields, gid.Encode(retenida)+" (EN_PROCESO, en la operación "+gid.Encode(pendiente.ID)+")")
			assert.Contains(t, fields, gid.Encode(cedida)+" (CEDIDA, en la operación "+gid.Encode(aprobada.ID)+")")
			assert.Contains(t, fields, gid.Encode(pagada)+" (PAGADA)")
			assert.Contains(t, fields, gid.Encode(anulada)+" (ANULADA)")
		})

		t.Run("paso3_facturas_vencidas", func(t *testing.T) {
			vencida := env.MustRegistrarFactura(t, c.ID, "10", testkit.Vence(-1))
			hoy := env.MustRegistrarFactura(t, c.ID, "20", testkit.Vence(0))
			err := crear(c.ID, vencida.ID, hoy.ID)
			requireLista(t, err, "facturaIds", []int{vencida.ID}, []int{hoy.ID})
			env.RequireEstadoFacturas(t, estado.FacturaDisponible, vencida.ID, hoy.ID)

			op := env.MustCrearOperacion(t, c.ID, hoy.ID)
			assert.Equal(t, 0, op.DiasDescuento, "an invoice due today may still be ceded")
			assert.Equal(t, "0.00", op.MontoDescuento.StringFixed(2))
			assert.Equal(t, "20.00", op.MontoADesembolsar.StringFixed(2))
		})

		t.Run("una_segunda_operacion_no_puede_retener_la_misma_factura", func(t *testing.T) {
			_, ids := env.MustRegistrarFacturas(t, c.ID, "10", "20")
			first := env.MustCrearOperacion(t, c.ID, ids[0])
			err := crear(c.ID, ids[1], ids[0])
			requireLista(t, err, "facturaIds", []int{ids[0], first.ID}, []int{ids[1]})
			env.RequireEstadoFacturas(t, estado.FacturaDisponible, ids[1])
			holders, err := env.DB.Client.Factura.QueryOperaciones(env.Factura(t, ids[0])).IDs(ctx)
			require.NoError(t, err)
			assert.Equal(t, []int{first.ID}, holders)
		})

		t.Run("un_error_no_deja_filas", func(t *testing.T) {
			vencida := env.MustRegistrarFactura(t, c.ID, "10", testkit.Vence(-3))
			_, ok := env.MustRegistrarFacturas(t, c.ID, "10")
			before := env.Count(t)
			require.Error(t, crear(c.ID, ok[0], vencida.ID))
			assert.Equal(t, before, env.Count(t))
			env.RequireEstadoFacturas(t, estado.FacturaDisponible, ok[0], vencida.ID)
		})

		testkit.RequireVerificado(t, db)
	})
}

// TestCrearMontosAcotados ensures that an operación whose invoices add up
// to more than numeric(15,2) holds is a VALIDATION_ERROR on facturaIds
// that says so (it was the database refusing the row: the right code,
// with a message about "caracteres nulos" and no field), and that the
// discount never exceeds the total: at the default rate the date bounds
// keep it far below (facturas.MaxAniosVencimiento), at a configured rate
// high enough it is refused before the database's CHECK could be.
func TestCrearMontosAcotados(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		c := env.MustCrearClienteActivo(t, "1000")
		max := money.String(money.Max)
		require.Equal(t, "9999999999999.99", max)
		_, ids := env.MustRegistrarFacturas(t, c.ID, max, "0.01")
		_, err := env.Svc.Operaciones.Crear(ctx, operaciones.CrearInput{ClienteID: c.ID, FacturaIDs: ids})
		appErr := testkit.RequireCode(t, err, apperror.Validation, "facturaIds")
		assert.Contains(t, appErr.Fields["facturaIds"], "10000000000000.00")
		assert.Contains(t, appErr.Fields["facturaIds"], "supera el máximo")
		env.RequireEstadoFacturas(t, estado.FacturaDisponible, ids...)

		op := env.MustCrearOperacion(t, c.ID, ids[0])
		assert.Equal(t, max, money.String(op.MontoTotalFacturas), "the largest amount fits")

		// The longest term valid input allows: issued today, due 5 years
		// later. At the default 2 % the discount is about 10 % of it.
		larga := testkit.FacturaInput(c.ID, "1000000.00", testkit.HoyFecha.AddDate(facturas.MaxAniosVencimiento, 0, 0))
		larga.FechaEmision = testkit.HoyFecha
		f, err := env.Svc.Facturas.Registrar(ctx, larga)
		require.NoError(t, err)
		op = env.MustCrearOperacion(t, c.ID, f.ID)
		assert.Equal(t, 1826, op.DiasDescuento)
		assert.True(t, op.MontoDescuento.LessThan(op.MontoTotalFacturas))

		// At 100 %, the highest rate the configuration allows, the same
		// term would discount five times the total.
		cfg := testkit.Config(t)
		cfg.TasaDescuento = testkit.Dec("100.00")
		cara := app.Services(db, cfg, env.Clock)
		f, err = env.Svc.Facturas.Registrar(ctx, larga2(c.ID, larga))
		require.NoError(t, err)
		_, err = cara.Operaciones.Crear(ctx, operaciones.CrearInput{ClienteID: c.ID, FacturaIDs: []int{f.ID}})
		appErr = testkit.RequireCode(t, err, apperror.Validation, "facturaIds")
		assert.Contains(t, appErr.Fields["facturaIds"], "1826 días")
		env.RequireEstadoFacturas(t, estado.FacturaDisponible, f.ID)
		testkit.RequireVerificado(t, db)
	})
}

// larga2 is another invoice like in, with a number of its own.
func larga2(clienteID int, in facturas.RegistrarInput) facturas.RegistrarInput {
	out := testkit.FacturaInput(clienteID, in.MontoTotal.StringFixed(2), in.FechaVencimiento)
	out.FechaEmision = in.FechaEmision
	return out
}
