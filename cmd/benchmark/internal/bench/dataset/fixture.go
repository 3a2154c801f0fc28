package dataset

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"entgo.io/ent/dialect"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/shopspring/decimal"

	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/money"
	"github.com/banpro/factoring/internal/rut"
)

// ErrNotPostgres is LoadDB's answer on SQLite.
var ErrNotPostgres = errors.New("el dataset del benchmark solo se carga en PostgreSQL (postgres://…); SQLite no lo admite")

// LoadDB is Load over the API's own database handle, for
// `benchmark seed` and the tests: it borrows one pgx connection from
// db's pool. It refuses SQLite with ErrNotPostgres.
func LoadDB(ctx context.Context, db *database.DB, cfg Config) (Summary, error) {
	if db.Dialect != dialect.Postgres {
		return Summary{}, ErrNotPostgres
	}
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		return Summary{}, fmt.Errorf("dataset: obtener una conexión: %w", err)
	}
	defer conn.Close()
	var sum Summary
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("dataset: la conexión %T no es de pgx", dc)
		}
		var err error
		sum, err = Load(ctx, c.Conn(), cfg)
		return err
	})
	return sum, err
}

// ContentionConfig shapes the contention fixture (scenario M2).
type ContentionConfig struct {
	// Operaciones is how many PENDIENTE operaciones the cliente has
	// (default 200), each holding one invoice of Monto.
	Operaciones int
	// Cubiertas is how many of them the cliente's line covers (default 50):
	// lineaCredito = lineaDisponible = Cubiertas × Monto.
	Cubiertas int
	// Monto is each invoice's amount (default 1,000,000.00).
	Monto decimal.Decimal
	// Now, TimeZone and Tasa as in Config.
	Now      time.Time
	TimeZone *time.Location
	Tasa     decimal.Decimal
}

// Contention is the fixture NewContention wrote.
type Contention struct {
	ClienteID    int
	OperacionIDs []int
	Monto        decimal.Decimal
	LineaCredito decimal.Decimal
}

// NewContention adds to a loaded database one ACTIVO cliente with
// cfg.Operaciones PENDIENTE operaciones (one EN_PROCESO invoice each, with
// their CREADA events) whose line covers exactly cfg.Cubiertas of them:
// scenario M2, where of concurrent approvals only the covered ones may
// pass. Ids come from the identity sequences, so it can run any number of
// times on one database.
func NewContention(ctx context.Context, db DB, cfg ContentionConfig) (Contention, error) {
	if cfg.Operaciones == 0 {
		cfg.Operaciones = 200
	}
	if cfg.Cubiertas == 0 {
		cfg.Cubiertas = 50
	}
	if cfg.Monto.IsZero() {
		cfg.Monto = decimal.RequireFromString("1000000.00")
	}
	if cfg.Operaciones < 1 || cfg.Cubiertas < 0 || cfg.Cubiertas > cfg.Operaciones || !cfg.Monto.IsPositive() {
		return Contention{}, fmt.Errorf("dataset: contención inválida: %d operaciones, %d cubiertas, monto %s",
			cfg.Operaciones, cfg.Cubiertas, cfg.Monto)
	}
	base, err := Config{Clientes: 1, Now: cfg.Now, TimeZone: cfg.TimeZone, Tasa: cfg.Tasa}.withDefaults()
	if err != nil {
		return Contention{}, err
	}
	k := cfg.Operaciones
	clienteIDs, err := nextIDs(ctx, db, "clientes", 1)
	if err != nil {
		return Contention{}, err
	}
	facturaIDs, err := nextIDs(ctx, db, "facturas", k)
	if err != nil {
		return Contention{}, err
	}
	opIDs, err := nextIDs(ctx, db, "operaciones", k)
	if err != nil {
		return Contention{}, err
	}
	eventoIDs, err := nextIDs(ctx, db, "operacion_eventos", k)
	if err != nil {
		return Contention{}, err
	}

	now := base.Now
	hoy := clock.Today(now, base.TimeZone)
	montoCents := cfg.Monto.Shift(2).IntPart()
	linea := montoCents * int64(cfg.Cubiertas)
	body := 60_000_000 + clienteIDs[0]%30_000_000
	c := &cliente{
		id: clienteIDs[0], rut: rut.Format(body, rut.CheckDigit(body)),
		razon: fmt.Sprintf("Contención %d SpA", clienteIDs[0]), email: fmt.Sprintf("contencion%d@bench.cl", clienteIDs[0]),
		estado: estado.ClienteActivo, creado: now.Add(-30 * day), actualizado: now.Add(-30 * day),
		credito: linea, disponible: linea,
	}
	d := &data{cfg: base, hoy: hoy, clientes: []*cliente{c}, deudores: []string{rut.Format(firstDeudorBody, rut.CheckDigit(firstDeudorBody))}}
	vencimiento := hoy.AddDate(0, 0, 90)
	out := Contention{ClienteID: c.id, Monto: cfg.Monto.Round(2), LineaCredito: decimal.New(linea, -2)}
	for i := range k {
		sol := now.Add(-day + time.Duration(i)*time.Second)
		f := &factura{
			id: facturaIDs[i], cliente: c, numero: fmt.Sprintf("C-%05d", i+1), monto: montoCents,
			emision: hoy.AddDate(0, 0, -5), vencimiento: vencimiento, estado: estado.FacturaEnProceso,
			creado: sol.Add(-time.Hour), actualizado: sol,
		}
		dias := clock.DaysBetween(clock.Today(sol, base.TimeZone), vencimiento)
		o := &operacion{
			id: opIDs[i], cliente: c, facturas: []*factura{f}, solicitud: sol, total: montoCents, dias: dias,
			descuento: money.Descuento(cfg.Monto, base.Tasa, dias).Shift(2).IntPart(),
			estado:    estado.OperacionPendiente, actualizado: sol,
			facturaIDs: []string{gid.Encode(f.id)},
		}
		e := &evento{id: eventoIDs[i], op: o, tipo: estado.EventoCreada, fecha: sol, nuevo: estado.OperacionPendiente}
		d.facturas = append(d.facturas, f)
		d.ops = append(d.ops, o)
		d.eventos = append(d.eventos, e)
		out.OperacionIDs = append(out.OperacionIDs, o.id)
	}
	if _, err := d.write(ctx, db); err != nil {
		return Contention{}, err
	}
	return out, nil
}

// nextIDs draws n ids from table's identity sequence.
func nextIDs(ctx context.Context, db DB, table string, n int) ([]int, error) {
	rows, err := db.Query(ctx, fmt.Sprintf("SELECT nextval(pg_get_serial_sequence('%s', 'id')) FROM generate_series(1, $1)", table), n)
	if err != nil {
		return nil, fmt.Errorf("dataset: ids de %s: %w", table, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("dataset: ids de %s: %w", table, err)
	}
	return ids, nil
}

// TopUpConfig shapes AddCedibles.
type TopUpConfig struct {
	// Facturas is how many DISPONIBLE facturas to add.
	Facturas int
	// Seed, Now and TimeZone as in Config.
	Seed     uint64
	Now      time.Time
	TimeZone *time.Location
}

// AddCedibles registers cfg.Facturas more DISPONIBLE, not overdue facturas
// spread over the ACTIVO clientes, and raises each one's credit line (both
// lineaCredito and lineaDisponible, as ajustarLineaCredito does) by what it
// got, rounded up to a million, so that crearOperacion plus
// aprobarOperacion over every one of them fits. The benchmark's M1
// scenario consumes cedible facturas; this refills them between runs.
func AddCedibles(ctx context.Context, db DB, cfg TopUpConfig) error {
	if cfg.Facturas <= 0 {
		return nil
	}
	base, err := Config{Clientes: 1, Seed: cfg.Seed, Now: cfg.Now, TimeZone: cfg.TimeZone}.withDefaults()
	if err != nil {
		return err
	}
	rows, err := db.Query(ctx, "SELECT id FROM clientes WHERE estado = 'ACTIVO' ORDER BY id")
	if err != nil {
		return fmt.Errorf("dataset: clientes activos: %w", err)
	}
	clienteIDs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return fmt.Errorf("dataset: clientes activos: %w", err)
	}
	if len(clienteIDs) == 0 {
		return errors.New("dataset: no hay clientes ACTIVO a los que agregar facturas")
	}
	ids, err := nextIDs(ctx, db, "facturas", cfg.Facturas)
	if err != nil {
		return err
	}
	g := &generator{r: rand.New(rand.NewPCG(base.Seed, uint64(ids[0]))), now: base.Now, loc: base.TimeZone}
	g.hoy = g.date(g.now)
	d := &data{cfg: base, hoy: g.hoy, deudores: []string{rut.Format(firstDeudorBody, rut.CheckDigit(firstDeudorBody))}}
	added := make(map[int]int64, len(clienteIDs))
	clientes := make(map[int]*cliente, len(clienteIDs))
	for i, id := range ids {
		cid := clienteIDs[i%len(clienteIDs)]
		c := clientes[cid]
		if c == nil {
			c = &cliente{id: cid}
			clientes[cid] = c
		}
		f := &factura{id: id, cliente: c, numero: fmt.Sprintf("R-%d", id), monto: g.monto(), estado: estado.FacturaDisponible}
		f.creado = g.ago(time.Hour, 30*day)
		f.actualizado = f.creado
		f.emision = g.date(f.creado).AddDate(0, 0, -g.days(1, 10))
		f.vencimiento = g.hoy.AddDate(0, 0, g.days(60, 540))
		d.facturas = append(d.facturas, f)
		added[cid] += f.monto
	}
	var (
		lineIDs []int64
		deltas  []pgtype.Numeric
	)
	for _, cid := range clienteIDs {
		if sum, ok := added[cid]; ok {
			lineIDs = append(lineIDs, int64(cid))
			deltas = append(deltas, numeric((sum+lineStepCents-1)/lineStepCents*lineStepCents))
		}
	}

	tx, err := db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("dataset: iniciar transacción: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	// Each raised line gets its CLIENTE_LINEA_AJUSTADA audit entry, as
	// ajustarLineaCredito would write it.
	if _, err := tx.Exec(ctx, `WITH upd AS (
		UPDATE clientes c
		SET linea_credito = c.linea_credito + u.delta, linea_disponible = c.linea_disponible + u.delta, actualizado_en = $3
		FROM unnest($1::bigint[], $2::numeric[]) AS u(id, delta) WHERE c.id = u.id
		RETURNING c.id, c.linea_credito, c.linea_disponible, u.delta)
		INSERT INTO eventos_auditoria (entidad, entidad_id, cliente_id, tipo, fecha, request_id, actor, detalle)
		SELECT 'CLIENTE', id, id, 'CLIENTE_LINEA_AJUSTADA', $3, 'dataset-' || $3::text, 'sistema',
			jsonb_build_object('cambios', jsonb_build_object(
				'lineaCredito', jsonb_build_object('anterior', (linea_credito - delta)::text, 'nuevo', linea_credito::text),
				'lineaDisponible', jsonb_build_object('anterior', (linea_disponible - delta)::text, 'nuevo', linea_disponible::text)))
		FROM upd ORDER BY id`, lineIDs, deltas, base.Now); err != nil {
		return fmt.Errorf("dataset: ampliar líneas: %w", err)
	}
	if err := d.escribirDeudores(ctx, tx); err != nil {
		return err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"facturas"}, facturaColumns, pgx.CopyFromSlice(len(d.facturas), d.facturaRow)); err != nil {
		return fmt.Errorf("dataset: copiar facturas: %w", err)
	}
	if err := auditoriaPrevia(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("dataset: confirmar: %w", err)
	}
	return nil
}
