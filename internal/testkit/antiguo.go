// Rows of an older schema, written with plain SQL: for the tests of a data
// migration, which load a database migrated part of the way with the data
// it held then, and apply the rest. The ent client cannot write them: it
// names every column the schema has now.

package testkit

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"ariga.io/atlas/sql/migrate"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent/migrate/migrations"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/money"
)

// MigracionesHasta is the embedded migration directory of db's dialect up
// to, not including, the first file whose name ends in suffix (such as
// "_deudores.sql"), with its atlas.sum.
func MigracionesHasta(t testing.TB, dialect, suffix string) migrate.Dir {
	t.Helper()
	full, err := migrations.Dir(dialect)
	require.NoError(t, err)
	files, err := full.Files()
	require.NoError(t, err)
	dir := &migrate.MemDir{}
	found := false
	for _, f := range files {
		if strings.HasSuffix(f.Name(), suffix) {
			found = true
			break
		}
		require.NoError(t, dir.WriteFile(f.Name(), f.Bytes()))
	}
	require.True(t, found, "no migration ends in %s", suffix)
	sum, err := dir.Checksum()
	require.NoError(t, err)
	require.NoError(t, migrate.WriteSumFile(dir, sum))
	return dir
}

// Antiguo writes clientes, facturas, operaciones and their events as the
// services wrote them before deudores existed (the columns of the initial
// schema only), one second apart, like Fixture.
type Antiguo struct {
	t  testing.TB
	db *database.DB
	// Now is the instant of the next row; it advances one second per row.
	Now time.Time
	seq int
}

// NewAntiguo returns a writer of old rows into db, starting at 2026-01-05
// 12:00 UTC.
func NewAntiguo(t testing.TB, db *database.DB) *Antiguo {
	return &Antiguo{t: t, db: db, Now: time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)}
}

func (a *Antiguo) tick() time.Time {
	a.seq++
	a.Now = a.Now.Add(time.Second)
	return a.Now
}

// insert writes one row and returns its id.
func (a *Antiguo) insert(table string, cols []string, vals ...any) int {
	a.t.Helper()
	q, args := entsql.Dialect(a.db.Dialect).Insert(table).Columns(cols...).Values(vals...).Returning("id").Query()
	var id int
	require.NoError(a.t, a.db.SQL.QueryRowContext(context.Background(), q, args...).Scan(&id), "insert into %s", table)
	return id
}

// Exec runs one statement of the old world (an UPDATE of a state, say),
// with ? placeholders on either dialect.
func (a *Antiguo) Exec(query string, args ...any) {
	a.t.Helper()
	_, err := a.db.SQL.ExecContext(context.Background(), a.bind(query), args...)
	require.NoError(a.t, err)
}

// Cliente writes a cliente in state e with a 10,000,000.00 line, all of
// it available, and a fresh RUT; it returns its id.
func (a *Antiguo) Cliente(e estado.Cliente) int {
	a.t.Helper()
	now := a.tick()
	linea := Dec("10000000.00")
	return a.insert("clientes",
		[]string{"rut", "razon_social", "email", "fecha_registro", "linea_credito", "linea_disponible", "estado", "creado_en", "actualizado_en"},
		NewRUT(), fmt.Sprintf("Empresa Antigua %03d SpA", a.seq), fmt.Sprintf("antigua%03d@ejemplo.cl", a.seq), now,
		linea, linea, string(e), now, now)
}

// Factura writes a factura of cliente, owed by rutDeudor under
// razonSocialDeudor, for monto, in state e, issued on 2026-01-02 and due on
// 2026-12-31; it returns its id.
func (a *Antiguo) Factura(clienteID int, rutDeudor, razonSocialDeudor, monto string, e estado.Factura) int {
	a.t.Helper()
	now := a.tick()
	return a.insert("facturas",
		[]string{"cliente_id", "numero_factura", "rut_deudor", "razon_social_deudor", "monto_total", "fecha_emision",
			"fecha_vencimiento", "estado", "creado_en", "actualizado_en"},
		clienteID, fmt.Sprintf("A-%05d", a.seq), rutDeudor, razonSocialDeudor, Dec(monto),
		time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), string(e), now, now)
}

// Operacion writes a PENDIENTE operación of cliente over facturaIDs (which
// become EN_PROCESO), whose total is total, at 2.00 % for 90 days, with its
// CREADA event; it returns its id.
func (a *Antiguo) Operacion(clienteID int, total string, facturaIDs ...int) int {
	a.t.Helper()
	now := a.tick()
	tasa := Dec("2.00")
	descuento := money.Descuento(Dec(total), tasa, 90)
	id := a.insert("operaciones",
		[]string{"cliente_id", "fecha_solicitud", "monto_total_facturas", "tasa_descuento", "dias_descuento", "monto_descuento",
			"monto_a_desembolsar", "estado", "creado_en", "actualizado_en"},
		clienteID, now, Dec(total), tasa, 90, descuento, Dec(total).Sub(descuento), string(estado.OperacionPendiente), now, now)
	for _, f := range facturaIDs {
		q, args := entsql.Dialect(a.db.Dialect).Insert("operacion_facturas").Columns("operacion_id", "factura_id").Values(id, f).Query()
		a.Exec(q, args...)
		a.Exec("UPDATE facturas SET estado = ? WHERE id = ?", string(estado.FacturaEnProceso), f)
	}
	a.Evento(id, estado.EventoCreada, nil, estado.OperacionPendiente)
	return id
}

// Evento appends an event to an operación's trail.
func (a *Antiguo) Evento(opID int, tipo estado.TipoEvento, anterior *estado.Operacion, nuevo estado.Operacion) {
	a.t.Helper()
	now := a.tick()
	var prev any
	if anterior != nil {
		prev = string(*anterior)
	}
	a.insert("operacion_eventos",
		[]string{"operacion_id", "tipo", "fecha", "estado_anterior", "estado_nuevo", "request_id", "actor", "detalle"},
		opID, string(tipo), now, prev, string(nuevo), fmt.Sprintf("antiguo-%d", a.seq), "antiguo", `{"antiguo": true}`)
}

// bind turns ? placeholders into the dialect's.
func (a *Antiguo) bind(q string) string {
	if a.db.Dialect != "postgres" {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Migracion runs, as plain statements, the embedded migration whose file
// name ends in suffix: for the data migrations written to run again over
// rows that lack what they add (the audit entries of rows from before the
// trail), to give the old world's rows what the migrations so far gave the
// rows there were.
func (a *Antiguo) Migracion(suffix string) {
	a.t.Helper()
	dir, err := migrations.Dir(a.db.Dialect)
	require.NoError(a.t, err)
	files, err := dir.Files()
	require.NoError(a.t, err)
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), suffix) {
			continue
		}
		stmts, err := migrate.Stmts(string(f.Bytes()))
		require.NoError(a.t, err)
		for _, st := range stmts {
			_, err := a.db.SQL.ExecContext(context.Background(), st.Text)
			require.NoError(a.t, err, "%s", f.Name())
		}
		return
	}
	a.t.Fatalf("no migration ends in %s", suffix)
}
