package operaciones_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/testkit"
)

// TestCuatroOjosEnElServicio: the rule lives in operaciones.Aprobar, for
// every caller: the principal in the context is the approver.
func TestCuatroOjosEnElServicio(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		ana := auth.NewContext(context.Background(), auth.Principal{Subject: "ana", Roles: []auth.Role{auth.Admin}})
		beto := auth.NewContext(context.Background(), auth.Principal{Subject: "beto", Roles: []auth.Role{auth.Riesgo}})
		env.Ctx = ana
		c := env.MustCrearClienteActivo(t, "1000000")
		op, ids := env.MustOperacionPendiente(t, c.ID, "1000.00")
		require.Equal(t, "ana", env.Eventos(t, op.ID)[0].Actor)

		before := env.Snapshot(t)
		_, err := env.Svc.Operaciones.Aprobar(ana, op.ID)
		testkit.RequireCode(t, err, apperror.Forbidden)
		assert.Equal(t, before, env.Snapshot(t))
		env.RequireLinea(t, c.ID, "1000000.00", "1000000.00")
		env.RequireEstadoFacturas(t, estado.FacturaEnProceso, ids...)

		_, err = env.Svc.Operaciones.Aprobar(beto, op.ID)
		require.NoError(t, err)
		env.RequireLinea(t, c.ID, "1000000.00", "999000.00")

		// With authentication disabled there is no principal, and nobody
		// to tell apart: the check is skipped, as the audit trail's anonimo.
		env.Ctx = context.Background()
		op2, _ := env.MustOperacionPendiente(t, c.ID, "1000.00")
		_, err = env.Svc.Operaciones.Aprobar(context.Background(), op2.ID)
		require.NoError(t, err)
	})
}
