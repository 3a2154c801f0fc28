package database_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"ariga.io/atlas/sql/migrate"
	atlaspg "ariga.io/atlas/sql/postgres"
	atlasschema "ariga.io/atlas/sql/schema"
	atlassqlite "ariga.io/atlas/sql/sqlite"
	"entgo.io/ent/dialect"
	entschema "entgo.io/ent/dialect/sql/schema"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/deudor"
	entmigrate "github.com/banpro/factoring/ent/migrate"
	"github.com/banpro/factoring/ent/migrate/migrations"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/testkit"
)

// eachEmpty runs fn on an empty, unmigrated database of each dialect.
func eachEmpty(t *testing.T, fn func(t *testing.T, db *database.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, testkit.EmptySQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, testkit.EmptyPostgres(t)) })
}

// versions lists the versions of the embedded migrations of dia.
func versions(t *testing.T, dia string) []string {
	t.Helper()
	dir, err := migrations.Dir(dia)
	require.NoError(t, err)
	files, err := dir.Files()
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var vs []string
	for _, f := range files {
		vs = append(vs, f.Version())
	}
	return vs
}

// dirCopy is a writable copy of the embedded migrations of dia.
func dirCopy(t *testing.T, dia string) migrate.Dir {
	t.Helper()
	dir, err := migrations.Dir(dia)
	require.NoError(t, err)
	return dir
}

// rehash rewrites the atlas.sum of dir, as `migrationgen -hash` does.
func rehash(t *testing.T, dir migrate.Dir) {
	t.Helper()
	sum, err := dir.Checksum()
	require.NoError(t, err)
	require.NoError(t, migrate.WriteSumFile(dir, sum))
}

func tableExists(t *testing.T, db *database.DB, name string) bool {
	t.Helper()
	query := `SELECT to_regclass($1) IS NOT NULL`
	if db.Dialect == dialect.SQLite {
		query = `SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?)`
	}
	var ok bool
	require.NoError(t, db.SQL.QueryRowContext(context.Background(), query, name).Scan(&ok))
	return ok
}

func TestMigrate(t *testing.T) {
	t.Run("FreshDatabase", func(t *testing.T) {
		// Ensure that a fresh database gets every migration, in order, and
		// that the status then shows everything applied and nothing pending.
		eachEmpty(t, func(t *testing.T, db *database.DB) {
			ctx := context.Background()
			all := versions(t, db.Dialect)

			before, err := database.MigrationStatus(ctx, db)
			require.NoError(t, err)
			assert.Empty(t, before.Applied)
			assert.Equal(t, all, before.Pending)
			assert.Empty(t, before.Current)

			applied, err := database.Migrate(ctx, db)
			require.NoError(t, err)
			assert.Equal(t, all, applied)

			st, err := database.MigrationStatus(ctx, db)
			require.NoError(t, err)
			assert.Equal(t, all, st.Applied)
			assert.Empty(t, st.Pending)
			assert.Equal(t, all[len(all)-1], st.Current)
			n, err := database.Pending(ctx, db)
			require.NoError(t, err)
			assert.Zero(t, n)
		})
	})

	t.Run("Idempotent", func(t *testing.T) {
		// Ensure that migrating an up-to-date database applies nothing and
		// records nothing.
		eachEmpty(t, func(t *testing.T, db *database.DB) {
			ctx := context.Background()
			_, err := database.Migrate(ctx, db)
			require.NoError(t, err)
			again, err := database.Migrate(ctx, db)
			require.NoError(t, err)
			assert.Empty(t, again)
			var n int
			require.NoError(t, db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM "+database.RevisionsTable).Scan(&n))
			assert.Equal(t, len(versions(t, db.Dialect)), n)
		})
	})

	t.Run("RevisionRecorded", func(t *testing.T) {
		// Ensure that every applied file leaves a complete Atlas revision.
		eachEmpty(t, func(t *testing.T, db *database.DB) {
			ctx := context.Background()
			_, err := database.Migrate(ctx, db)
			require.NoError(t, err)
			var (
				version, desc, hash, operator string
				typ, applied, total           int
				executedAt                    time.Time
			)
			require.NoError(t, db.SQL.QueryRowContext(ctx, `SELECT version, description, type, applied, total,
				executed_at, hash, operator_version FROM `+database.RevisionsTable+` ORDER BY version LIMIT 1`).
				Scan(&version, &desc, &typ, &applied, &total, &executedAt, &hash, &operator))
			assert.Equal(t, versions(t, db.Dialect)[0], version)
			assert.Equal(t, "inicial", desc)
			assert.Equal(t, int(migrate.RevisionTypeExecute), typ)
			assert.Positive(t, total)
			assert.Equal(t, total, applied)
			assert.WithinDuration(t, time.Now(), executedAt, time.Minute)
			assert.NotEmpty(t, hash)
			assert.Contains(t, operator, "ariga.io/atlas")
		})
	})

	t.Run("TamperedDirRefused", func(t *testing.T) {
		// Ensure that a directory not matching its atlas.sum is refused
		// before anything runs.
		eachEmpty(t, func(t *testing.T, db *database.DB) {
			dir := dirCopy(t, db.Dialect)
			files, err := dir.Files()
			require.NoError(t, err)
			require.NoError(t, dir.WriteFile(files[0].Name(), append(files[0].Bytes(), "\n-- retocada\n"...)))

			applied, err := database.MigrateDir(context.Background(), db, dir)
			require.Error(t, err)
			assert.ErrorIs(t, err, migrate.ErrChecksumMismatch)
			assert.Contains(t, err.Error(), "atlas.sum")
			assert.Contains(t, err.Error(), files[0].Name()+" editado")
			assert.Empty(t, applied)
			assert.False(t, tableExists(t, db, "clientes"))
			assert.False(t, tableExists(t, db, database.RevisionsTable))
		})
	})

	t.Run("FailedMigrationRolledBack", func(t *testing.T) {
		// Ensure that a failing file is named in the error and leaves
		// nothing behind: neither its first statements nor a revision.
		eachEmpty(t, func(t *testing.T, db *database.DB) {
			ctx := context.Background()
			dir := dirCopy(t, db.Dialect)
			require.NoError(t, dir.WriteFile("29991231000000_rota.sql", []byte(
				"CREATE TABLE rota_parcial (id integer);\nINSERT INTO tabla_inexistente VALUES (1);\n")))
			rehash(t, dir)

			applied, err := database.MigrateDir(ctx, db, dir)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "la migración 29991231000000_rota falló")
			assert.Contains(t, err.Error(), "tabla_inexistente")
			assert.Equal(t, versions(t, db.Dialect), applied, "the good migrations before it stay applied")
			assert.False(t, tableExists(t, db, "rota_parcial"))

			st, err := database.MigrationStatus(ctx, db)
			require.NoError(t, err)
			assert.Equal(t, versions(t, db.Dialect), st.Applied)
			n, err := database.Pending(ctx, db)
			require.NoError(t, err)
			assert.Zero(t, n, "the embedded directory has no broken file")
		})
	})

	t.Run("ConcurrentMigratorsApplyOnce", func(t *testing.T) {
		// Ensure that migrators racing on one database apply each file once.
		eachEmpty(t, func(t *testing.T, db *database.DB) {
			ctx := context.Background()
			const workers = 8
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				start   = make(chan struct{})
				applied []string
				errs    []error
			)
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					vs, err := database.Migrate(ctx, db)
					mu.Lock()
					defer mu.Unlock()
					applied = append(applied, vs...)
					if err != nil {
						errs = append(errs, err)
					}
				}()
			}
			close(start)
			wg.Wait()
			require.Empty(t, errs)
			// Each file once, by whichever migrator got there first; the
			// migrators may return in any order.
			assert.ElementsMatch(t, versions(t, db.Dialect), applied)
			var n int
			require.NoError(t, db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM "+database.RevisionsTable).Scan(&n))
			assert.Equal(t, len(versions(t, db.Dialect)), n)
		})
	})

	t.Run("EventosSoloInsercion", func(t *testing.T) {
		// Ensure that the hand-written trigger migration (a PL/pgSQL body in
		// dollar quotes, a SQLite BEGIN … END block) is split correctly and
		// makes operacion_eventos append-only for the application's own
		// connection: UPDATE and DELETE (and TRUNCATE in PostgreSQL) fail.
		testkit.EachDB(t, func(t *testing.T, db *database.DB) {
			ctx := context.Background()
			c := mustCrearCliente(t, db.Client, "76.086.428-5", "1000", "1000")
			now := time.Now()
			o, err := db.Client.Operacion.Create().SetClienteID(c.ID).SetFechaSolicitud(now).
				SetMontoTotalFacturas(testkit.Dec("100")).SetTasaDescuento(testkit.Dec("2")).SetDiasDescuento(30).
				SetMontoDescuento(testkit.Dec("2")).SetMontoADesembolsar(testkit.Dec("98")).
				SetCreadoEn(now).SetActualizadoEn(now).Save(ctx)
			require.NoError(t, err)
			e, err := db.Client.OperacionEvento.Create().SetOperacionID(o.ID).SetTipo(estado.EventoCreada).
				SetFecha(now).SetEstadoNuevo(estado.OperacionPendiente).SetRequestID("req-1").
				SetActor("test").SetDetalle(map[string]any{}).Save(ctx)
			require.NoError(t, err)

			_, err = db.SQL.ExecContext(ctx, "UPDATE operacion_eventos SET actor = 'otro' WHERE id = $1", e.ID)
			require.Error(t, err, "UPDATE must be refused")
			assert.Contains(t, err.Error(), "solo inserción")
			err = db.Client.OperacionEvento.DeleteOneID(e.ID).Exec(ctx)
			require.Error(t, err, "DELETE must be refused")
			assert.Contains(t, err.Error(), "solo inserción")
			_, err = db.SQL.ExecContext(ctx, "DELETE FROM operacion_eventos")
			require.Error(t, err, "DELETE of every row must be refused")
			if db.Dialect == dialect.Postgres {
				_, err = db.SQL.ExecContext(ctx, "TRUNCATE operacion_eventos")
				require.Error(t, err, "TRUNCATE must be refused")
				assert.Contains(t, err.Error(), "solo inserción")
			}
			n, err := db.Client.OperacionEvento.Query().Count(ctx)
			require.NoError(t, err)
			assert.Equal(t, 1, n, "the event is still there, unchanged")
			got, err := db.Client.OperacionEvento.Get(ctx, e.ID)
			require.NoError(t, err)
			assert.Equal(t, "test", got.Actor)
		})
	})

	t.Run("NotCleanDatabaseRefused", func(t *testing.T) {
		// Ensure that a database with tables but no migration history (e.g.
		// one made by ent's auto-migration) is refused, not migrated over.
		eachEmpty(t, func(t *testing.T, db *database.DB) {
			ctx := context.Background()
			_, err := db.SQL.ExecContext(ctx, "CREATE TABLE ajena (id integer)")
			require.NoError(t, err)
			_, err = database.Migrate(ctx, db)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "no está vacía")
			assert.False(t, tableExists(t, db, "clientes"))
		})
	})
}

func TestMigratedSchema(t *testing.T) {
	t.Run("GlobalIDRanges", func(t *testing.T) {
		// Ensure that every type's ids start right after the start of its
		// 2^32 range (ent's globalid), the same on both dialects: the first
		// Factura is 4294967297.
		testkit.EachDB(t, func(t *testing.T, db *database.DB) {
			ctx := context.Background()
			c := mustCrearCliente(t, db.Client, "76.086.428-5", "1000000", "1000000")
			assert.Equal(t, 1, c.ID)

			f, err := nuevaFactura(t, db.Client, c.ID, "F-1", "500000").Save(ctx)
			require.NoError(t, err)
			assert.Equal(t, 4294967297, f.ID)
			assert.Equal(t, firstID(entmigrate.FacturasTable), f.ID)

			now := time.Now()
			o, err := db.Client.Operacion.Create().SetClienteID(c.ID).SetFechaSolicitud(now).
				SetMontoTotalFacturas(testkit.Dec("500000")).SetTasaDescuento(testkit.Dec("2.5")).SetDiasDescuento(30).
				SetMontoDescuento(testkit.Dec("12500")).SetMontoADesembolsar(testkit.Dec("487500")).
				SetCreadoEn(now).SetActualizadoEn(now).Save(ctx)
			require.NoError(t, err)
			assert.Equal(t, firstID(entmigrate.OperacionesTable), o.ID)

			e, err := db.Client.OperacionEvento.Create().SetOperacionID(o.ID).SetTipo(estado.EventoCreada).
				SetFecha(now).SetEstadoNuevo(estado.OperacionPendiente).SetRequestID("req-1").
				SetActor("test").SetDetalle(map[string]any{}).Save(ctx)
			require.NoError(t, err)
			assert.Equal(t, firstID(entmigrate.OperacionEventosTable), e.ID)

			assert.Equal(t, firstID(entmigrate.DeudoresTable), f.DeudorID)
			assert.Equal(t, 292057776129, f.DeudorID, "deudores take the range 68·2^32")
		})
	})

	t.Run("ChecksEnforced", func(t *testing.T) {
		// Ensure that the CHECK constraints of the ent schema hold in the
		// database itself.
		testkit.EachDB(t, func(t *testing.T, db *database.DB) {
			ctx := context.Background()
			_, err := nuevoCliente(db.Client, "76.086.428-5", "1000", "1001").Save(ctx)
			requireConstraint(t, err, "clientes_linea_disponible_en_rango")

			_, err = nuevoCliente(db.Client, "76.086.428-5", "-1", "0").Save(ctx)
			requireConstraint(t, err, "clientes_linea_credito_no_negativa")

			c := mustCrearCliente(t, db.Client, "76.086.428-5", "1000", "1000")
			for _, monto := range []string{"0", "-1"} {
				_, err = nuevaFactura(t, db.Client, c.ID, "F-"+monto, monto).Save(ctx)
				requireConstraint(t, err, "facturas_monto_total_positivo")
			}
			_, err = nuevaFactura(t, db.Client, c.ID, "F-1", "10").
				SetFechaVencimiento(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)).Save(ctx)
			requireConstraint(t, err, "facturas_vencimiento_tras_emision")
			_, err = nuevaFactura(t, db.Client, c.ID, "F-1", "10").
				SetFechaRecepcion(time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)).Save(ctx)
			requireConstraint(t, err, "facturas_recepcion_desde_emision")
			_, err = nuevoCliente(db.Client, "76.086.428-5", "1000", "1000").SetConcentracionMaxima(testkit.Dec("100.01")).Save(ctx)
			requireConstraint(t, err, "clientes_concentracion_en_rango")
			now := time.Now()
			_, err = db.Client.Deudor.Create().SetRut("77.777.777-7").SetRazonSocial("Deudor Dos").
				SetLineaExposicion(testkit.Dec("-0.01")).SetCreadoEn(now).SetActualizadoEn(now).Save(ctx)
			requireConstraint(t, err, "deudores_linea_exposicion_no_negativa")
		})
	})

	t.Run("UniqueRut", func(t *testing.T) {
		// Ensure that two clientes cannot share a RUT, nor a cliente two
		// facturas with one número.
		testkit.EachDB(t, func(t *testing.T, db *database.DB) {
			ctx := context.Background()
			c := mustCrearCliente(t, db.Client, "76.086.428-5", "1000", "1000")
			_, err := nuevoCliente(db.Client, "76.086.428-5", "1000", "1000").Save(ctx)
			require.Error(t, err)
			assert.True(t, ent.IsConstraintError(err), "%v", err)

			_, err = nuevaFactura(t, db.Client, c.ID, "F-1", "10").Save(ctx)
			require.NoError(t, err)
			_, err = nuevaFactura(t, db.Client, c.ID, "F-1", "10").Save(ctx)
			require.Error(t, err)
			assert.True(t, ent.IsConstraintError(err), "%v", err)
		})
	})

	t.Run("EveryCheckAndIndexPresent", func(t *testing.T) {
		// Ensure that every CHECK and index the ent schema declares exists,
		// by name, in the migrated database.
		testkit.EachDB(t, func(t *testing.T, db *database.DB) {
			s := inspect(t, db)
			for _, et := range entmigrate.Tables {
				at, ok := s.Table(et.Name)
				require.True(t, ok, "table %s", et.Name)
				if et.Annotation != nil {
					for name := range et.Annotation.Checks {
						assert.True(t, hasCheck(at, name), "check %s on %s", name, et.Name)
					}
				}
				for _, idx := range et.Indexes {
					got, ok := at.Index(idx.Name)
					if assert.True(t, ok, "index %s on %s", idx.Name, et.Name) {
						assert.Equal(t, idx.Unique, got.Unique, "index %s unique", idx.Name)
					}
				}
				for _, c := range et.Columns {
					if c.Unique {
						assert.True(t, hasUniqueOn(at, c.Name), "unique %s.%s", et.Name, c.Name)
					}
				}
			}
		})
	})
}

// firstID is the first id a table hands out: right after the start of its
// global-id range.
func firstID(t *entschema.Table) int { return *t.Annotation.IncrementStart + 1 }

func nuevoCliente(c *ent.Client, rut, linea, disponible string) *ent.ClienteCreate {
	now := time.Now()
	return c.Cliente.Create().SetRut(rut).SetRazonSocial("Comercial Prueba SpA").
		SetEmail("finanzas@prueba.cl").SetFechaRegistro(now).
		SetLineaCredito(testkit.Dec(linea)).SetLineaDisponible(testkit.Dec(disponible)).
		SetCreadoEn(now).SetActualizadoEn(now)
}

func mustCrearCliente(t *testing.T, c *ent.Client, rut, linea, disponible string) *ent.Cliente {
	t.Helper()
	cl, err := nuevoCliente(c, rut, linea, disponible).Save(context.Background())
	require.NoError(t, err)
	return cl
}

func nuevaFactura(t *testing.T, c *ent.Client, clienteID int, numero, monto string) *ent.FacturaCreate {
	t.Helper()
	now := time.Now()
	emision := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return c.Factura.Create().SetClienteID(clienteID).SetNumeroFactura(numero).
		SetDeudorID(deudorDePrueba(t, c).ID).
		SetRutDeudor("76.543.210-3").SetRazonSocialDeudor("Deudor SA").SetMontoTotal(testkit.Dec(monto)).
		SetFechaEmision(emision).SetFechaRecepcion(emision).
		SetFechaVencimiento(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)).
		SetCreadoEn(now).SetActualizadoEn(now)
}

// deudorDePrueba is the deudor of nuevaFactura's facturas, created the
// first time.
func deudorDePrueba(t *testing.T, c *ent.Client) *ent.Deudor {
	t.Helper()
	ctx := context.Background()
	d, err := c.Deudor.Query().Where(deudor.Rut("76.543.210-3")).Only(ctx)
	if ent.IsNotFound(err) {
		now := time.Now()
		d, err = c.Deudor.Create().SetRut("76.543.210-3").SetRazonSocial("Deudor SA").
			SetCreadoEn(now).SetActualizadoEn(now).Save(ctx)
	}
	require.NoError(t, err)
	return d
}

// requireConstraint requires err to be ent's constraint error naming the
// constraint.
func requireConstraint(t *testing.T, err error, name string) {
	t.Helper()
	require.Error(t, err, "expected %s to reject the row", name)
	assert.True(t, ent.IsConstraintError(err), "%v", err)
	assert.Contains(t, err.Error(), name)
}

// inspect reads the migrated schema back with Atlas.
func inspect(t *testing.T, db *database.DB) *atlasschema.Schema {
	t.Helper()
	var (
		drv migrate.Driver
		err error
	)
	if db.Dialect == dialect.Postgres {
		drv, err = atlaspg.Open(db.SQL)
	} else {
		drv, err = atlassqlite.Open(db.SQL)
	}
	require.NoError(t, err)
	s, err := drv.InspectSchema(context.Background(), "", nil)
	require.NoError(t, err)
	return s
}

func hasCheck(t *atlasschema.Table, name string) bool {
	for _, a := range t.Attrs {
		if c, ok := a.(*atlasschema.Check); ok && c.Name == name {
			return true
		}
	}
	return false
}

func hasUniqueOn(t *atlasschema.Table, column string) bool {
	for _, idx := range t.Indexes {
		if idx.Unique && len(idx.Parts) == 1 && idx.Parts[0].C != nil && idx.Parts[0].C.Name == column {
			return true
		}
	}
	return false
}
