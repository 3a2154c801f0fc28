package facturas_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/testkit"
)

// TestPagarContraAnularConcurrente ensures that paying and voiding one
// DISPONIBLE invoice at the same instant never both succeed: the row lock
// serializes them, exactly one wins and the other sees the winner's state
// and is a CONFLICT.
func TestPagarContraAnularConcurrente(t *testing.T) {
	db := testkit.Postgres(t)
	env := testkit.NewEnv(t, db)
	c := env.MustCrearClienteActivo(t, "1000000")
	const rounds = 20
	start := time.Now()
	wins := map[estado.Factura]int{}
	total := map[string]int{}
	for range rounds {
		f := env.MustRegistrarFactura(t, c.ID, "1000", testkit.Vence(30))
		errs := testkit.Race(2, func(i int) error {
			var err error
			if i == 0 {
				_, err = env.Svc.Facturas.Pagar(ctx, f.ID)
			} else {
				_, err = env.Svc.Facturas.Anular(ctx, f.ID, testkit.Ptr("Carrera"))
			}
			return err
		})
		tally := testkit.Tally(errs)
		require.Equal(t, map[string]int{"OK": 1, string(apperror.Conflict): 1}, tally, "errors: %v", errs)
		stored := env.Factura(t, f.ID)
		if errs[0] == nil {
			assert.Equal(t, estado.FacturaPagada, stored.Estado)
			assert.Nil(t, stored.MotivoAnulacion)
			assert.Contains(t, errs[1].Error(), "estado PAGADA", "the loser names the winner's state")
		} else {
			assert.Equal(t, estado.FacturaAnulada, stored.Estado)
			assert.Contains(t, errs[0].Error(), "estado ANULADA")
		}
		wins[stored.Estado]++
		for k, v := range tally {
			total[k] += v
		}
	}
	testkit.RequireVerificado(t, db)
	t.Logf("pagarFactura contra anularFactura: %d rondas en %v: %v; gana pagar %d, gana anular %d; reintentos %d",
		rounds, time.Since(start).Round(time.Millisecond), total, wins[estado.FacturaPagada], wins[estado.FacturaAnulada], db.Retries())
}
