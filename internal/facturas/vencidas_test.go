package facturas_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/app"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/testkit"
)

// Ensure that the overdue job moves exactly the DISPONIBLE and CEDIDA
// invoices due before today (in Santiago) to VENCIDA, leaves every other
// state and date alone, is idempotent, and keeps the invariants.
func TestMarcarVencidas(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		e := testkit.NewEnv(t, db)
		c := e.MustCrearClienteActivo(t, "10000000.00")
		disponible := e.MustRegistrarFactura(t, c.ID, "1000.00", testkit.Vence(5))
		venceHoy := e.MustRegistrarFactura(t, c.ID, "1000.00", testkit.Vence(7))
		noVence := e.MustRegistrarFactura(t, c.ID, "1000.00", testkit.Vence(10))
		enProceso := e.MustRegistrarFactura(t, c.ID, "1000.00", testkit.Vence(5))
		cedida := e.MustRegistrarFactura(t, c.ID, "1000.00", testkit.Vence(5))
		pagada := e.MustRegistrarFactura(t, c.ID, "1000.00", testkit.Vence(5))
		anulada := e.MustRegistrarFactura(t, c.ID, "1000.00", testkit.Vence(5))
		e.MustCrearOperacion(t, c.ID, enProceso.ID)
		aprobada := e.MustCrearOperacion(t, c.ID, cedida.ID)
		_, err := e.Svc.Operaciones.Aprobar(e.Ctx, aprobada.ID)
		require.NoError(t, err)
		e.MustPagarTodas(t, pagada.ID)
		_, err = e.Svc.Facturas.Anular(e.Ctx, anulada.ID, nil)
		require.NoError(t, err)

		e.Clock.Advance(7 * 24 * time.Hour) // today is now Vence(7)
		n, err := e.Svc.Facturas.MarcarVencidas(e.Ctx, testkit.Santiago)
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		e.RequireEstadoFacturas(t, estado.FacturaVencida, disponible.ID, cedida.ID)
		e.RequireEstadoFacturas(t, estado.FacturaDisponible, venceHoy.ID, noVence.ID)
		e.RequireEstadoFacturas(t, estado.FacturaEnProceso, enProceso.ID)
		e.RequireEstadoFacturas(t, estado.FacturaPagada, pagada.ID)
		e.RequireEstadoFacturas(t, estado.FacturaAnulada, anulada.ID)

		n, err = e.Svc.Facturas.MarcarVencidas(e.Ctx, testkit.Santiago)
		require.NoError(t, err)
		assert.Equal(t, 0, n, "a second run finds nothing new")

		_, err = e.Svc.Facturas.Pagar(e.Ctx, cedida.ID)
		require.NoError(t, err, "a VENCIDA invoice can still be paid")
		e.RequireEstadoFacturas(t, estado.FacturaPagada, cedida.ID)
		testkit.RequireVerificado(t, db)
	})
}

// Ensure that the overdue job reads the clock once: the instant it stamps
// the invoices with is the one whose date decided they were overdue. Its
// clock moves a day on every read, so a second reading would stamp the
// invoices a day after the date it judged them by.
func TestMarcarVencidasUnInstante(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		e := testkit.NewEnv(t, db)
		c := e.MustCrearClienteActivo(t, "10000000.00")
		ayer := e.MustRegistrarFactura(t, c.ID, "1000.00", testkit.Vence(6))
		hoy := e.MustRegistrarFactura(t, c.ID, "1000.00", testkit.Vence(7))

		start := testkit.Hoy.AddDate(0, 0, 7) // today is Vence(7)
		svc := app.Services(db, testkit.Config(t), clock.NewStepping(start, 24*time.Hour)).Facturas
		n, err := svc.MarcarVencidas(e.Ctx, testkit.Santiago)
		require.NoError(t, err)
		assert.Equal(t, 1, n, "only the invoice due before the day of the first reading")
		e.RequireEstadoFacturas(t, estado.FacturaVencida, ayer.ID)
		e.RequireEstadoFacturas(t, estado.FacturaDisponible, hoy.ID)
		got := e.Factura(t, ayer.ID).ActualizadoEn
		assert.True(t, got.Equal(start), "stamped %s, judged on %s", got, start)
	})
}
