package verificar_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect/sql"

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

			// The old world, written as the old services left it, in the
			// columns the tables had then (the fixture writes today's).
			b := testkit.NewFixture(t, db.Client)
			old := viejoMundo{t: t, db: db, b: b}
			activo := old.cliente(estado.ClienteActivo)
			suspendido := old.cliente(estado.ClienteSuspendido)
			libre := old.factura(activo, estado.FacturaDisponible)
			pagada := old.factura(activo, estado.FacturaPagada)
			cedida := old.factura(activo, estado.FacturaEnProceso)
			op := old.operacion(activo, cedida)
			b.Evento(op, estado.EventoCreada, nil, estado.OperacionPendiente)
			old.exec(sql.Dialect(db.Dialect).Update("operaciones").Set("estado", string(estado.OperacionAprobada)).Where(sql.EQ("id", op.ID)))
			old.exec(sql.Dialect(db.Dialect).Update("facturas").Set("estado", string(estado.FacturaCedida)).Where(sql.EQ("id", cedida.ID)))
			old.exec(sql.Dialect(db.Dialect).Update("clientes").Set("linea_disponible", "9000000.00").Where(sql.EQ("id", activo.ID)))
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

// viejoMundo writes rows in the columns the tables had before the audit
// trail, with SQL of the database's dialect: the fixture writes every
// column the schema has today, which an old database lacks.
type viejoMundo struct {
	t  *testing.T
	db *database.DB
	b  *testkit.Fixture
	n  int
}

func (o *viejoMundo) exec(q interface{ Query() (string, []any) }) {
	o.t.Helper()
	query, args := q.Query()
	_, err := o.db.SQL.ExecContext(context.Background(), query, args...)
	require.NoError(o.t, err, query)
}

// insert adds a row and returns the id the database gave it.
func (o *viejoMundo) insert(table string, cols []string, vals ...any) int {
	o.t.Helper()
	o.n++
	query, args := sql.Dialect(o.db.Dialect).Insert(table).Columns(cols...).Values(vals...).Returning("id").Query()
	var id int
	require.NoError(o.t, o.db.SQL.QueryRowContext(context.Background(), query, args...).Scan(&id), query)
	return id
}

func (o *viejoMundo) cliente(e estado.Cliente) *ent.Cliente {
	o.t.Helper()
	now := o.b.Now.Add(time.Duration(o.n+1) * time.Second)
	id := o.insert("clientes", []string{"rut", "razon_social", "email", "fecha_registro", "linea_credito", "linea_disponible",
		"estado", "creado_en", "actualizado_en"},
		testkit.NewRUT(), fmt.Sprintf("Antigua %d SpA", o.n+1), "a@antigua.cl", now, "10000000.00", "10000000.00", string(e), now, now)
	return &ent.Cliente{ID: id, Estado: e, CreadoEn: now}
}

func (o *viejoMundo) factura(c *ent.Cliente, e estado.Factura) *ent.Factura {
	o.t.Helper()
	now := o.b.Now.Add(time.Duration(o.n+1) * time.Second)
	id := o.insert("facturas", []string{"cliente_id", "numero_factura", "rut_deudor", "razon_social_deudor", "monto_total",
		"fecha_emision", "fecha_vencimiento", "estado", "creado_en", "actualizado_en"},
		c.ID, fmt.Sprintf("A-%03d", o.n+1), testkit.NewRUT(), "Deudor SpA", "1000000.00",
		time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), string(e), now, now)
	return &ent.Factura{ID: id, Estado: e}
}

func (o *viejoMundo) operacion(c *ent.Cliente, fs ...*ent.Factura) *ent.Operacion {
	o.t.Helper()
	now := o.b.Now.Add(time.Duration(o.n+1) * time.Second)
	id := o.insert("operaciones", []string{"cliente_id", "fecha_solicitud", "monto_total_facturas", "tasa_descuento",
		"dias_descuento", "monto_descuento", "monto_a_desembolsar", "estado", "creado_en", "actualizado_en"},
		c.ID, now, fmt.Sprintf("%d.00", 1000000*len(fs)), "2.00", 90, fmt.Sprintf("%d.00", 5000*len(fs)),
		fmt.Sprintf("%d.00", 995000*len(fs)), string(estado.OperacionPendiente), now, now)
	for _, f := range fs {
		o.exec(sql.Dialect(o.db.Dialect).Insert("operacion_facturas").Columns("operacion_id", "factura_id").Values(id, f.ID))
	}
	return &ent.Operacion{ID: id}
}
