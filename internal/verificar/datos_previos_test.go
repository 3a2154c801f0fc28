package verificar_test

import (
	"context"
	"strings"
	"testing"

	"ariga.io/atlas/sql/migrate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/eventoauditoria"
	"github.com/banpro/factoring/ent/migrate/migrations"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/testkit"
)

// hastaAntesDeLaAuditoria is the embedded migration directory of dia up
// to, not including, the one that creates the audit trail.
func hastaAntesDeLaAuditoria(t *testing.T, dia string) migrate.Dir {
	t.Helper()
	full, err := migrations.Dir(dia)
	require.NoError(t, err)
	files, err := full.Files()
	require.NoError(t, err)
	dir := &migrate.MemDir{}
	found := false
	for _, f := range files {
		if strings.HasSuffix(f.Name(), "_auditoria.sql") {
			found = true
			break
		}
		require.NoError(t, dir.WriteFile(f.Name(), f.Bytes()))
	}
	require.True(t, found, "the migration that creates eventos_auditoria")
	sum, err := dir.Checksum()
	require.NoError(t, err)
	require.NoError(t, migrate.WriteSumFile(dir, sum))
	return dir
}

// TestDatosPreviosALaAuditoria ensures that a database with data from
// before the audit trail is clean for verificar once migrated: every
// operación event becomes the operación's entry, every cliente and factura
// gets a creation entry that records the state and line it has, by
// sistema; and the services carry on from there.
func TestDatosPreviosALaAuditoria(t *testing.T) {
	for name, empty := range map[string]func(testing.TB) *database.DB{"sqlite": testkit.EmptySQLite, "postgres": testkit.EmptyPostgres} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := empty(t)
			_, err := database.MigrateDir(ctx, db, hastaAntesDeLaAuditoria(t, db.Dialect))
			require.NoError(t, err)

			// The old world, written as the old services left it.
			b := testkit.NewFixture(t, db.Client)
			activo := b.Cliente()
			suspendido := b.Cliente(func(c *ent.ClienteCreate) { c.SetEstado(estado.ClienteSuspendido) })
			libre := b.Factura(activo)
			pagada := b.Factura(activo, func(f *ent.FacturaCreate) { f.SetEstado(estado.FacturaPagada) })
			cedida := b.Factura(activo)
			op := b.Operacion(activo, []*ent.Factura{cedida})
			require.NoError(t, db.Client.Operacion.UpdateOne(op).SetEstado(estado.OperacionAprobada).Exec(ctx))
			require.NoError(t, db.Client.Factura.UpdateOne(cedida).SetEstado(estado.FacturaCedida).Exec(ctx))
			require.NoError(t, db.Client.Cliente.UpdateOne(activo).AddLineaDisponible(cedida.MontoTotal.Neg()).Exec(ctx))
			b.Evento(op, estado.EventoAprobada, testkit.Ptr(estado.OperacionPendiente), estado.OperacionAprobada)

			applied, err := database.Migrate(ctx, db)
			require.NoError(t, err)
			require.NotEmpty(t, applied)
			r := testkit.RequireVerificado(t, db)
			assert.Equal(t, 2+3+2, r.Auditoria, "one entry per cliente, factura and event")

			entradas := func(id int) []*ent.EventoAuditoria {
				evs, err := db.Client.EventoAuditoria.Query().Where(eventoauditoria.EntidadID(id)).
					Order(ent.Asc(eventoauditoria.FieldID)).All(ctx)
				require.NoError(t, err)
				return evs
			}
			for _, c := range []*ent.Cliente{activo, suspendido} {
				evs := entradas(c.ID)
				require.Len(t, evs, 1)
				e := evs[0]
				assert.Equal(t, estado.AudClienteCreado, e.Tipo)
				assert.Equal(t, auth.Sistema, e.Actor)
				assert.Equal(t, "migracion-auditoria", e.RequestID)
				assert.Equal(t, true, e.Detalle["migracion"])
				assert.True(t, e.Fecha.Equal(c.CreadoEn), "dated at its creation")
				assert.Equal(t, string(c.Estado), *e.EstadoNuevo, "the state it had")
				assert.Equal(t, map[string]any{"anterior": nil, "nuevo": "10000000.00"},
					e.Detalle["cambios"].(map[string]any)["lineaCredito"])
			}
			for f, want := range map[int]string{libre.ID: "DISPONIBLE", pagada.ID: "PAGADA", cedida.ID: "CEDIDA"} {
				evs := entradas(f)
				require.Len(t, evs, 1)
				assert.Equal(t, estado.AudFacturaRegistrada, evs[0].Tipo)
				assert.Equal(t, want, *evs[0].EstadoNuevo)
			}
			evs := entradas(op.ID)
			require.Len(t, evs, 2)
			assert.Equal(t, estado.AudOperacionCreada, evs[0].Tipo)
			assert.Equal(t, estado.AudOperacionAprobada, evs[1].Tipo)
			assert.Equal(t, "fixture", evs[1].Actor, "the event's own actor")
			assert.Equal(t, "PENDIENTE", *evs[1].EstadoAnterior)
			assert.Equal(t, true, evs[1].Detalle["fixture"], "the event's detalle, kept")

			// The services carry on over the migrated data.
			env := testkit.NewEnv(t, db)
			_, err = env.Svc.Facturas.Pagar(env.Ctx, cedida.ID)
			require.NoError(t, err)
			_, err = env.Svc.Operaciones.Finalizar(env.Ctx, op.ID)
			require.NoError(t, err)
			_, err = env.Svc.Clientes.Activar(env.Ctx, suspendido.ID)
			require.NoError(t, err)
			_, err = env.Svc.Clientes.AjustarLineaCredito(env.Ctx, activo.ID, testkit.Dec("20000000.00"))
			require.NoError(t, err)
			testkit.RequireVerificado(t, db)
		})
	}
}
