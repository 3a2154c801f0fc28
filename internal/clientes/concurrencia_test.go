package clientes_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent/cliente"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/rut"
	"github.com/banpro/factoring/internal/testkit"
)

// TestCrearMismoRUTConcurrente ensures that clientes created at the same
// instant with one RUT, each request spelling it differently, give exactly
// one cliente: every other request is a CONFLICT on rut (the unique index
// caught the race), never an INTERNAL_ERROR.
func TestCrearMismoRUTConcurrente(t *testing.T) {
	db := testkit.Postgres(t)
	env := testkit.NewEnv(t, db)
	const rounds = 30
	start := time.Now()
	total := map[string]int{}
	for range rounds {
		b := testkit.Body()
		spellings := testkit.Spellings(b)
		errs := testkit.Race(len(spellings), func(i int) error {
			in := testkit.ClienteInput("1000")
			in.Rut = spellings[i]
			_, err := env.Svc.Clientes.Crear(ctx, in)
			return err
		})
		tally := testkit.Tally(errs)
		require.Equal(t, map[string]int{"OK": 1, string(apperror.Conflict): len(spellings) - 1}, tally, "errors: %v", errs)
		for _, err := range errs {
			if err != nil {
				testkit.RequireCode(t, err, apperror.Conflict, "rut")
			}
		}
		n, err := db.Client.Cliente.Query().Where(cliente.Rut(rut.Format(b, rut.CheckDigit(b)))).Count(ctx)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		for k, v := range tally {
			total[k] += v
		}
	}
	testkit.RequireVerificado(t, db)
	t.Logf("crearCliente mismo RUT: %d rondas × %d grafías en %v: %v, reintentos %d",
		rounds, len(testkit.Spellings(1_000_000)), time.Since(start).Round(time.Millisecond), total, db.Retries())
}
