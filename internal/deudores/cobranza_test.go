package deudores_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/facturas"
	"github.com/banpro/factoring/internal/testkit"
)

// TestExposicionPorSaldo ensures that a deudor's exposure is the unpaid
// saldo of its ceded facturas: a partial payment lowers it (and the
// approval's limit counts the saldo, not the face value), a factura put
// back to its cliente (EN_RECOMPRA) still counts, one bought back
// (RECOMPRADA) no longer does; and that Deudor.cartera holds exactly those
// facturas, its buckets adding up to the exposure.
func TestExposicionPorSaldo(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		ctx := env.Ctx
		rut := testkit.NewRUT()
		a, b := env.MustCrearClienteActivo(t, "10000000.00"), env.MustCrearClienteActivo(t, "10000000.00")
		registrar := func(cliente int, monto string, vence time.Time) int {
			f, err := env.Svc.Facturas.Registrar(ctx, testkit.FacturaInputDe(cliente, rut, monto, vence))
			require.NoError(t, err)
			return f.ID
		}
		f1, f2 := registrar(a.ID, "700.00", testkit.Vence(10)), registrar(b.ID, "300.00", testkit.Vence(10))
		d := env.DeudorDe(t, f1)
		for _, op := range []int{env.MustCrearOperacion(t, a.ID, f1).ID, env.MustCrearOperacion(t, b.ID, f2).ID} {
			_, err := env.Svc.Operaciones.Aprobar(ctx, op)
			require.NoError(t, err)
		}
		exp := func() string { return env.Exposicion(t, d.ID) }
		cartera := func() facturas.Cartera {
			cs, err := facturas.CarteraDeDeudores(ctx, db.Client, []int{d.ID})
			require.NoError(t, err)
			return *cs[0]
		}
		suma := func(c facturas.Cartera) (string, int) {
			m, n := c.Vigente.Monto, c.Vigente.Cantidad
			for _, tr := range []facturas.Tramo{c.Mora1a30, c.Mora31a60, c.Mora61a90, c.MoraMas90} {
				m, n = m.Add(tr.Monto), n+tr.Cantidad
			}
			return m.StringFixed(2), n
		}
		require.Equal(t, "1000.00", exp())

		_, err := env.Svc.Facturas.RegistrarPago(ctx, facturas.RegistrarPagoInput{FacturaID: f1, Monto: testkit.Dec("200.00"), Fecha: testkit.HoyFecha})
		require.NoError(t, err)
		assert.Equal(t, "800.00", exp(), "a partial payment lowers it")
		c := cartera()
		assert.Equal(t, "800.00", c.Vigente.Monto.StringFixed(2))
		assert.Equal(t, 2, c.Vigente.Cantidad, "across both clientes")

		// The limit counts the saldo: 800.00 + 150.00 fits a line of 950.00
		// (counting face values it would be 1150.00), and a cent less does not.
		_, err = env.Svc.Deudores.FijarLineaExposicion(ctx, d.ID, testkit.Ptr(testkit.Dec("949.99")))
		require.NoError(t, err)
		nueva := env.MustCrearOperacion(t, a.ID, registrar(a.ID, "150.00", testkit.Vence(10)))
		_, err = env.Svc.Operaciones.Aprobar(ctx, nueva.ID)
		testkit.RequireCode(t, err, apperror.Validation, "lineaExposicion")
		_, err = env.Svc.Deudores.FijarLineaExposicion(ctx, d.ID, testkit.Ptr(testkit.Dec("950.00")))
		require.NoError(t, err)
		_, err = env.Svc.Operaciones.Aprobar(ctx, nueva.ID)
		require.NoError(t, err)
		assert.Equal(t, "950.00", exp())

		// 45 days later f2 has 35 days of mora: put back to its cliente it
		// still counts; bought back it no longer does.
		env.Clock.Set(time.Date(2027, 1, 10, 12, 0, 0, 0, testkit.Santiago))
		_, err = env.Svc.Facturas.Cerrar(ctx)
		require.NoError(t, err)
		m, n := suma(cartera())
		assert.Equal(t, [2]any{"950.00", 3}, [2]any{m, n}, "the buckets add up to the exposure")
		assert.Equal(t, 3, cartera().Mora31a60.Cantidad)
		exigida, err := env.Svc.Facturas.ExigirRecompra(ctx, f2)
		require.NoError(t, err)
		require.Equal(t, estado.FacturaEnRecompra, exigida.Estado)
		assert.Equal(t, "950.00", exp(), "EN_RECOMPRA still owes its saldo")
		_, err = env.Svc.Facturas.RegistrarRecompra(ctx, f2, testkit.Dec("300.00"), time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC))
		require.NoError(t, err)
		assert.Equal(t, "650.00", exp(), "RECOMPRADA is no longer at risk")
		m, n = suma(cartera())
		assert.Equal(t, [2]any{"650.00", 2}, [2]any{m, n})
		testkit.RequireVerificado(t, db)
	})
}
