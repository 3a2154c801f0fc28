package verificar_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/eventoauditoria"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/testkit"
)

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
			_, err := database.MigrateDir(ctx, db, testkit.MigracionesHasta(t, db.Dialect, "_auditoria.sql"))
			require.NoError(t, err)

			// The old world, written as the old services left it (plain
			// SQL: the ent client names every column the schema has now).
			b := testkit.NewAntiguo(t, db)
			activoID := b.Cliente(estado.ClienteActivo)
			suspendidoID := b.Cliente(estado.ClienteSuspendido)
			libreID := b.Factura(activoID, "76.543.210-3", "Deudor SpA", "1000000.00", estado.FacturaDisponible)
			pagadaID := b.Factura(activoID, "76.543.210-3", "Deudor SpA", "1000000.00", estado.FacturaPagada)
			cedidaID := b.Factura(activoID, "77.777.777-7", "Deudor Dos SpA", "1000000.00", estado.FacturaDisponible)
			opID := b.Operacion(activoID, "1000000.00", cedidaID)
			b.Exec("UPDATE operaciones SET estado = ? WHERE id = ?", string(estado.OperacionAprobada), opID)
			b.Exec("UPDATE facturas SET estado = ? WHERE id = ?", string(estado.FacturaCedida), cedidaID)
			b.Exec("UPDATE clientes SET linea_disponible = linea_disponible - 1000000 WHERE id = ?", activoID)
			b.Evento(opID, estado.EventoAprobada, testkit.Ptr(estado.OperacionPendiente), estado.OperacionAprobada)

			applied, err := database.Migrate(ctx, db)
			require.NoError(t, err)
			require.NotEmpty(t, applied)
			r := testkit.RequireVerificado(t, db)
			assert.Equal(t, 2+3+2+2, r.Auditoria, "one entry per cliente, factura, event and deudor")
			activo, err := db.Client.Cliente.Get(ctx, activoID)
			require.NoError(t, err)
			suspendido, err := db.Client.Cliente.Get(ctx, suspendidoID)
			require.NoError(t, err)

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
			for f, want := range map[int]string{libreID: "DISPONIBLE", pagadaID: "PAGADA", cedidaID: "CEDIDA"} {
				evs := entradas(f)
				require.Len(t, evs, 1)
				assert.Equal(t, estado.AudFacturaRegistrada, evs[0].Tipo)
				assert.Equal(t, want, *evs[0].EstadoNuevo)
			}
			evs := entradas(opID)
			require.Len(t, evs, 2)
			assert.Equal(t, estado.AudOperacionCreada, evs[0].Tipo)
			assert.Equal(t, estado.AudOperacionAprobada, evs[1].Tipo)
			assert.Equal(t, "antiguo", evs[1].Actor, "the event's own actor")
			assert.Equal(t, "PENDIENTE", *evs[1].EstadoAnterior)
			assert.Equal(t, true, evs[1].Detalle["antiguo"], "the event's detalle, kept")

			// The services carry on over the migrated data.
			env := testkit.NewEnv(t, db)
			_, err = env.Svc.Facturas.Pagar(env.Ctx, cedidaID)
			require.NoError(t, err)
			_, err = env.Svc.Operaciones.Finalizar(env.Ctx, opID)
			require.NoError(t, err)
			_, err = env.Svc.Clientes.Activar(env.Ctx, suspendido.ID)
			require.NoError(t, err)
			_, err = env.Svc.Clientes.AjustarLineaCredito(env.Ctx, activo.ID, testkit.Dec("20000000.00"))
			require.NoError(t, err)
			testkit.RequireVerificado(t, db)
		})
	}
}
