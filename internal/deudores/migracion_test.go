package deudores_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/deudor"
	"github.com/banpro/factoring/ent/eventoauditoria"
	"github.com/banpro/factoring/ent/factura"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/testkit"
)

// TestMigracionConDatos ensures that the migration that brings in the
// deudores works on a database holding data: migrated up to the migration
// before it, loaded with clientes, facturas (some RUTs on several
// facturas, under different razones sociales) and operaciones as the
// services of that version left them (with their audit entries), and then
// migrated to the end. Each distinct RUT becomes one deudor, named as its
// most recent factura names it, created when its first factura was, with
// its DEUDOR_CREADO entry; every factura is linked to the deudor of its
// RUT, received the day it was issued, its acuse PENDIENTE; verificar finds
// nothing, the exposure counts the approved operación, and the services
// carry on: a new factura of a migrated RUT joins its deudor, a new RUT gets
// the next id of the deudores' range, the limits apply.
func TestMigracionConDatos(t *testing.T) {
	for name, empty := range map[string]func(testing.TB) *database.DB{"sqlite": testkit.EmptySQLite, "postgres": testkit.EmptyPostgres} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := empty(t)
			_, err := database.MigrateDir(ctx, db, testkit.MigracionesHasta(t, db.Dialect, "_deudores.sql"))
			require.NoError(t, err)

			// Today's data, as the previous version's services left it.
			const rutA, rutB, rutC = "76.543.210-3", "77.777.777-7", "88.888.888-8"
			b := testkit.NewAntiguo(t, db)
			alpha, beta := b.Cliente(estado.ClienteActivo), b.Cliente(estado.ClienteActivo)
			primeraA := b.Factura(alpha, rutA, "Deudor A Ltda", "100000.00", estado.FacturaDisponible)
			primeraAEn := b.Now
			b.Factura(beta, rutB, "Deudor B SpA", "200000.00", estado.FacturaPagada)
			cedida := b.Factura(beta, rutC, "Deudor C SA", "300000.00", estado.FacturaDisponible)
			aprobada := b.Operacion(beta, "300000.00", cedida)
			b.Exec("UPDATE operaciones SET estado = ?, fecha_aprobacion = ? WHERE id = ?", string(estado.OperacionAprobada), b.Now, aprobada)
			b.Exec("UPDATE facturas SET estado = ? WHERE id = ?", string(estado.FacturaCedida), cedida)
			b.Exec("UPDATE clientes SET linea_disponible = linea_disponible - 300000 WHERE id = ?", beta)
			b.Evento(aprobada, estado.EventoAprobada, testkit.Ptr(estado.OperacionPendiente), estado.OperacionAprobada)
			retenida := b.Factura(alpha, rutA, "Deudor A SpA", "400000.00", estado.FacturaDisponible) // the most recent of rutA
			pendiente := b.Operacion(alpha, "400000.00", retenida)
			// Their audit entries, as the migration that began the trail
			// gives them (it skips rows that have theirs).
			b.Migracion("_auditoria_datos_previos.sql")
			var antes struct{ facturas, entradas int }
			require.NoError(t, db.SQL.QueryRowContext(ctx, "SELECT count(*), max(id) FROM facturas").Scan(&antes.facturas, new(int)))
			require.NoError(t, db.SQL.QueryRowContext(ctx, "SELECT max(id) FROM eventos_auditoria").Scan(&antes.entradas))

			applied, err := database.Migrate(ctx, db)
			require.NoError(t, err)
			require.Len(t, applied, 2, "the deudores and their entries")

			ds, err := db.Client.Deudor.Query().Order(ent.Asc(deudor.FieldID)).All(ctx)
			require.NoError(t, err)
			require.Len(t, ds, 3, "one per distinct RUT")
			porRut := map[string]*ent.Deudor{}
			for _, d := range ds {
				porRut[d.Rut] = d
				assert.Equal(t, estado.DeudorActivo, d.Estado)
				assert.Nil(t, d.LineaExposicion)
			}
			assert.Equal(t, "Deudor A SpA", porRut[rutA].RazonSocial, "named as its most recent factura names it")
			assert.True(t, porRut[rutA].CreadoEn.Equal(primeraAEn), "created with its first factura: %s", porRut[rutA].CreadoEn)
			assert.Equal(t, "Deudor B SpA", porRut[rutB].RazonSocial)
			assert.Equal(t, 68<<32+1, ds[0].ID, "the deudores' range")

			fs, err := db.Client.Factura.Query().All(ctx)
			require.NoError(t, err)
			require.Len(t, fs, antes.facturas)
			for _, f := range fs {
				assert.Equal(t, porRut[f.RutDeudor].ID, f.DeudorID, "factura %s", f.NumeroFactura)
				assert.True(t, f.FechaRecepcion.Equal(f.FechaEmision), "received the day it was issued")
				assert.Equal(t, estado.AcusePendiente, f.EstadoAcuse)
			}
			for _, d := range ds {
				evs, err := db.Client.EventoAuditoria.Query().Where(eventoauditoria.DeudorID(d.ID)).All(ctx)
				require.NoError(t, err)
				require.Len(t, evs, 1)
				e := evs[0]
				assert.Equal(t, estado.AudDeudorCreado, e.Tipo)
				assert.Equal(t, auth.Sistema, e.Actor)
				assert.Equal(t, "migracion-deudores", e.RequestID)
				assert.Equal(t, true, e.Detalle["migracion"])
				assert.True(t, e.Fecha.Equal(d.CreadoEn))
				assert.Greater(t, e.ID, antes.entradas)
			}
			r := testkit.RequireVerificado(t, db)
			assert.Equal(t, 3, r.Deudores)

			// The services carry on over the migrated data.
			env := testkit.NewEnv(t, db)
			assert.Equal(t, "300000.00", env.Exposicion(t, porRut[rutC].ID), "the approved operación's factura")
			assert.Equal(t, "0.00", env.Exposicion(t, porRut[rutA].ID), "a pending operación does not count")
			_, err = env.Svc.Deudores.FijarLineaExposicion(ctx, porRut[rutA].ID, testkit.Ptr(testkit.Dec("399999.99")))
			require.NoError(t, err)
			_, err = env.Svc.Operaciones.Aprobar(ctx, pendiente)
			testkit.RequireCode(t, err, apperror.Validation, "lineaExposicion")
			_, err = env.Svc.Deudores.FijarLineaExposicion(ctx, porRut[rutA].ID, testkit.Ptr(testkit.Dec("400000.00")))
			require.NoError(t, err)
			_, err = env.Svc.Operaciones.Aprobar(ctx, pendiente)
			require.NoError(t, err)

			nueva := env.MustRegistrarFacturaDe(t, alpha, "76543210-3", "10.00")
			assert.Equal(t, porRut[rutA].ID, nueva.DeudorID, "a migrated RUT keeps its deudor")
			assert.Greater(t, nueva.ID, primeraA)
			assert.Less(t, nueva.ID, 2<<32, "in the facturas' range")
			otra := env.MustRegistrarFactura(t, beta, "10.00", testkit.Vence(30))
			assert.Equal(t, 68<<32+4, otra.DeudorID, "the next deudor continues the range")
			n, err := db.Client.Factura.Query().Where(factura.DeudorID(porRut[rutA].ID)).Count(ctx)
			require.NoError(t, err)
			assert.Equal(t, 3, n)

			// The rebuilt audit trail is still append-only.
			_, err = db.SQL.ExecContext(ctx, "UPDATE eventos_auditoria SET actor = 'otro'")
			require.Error(t, err)
			assert.Contains(t, err.Error(), "solo inserción")
			_, err = db.SQL.ExecContext(ctx, "DELETE FROM eventos_auditoria")
			require.Error(t, err)
			testkit.RequireVerificado(t, db)
		})
	}
}
