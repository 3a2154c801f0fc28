// Package dataset fills an empty, migrated PostgreSQL database with the
// benchmark's large dataset: by default 2,000 clientes, 100,000 facturas,
// 20,000 operaciones holding 60,000 facturas and about 60,000 events, all
// consistent with the domain's invariants (internal/verificar passes on
// it). It writes with COPY (pgx.CopyFrom) in one transaction, so the whole
// set loads in seconds.
//
// The data is deterministic for a given seed and reference date: every draw
// comes from one seeded PCG generator, and every instant and date is an
// offset from Config.Now, so the shape (states, amounts, links, which
// facturas are still cedible) is the same on every run, today or in a year.
//
// Rows get explicit ids in each type's global id range (clientes from 1,
// facturas from 2^32+1, operaciones from 2^33+1, events from 3·2^32+1), in
// creation order, and the identity sequences are moved past them, so the
// API's later inserts continue the ranges. Deudores, one per RUT, take
// theirs from their sequence when they are new (an added fixture's facturas
// may name a deudor the database has). Every factura is received the day it
// is issued; each deudor is created with its first factura.
//
// The rows get their audit entries, and the paid invoices their payments,
// the way rows that predate the audit trail and collections do: by running
// the migrations that write them (*_auditoria_datos_previos.sql,
// *_deudores_datos_previos.sql, *_cobranza_datos_previos.sql).
//
// The package imports pgx, the ent-generated id ranges (through gid), the
// embedded migrations and the domain's small shared packages (money,
// estado, rut, clock); it never goes through ent or the domain services.
package dataset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"

	"github.com/banpro/factoring/ent/migrate/migrations"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/money"
	"github.com/banpro/factoring/internal/rut"
)

// The fixed shape of each cliente: 50 facturas, 10 operaciones holding 30 of
// them (two blocks whose sizes are a permutation of 1..5), the other 20 free.
const (
	FacturasPorCliente    = 50
	OperacionesPorCliente = 10
	LinksPorCliente       = 30
)

// Defaults of Config.
const (
	DefaultClientes = 2000
	DefaultSeed     = 1
)

// Actor and request id prefix of every event the loader writes.
const (
	Actor           = "sistema"
	RequestIDPrefix = "seed-"
)

// DB is what the loader writes through: a *pgx.Conn, a *pgxpool.Pool or a
// pgx.Tx all satisfy it.
type DB interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Config shapes the dataset. The zero value is the benchmark's dataset as of
// now.
type Config struct {
	// Clientes is the number of clientes (default 2,000); facturas,
	// operaciones and events scale with it.
	Clientes int
	// Seed seeds the generator (default 1).
	Seed uint64
	// Now is the reference instant (default time.Now()): every date is an
	// offset from it, and nothing happens after it.
	Now time.Time
	// TimeZone is the business time zone that decides "today" (default
	// America/Santiago, as the API's default).
	TimeZone *time.Location
	// Tasa is the discount rate in percent the operaciones were priced at
	// (default 2.00, the API's default).
	Tasa decimal.Decimal
}

func (c Config) withDefaults() (Config, error) {
	if c.Clientes == 0 {
		c.Clientes = DefaultClientes
	}
	if c.Clientes < 0 || c.Clientes > 1_000_000 {
		return c, fmt.Errorf("dataset: %d clientes fuera de rango (1..1000000)", c.Clientes)
	}
	if c.Seed == 0 {
		c.Seed = DefaultSeed
	}
	if c.Now.IsZero() {
		c.Now = time.Now()
	}
	c.Now = c.Now.UTC().Truncate(time.Microsecond)
	if c.TimeZone == nil {
		loc, err := time.LoadLocation("America/Santiago")
		if err != nil {
			return c, fmt.Errorf("dataset: zona horaria: %w", err)
		}
		c.TimeZone = loc
	}
	if c.Tasa.IsZero() {
		c.Tasa = decimal.RequireFromString("2.00")
	}
	return c, nil
}

// Summary describes what Load wrote.
type Summary struct {
	Clientes, Facturas, Operaciones, Links, Eventos int

	ClientesPorEstado    map[estado.Cliente]int
	FacturasPorEstado    map[estado.Factura]int
	OperacionesPorEstado map[estado.Operacion]int

	// Cedibles counts the facturas crearOperacion accepts today: DISPONIBLE,
	// not overdue, of an ACTIVO cliente.
	Cedibles int
	// Hoy is the business date the data was generated for.
	Hoy time.Time
	// Generate is the time spent building the rows in memory, Copy the
	// time spent writing them (COPY, sequences, commit), Analyze the time
	// of the VACUUM (ANALYZE) that follows. Backfill is the part of Copy
	// spent in the migrations that bring the loaded rows up to later rules
	// (audit trail, deudores, payments: auditoriaPrevia).
	Generate, Copy, Analyze, Backfill time.Duration
}

// Total is the whole load time.
func (s Summary) Total() time.Duration { return s.Generate + s.Copy + s.Analyze }

// ErrNotEmpty is returned when the database already has clientes.
var ErrNotEmpty = errors.New("dataset: la base de datos ya tiene clientes; el dataset del benchmark se carga solo en una base vacía")

// Load generates the dataset and writes it into db, which must be migrated
// and empty, in one transaction; then it runs VACUUM (ANALYZE) on the five
// tables so the planner sees the new sizes at once and the first reads find
// the rows as settled as in a long-lived database.
func Load(ctx context.Context, db DB, cfg Config) (Summary, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Summary{}, err
	}
	var exists bool
	if err := db.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM clientes)").Scan(&exists); err != nil {
		return Summary{}, fmt.Errorf("dataset: comprobar que la base está vacía: %w", err)
	}
	if exists {
		return Summary{}, ErrNotEmpty
	}

	// The generated rows stay live until the COPY ends (about 19 KB per
	// cliente, 370 MB for 20,000): collect more often than the default
	// while they are, so that the heap does not grow to twice that.
	defer debug.SetGCPercent(debug.SetGCPercent(loadGCPercent))

	start := time.Now()
	d := generate(cfg)
	sum := d.summary()
	sum.Generate = time.Since(start)

	start = time.Now()
	if sum.Backfill, err = d.write(ctx, db); err != nil {
		return sum, err
	}
	sum.Copy = time.Since(start)

	// VACUUM sets the hint bits and the visibility map a long-lived
	// database has (so the first reads do not write), ANALYZE gives the
	// planner the new sizes. Inside a caller's transaction only ANALYZE can
	// run.
	start = time.Now()
	stmt := "VACUUM (ANALYZE) clientes, facturas, operaciones, operacion_facturas, operacion_eventos, eventos_auditoria"
	if _, inTx := db.(pgx.Tx); inTx {
		stmt = "ANALYZE clientes, facturas, operaciones, operacion_facturas, operacion_eventos, eventos_auditoria"
	}
	if _, err := db.Exec(ctx, stmt); err != nil {
		return sum, fmt.Errorf("dataset: %s: %w", strings.Fields(stmt)[0], err)
	}
	sum.Analyze = time.Since(start)
	return sum, nil
}

// loadGCPercent is the GOGC of Load while the generated dataset is live.
const loadGCPercent = 25

// Id ranges (ent's sql/globalid: 2^32 ids per type, in table order).
const (
	rangeSize          = 1 << 32
	firstClienteID     = 1
	firstFacturaID     = 1*rangeSize + 1
	firstOperacionID   = 2*rangeSize + 1
	firstOperEventoID  = 3*rangeSize + 1
	deudores           = 300
	firstClienteBody   = 76_000_011
	clienteBodyStride  = 37
	firstDeudorBody    = 78_000_003
	deudorBodyStride   = 1_009
	centsPerPeso       = 100
	lineStepCents      = 1_000_000 * centsPerPeso // lines are whole millions
	day                = 24 * time.Hour
	facturaMinPesos    = 100_000
	facturaMaxPesos    = 5_000_000
	facturaStepPesos   = 1_000
	lineMarginMinPesos = 10_000_000
	lineMarginMaxPesos = 50_000_000
)

type cliente struct {
	id                  int
	rut, razon, email   string
	estado              estado.Cliente
	motivo              string
	creado, actualizado time.Time
	credito, disponible int64 // cents
}

type factura struct {
	id                   int
	cliente              *cliente
	numero               string
	deudor               int
	monto                int64 // cents
	emision, vencimiento time.Time
	estado               estado.Factura
	motivoAnulacion      string
	creado, actualizado  time.Time
	cedible              bool
}

type operacion struct {
	id                              int
	cliente                         *cliente
	facturas                        []*factura
	solicitud                       time.Time
	aprobacion, desembolso, cierre  time.Time // zero: NULL
	total, descuento                int64
	dias                            int
	estado                          estado.Operacion
	motivoRechazo                   string
	actualizado                     time.Time
	lineaAnteriorAp, lineaNuevaAp   int64 // APROBADA event's detalle
	lineaAnteriorFin, lineaNuevaFin int64 // FINALIZADA event's detalle
	eventos                         []*evento
	viaDesembolso                   bool
	facturaIDs                      []string // gid-encoded, ascending, filled after ids
}

type evento struct {
	id       int
	op       *operacion
	tipo     estado.TipoEvento
	fecha    time.Time
	anterior estado.Operacion // "" is NULL
	nuevo    estado.Operacion
}

type data struct {
	cfg      Config
	hoy      time.Time
	clientes []*cliente
	facturas []*factura
	ops      []*operacion
	eventos  []*evento
	deudores []string
	// deudorIDs maps each RUT of deudores to its id (escribirDeudores).
	deudorIDs map[string]int64
}

// generator draws everything from one seeded PCG, relative to now.
type generator struct {
	r   *rand.Rand
	now time.Time
	hoy time.Time // business date, midnight UTC
	loc *time.Location
}

// ago is an instant between lo and hi before now.
func (g *generator) ago(lo, hi time.Duration) time.Time {
	return g.now.Add(-g.between(lo, hi))
}

func (g *generator) between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return (lo + time.Duration(g.r.Int64N(int64(hi-lo)))).Truncate(time.Microsecond)
}

// days is a whole number of days in [lo, hi].
func (g *generator) days(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + g.r.IntN(hi-lo+1)
}

func (g *generator) date(t time.Time) time.Time { return clock.Today(t, g.loc) }

func (g *generator) monto() int64 {
	steps := (facturaMaxPesos - facturaMinPesos) / facturaStepPesos
	return int64(facturaMinPesos+g.r.IntN(steps+1)*facturaStepPesos) * centsPerPeso
}

var razonPalabras = [...]string{"Comercial", "Inversiones", "Distribuidora", "Servicios", "Transportes", "Constructora",
	"Agrícola", "Importadora", "Ingeniería", "Alimentos", "Textil", "Minera", "Logística", "Tecnología", "Maderas", "Pesquera"}

var razonLugares = [...]string{"Andes", "Pacífico", "del Sur", "Norte Grande", "Austral", "Los Lagos", "Maule",
	"Biobío", "Atacama", "Araucanía", "Aconcagua", "Valparaíso", "Magallanes", "Coquimbo", "Elqui", "Itata"}

var razonSufijos = [...]string{"SpA", "Ltda", "S.A.", "EIRL"}

var motivosRechazo = [...]string{"Deudor con mora", "Documentación incompleta", "Concentración excesiva en el deudor",
	"Factura con observaciones del SII", "Riesgo del deudor fuera de política"}

// generate builds the whole dataset in memory.
func generate(cfg Config) *data {
	g := &generator{
		r:   rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		now: cfg.Now,
		loc: cfg.TimeZone,
	}
	g.hoy = g.date(g.now)
	d := &data{cfg: cfg, hoy: g.hoy}
	for j := range deudores {
		body := firstDeudorBody + j*deudorBodyStride
		d.deudores = append(d.deudores, rut.Format(body, rut.CheckDigit(body)))
	}
	n := cfg.Clientes
	d.clientes = make([]*cliente, 0, n)
	d.facturas = make([]*factura, 0, n*FacturasPorCliente)
	d.ops = make([]*operacion, 0, n*OperacionesPorCliente)

	// Clientes registered between 1,100 and 750 days ago, in id order.
	span := 350 * day
	for i := range n {
		d.clientes = append(d.clientes, d.newCliente(g, i, g.now.Add(-1100*day+span*time.Duration(i)/time.Duration(n))))
	}
	for _, c := range d.clientes {
		d.fillCliente(g, c)
	}
	d.assignIDs()
	d.replayLines()
	return d
}

func (d *data) newCliente(g *generator, i int, slot time.Time) *cliente {
	body := firstClienteBody + i*clienteBodyStride
	c := &cliente{
		id:  firstClienteID + i,
		rut: rut.Format(body, rut.CheckDigit(body)),
		razon: fmt.Sprintf("%s %s %04d %s", razonPalabras[g.r.IntN(len(razonPalabras))],
			razonLugares[g.r.IntN(len(razonLugares))], i+1, razonSufijos[g.r.IntN(len(razonSufijos))]),
		email:  fmt.Sprintf("finanzas@cliente%04d.cl", i+1),
		creado: slot.Add(g.between(0, 4*time.Hour)),
	}
	switch p := g.r.IntN(100); {
	case p < 85:
		c.estado = estado.ClienteActivo
	case p < 95:
		c.estado = estado.ClienteSuspendido
		c.motivo = "Revisión de antecedentes financieros"
	default:
		c.estado = estado.ClienteBloqueado
		c.motivo = "Documentación falsa detectada"
	}
	c.actualizado = c.creado
	return c
}

// fillCliente generates a cliente's 50 facturas and 10 operaciones with
// their events, and sizes its credit line.
func (d *data) fillCliente(g *generator, c *cliente) {
	states := []estado.Operacion{
		estado.OperacionPendiente, estado.OperacionAprobada, estado.OperacionRechazada,
		estado.OperacionDesembolsada, estado.OperacionDesembolsada,
		estado.OperacionFinalizada, estado.OperacionFinalizada, estado.OperacionFinalizada,
		estado.OperacionFinalizada, estado.OperacionFinalizada,
	}
	g.r.Shuffle(len(states), func(i, j int) { states[i], states[j] = states[j], states[i] })
	var sizes []int
	for range OperacionesPorCliente / 5 {
		for _, s := range g.r.Perm(5) {
			sizes = append(sizes, s+1)
		}
	}
	slot := 0
	newFactura := func() *factura {
		slot++
		f := &factura{

			cliente: c,
			numero:  fmt.Sprintf("F-%04d-%03d", c.id, slot),
			deudor:  g.r.IntN(deudores),
			monto:   g.monto(),
		}
		d.facturas = append(d.facturas, f)
		return f
	}

	var cuposLibres int64 // DISPONIBLE amounts the line must leave room for
	var comprometido int64
	for k, st := range states {
		o := &operacion{cliente: c, estado: st}
		d.ops = append(d.ops, o)
		switch st {
		case estado.OperacionFinalizada:
			o.solicitud = g.ago(150*day, 720*day)
		case estado.OperacionAprobada, estado.OperacionDesembolsada:
			o.solicitud = g.ago(6*day, 90*day)
		case estado.OperacionRechazada:
			o.solicitud = g.ago(3*day, 365*day)
		case estado.OperacionPendiente:
			o.solicitud = g.ago(time.Hour, 10*day)
		}
		solDate := g.date(o.solicitud)
		// The approval (or rejection) comes first: the invoices' dates
		// depend on it.
		switch st {
		case estado.OperacionAprobada, estado.OperacionDesembolsada, estado.OperacionFinalizada:
			o.aprobacion = o.solicitud.Add(g.between(time.Hour, 3*day))
		case estado.OperacionRechazada:
			o.cierre = o.solicitud.Add(g.between(time.Hour, 2*day))
		}
		for range sizes[k] {
			f := newFactura()
			f.creado = o.solicitud.Add(-g.between(time.Hour, 20*day))
			f.emision = g.date(f.creado).AddDate(0, 0, -g.days(1, 10))
			d.placeHeld(g, o, f, solDate)
			if f.estado == estado.FacturaDisponible && c.estado == estado.ClienteActivo {
				f.cedible = true
			}
			if f.estado == estado.FacturaDisponible {
				cuposLibres += f.monto
			}
			o.facturas = append(o.facturas, f)
			o.total += f.monto
		}
		// Amounts, priced on the day of the request, as crearOperacion does.
		latest := o.facturas[0].vencimiento
		for _, f := range o.facturas {
			if f.vencimiento.After(latest) {
				latest = f.vencimiento
			}
		}
		o.dias = clock.DaysBetween(solDate, latest)
		desc := money.Descuento(decimal.New(o.total, -2), d.cfg.Tasa, o.dias)
		o.descuento = desc.Shift(2).IntPart()
		if st != estado.OperacionRechazada {
			comprometido += o.total
		}
		d.addEvents(g, o)
	}
	// The 20 facturas no operación holds.
	for range FacturasPorCliente - LinksPorCliente {
		f := newFactura()
		switch p := g.r.IntN(100); {
		case p < 80:
			f.estado = estado.FacturaDisponible
			f.creado = g.ago(time.Hour, 120*day)
			f.emision = g.date(f.creado).AddDate(0, 0, -g.days(1, 10))
			f.vencimiento = g.hoy.AddDate(0, 0, g.days(60, 540))
			f.actualizado = f.creado
			cuposLibres += f.monto
			f.cedible = c.estado == estado.ClienteActivo
		case p < 88:
			f.estado = estado.FacturaPagada
			f.creado = c.creado.Add(g.between(time.Hour, g.now.Sub(c.creado)-30*day))
			f.emision = g.date(f.creado).AddDate(0, 0, -g.days(1, 10))
			f.vencimiento = f.emision.AddDate(0, 0, g.days(30, 120))
			f.actualizado = f.creado.Add(g.between(time.Hour, g.now.Sub(f.creado)))
		case p < 93:
			f.estado = estado.FacturaAnulada
			f.motivoAnulacion = "Emitida por error"
			f.creado = c.creado.Add(g.between(time.Hour, g.now.Sub(c.creado)-30*day))
			f.emision = g.date(f.creado).AddDate(0, 0, -g.days(1, 10))
			f.vencimiento = f.emision.AddDate(0, 0, g.days(30, 120))
			f.actualizado = f.creado.Add(g.between(time.Hour, 20*day))
		default:
			f.estado = estado.FacturaVencida
			f.creado = c.creado.Add(g.between(time.Hour, g.now.Sub(c.creado)-200*day))
			f.emision = g.date(f.creado).AddDate(0, 0, -g.days(1, 10))
			f.vencimiento = f.emision.AddDate(0, 0, g.days(30, 120))
			f.actualizado = f.vencimiento.AddDate(0, 0, 1).Add(time.Hour) // the overdue job
		}
	}
	// The line covers everything the cliente ever had approved or may
	// still approve, and every DISPONIBLE invoice besides, plus a margin:
	// it never went negative in the past, and the benchmark's operaciones
	// over the free invoices always fit.
	margin := int64(lineMarginMinPesos+g.r.IntN(lineMarginMaxPesos-lineMarginMinPesos+1)) * centsPerPeso
	need := comprometido + cuposLibres + margin
	c.credito = (need + lineStepCents - 1) / lineStepCents * lineStepCents
}

// placeHeld decides the state and due date of an invoice that operación o
// holds (or held), consistent with o's final state: EN_PROCESO under a
// PENDIENTE one; CEDIDA, PAGADA or VENCIDA under an approved one; PAGADA
// under a FINALIZADA one; released (DISPONIBLE) or moved on (PAGADA,
// ANULADA, VENCIDA) after a rejection. An invoice was never overdue when
// the operación was created, nor when it was approved.
func (d *data) placeHeld(g *generator, o *operacion, f *factura, solDate time.Time) {
	hoy := g.hoy
	switch o.estado {
	case estado.OperacionPendiente:
		f.estado = estado.FacturaEnProceso
		f.vencimiento = hoy.AddDate(0, 0, g.days(30, 180))
		f.actualizado = o.solicitud
	case estado.OperacionAprobada, estado.OperacionDesembolsada:
		aprobDate := g.date(o.aprobacion)
		switch p := g.r.IntN(100); {
		case p < 80:
			f.estado = estado.FacturaCedida
			f.vencimiento = hoy.AddDate(0, 0, g.days(30, 180))
			f.actualizado = o.aprobacion
		case p < 90:
			f.estado = estado.FacturaPagada
			f.vencimiento = aprobDate.AddDate(0, 0, g.days(1, 180))
			f.actualizado = o.aprobacion.Add(g.between(time.Hour, g.now.Sub(o.aprobacion)))
		default:
			f.estado = estado.FacturaVencida
			f.vencimiento = aprobDate.AddDate(0, 0, g.days(0, clock.DaysBetween(aprobDate, hoy)-1))
			f.actualizado = later(o.aprobacion, f.vencimiento.AddDate(0, 0, 1).Add(time.Hour))
		}
	case estado.OperacionFinalizada:
		f.estado = estado.FacturaPagada
		f.vencimiento = g.date(o.aprobacion).AddDate(0, 0, g.days(1, 120))
		// paid on its due date; actualizado is fixed once the closing is known
	case estado.OperacionRechazada:
		switch p := g.r.IntN(100); {
		case p < 60:
			f.estado = estado.FacturaDisponible
			f.vencimiento = hoy.AddDate(0, 0, g.days(30, 365))
			f.actualizado = o.cierre
		case p < 80:
			f.estado = estado.FacturaPagada
			f.vencimiento = solDate.AddDate(0, 0, g.days(1, 180))
			f.actualizado = o.cierre.Add(g.between(time.Hour, g.now.Sub(o.cierre)))
		case p < 90:
			f.estado = estado.FacturaAnulada
			f.motivoAnulacion = "Anulada tras el rechazo de la operación"
			f.vencimiento = solDate.AddDate(0, 0, g.days(1, 180))
			f.actualizado = o.cierre.Add(g.between(time.Hour, g.now.Sub(o.cierre)))
		default:
			f.estado = estado.FacturaVencida
			f.vencimiento = solDate.AddDate(0, 0, g.days(0, clock.DaysBetween(solDate, hoy)-1))
			f.actualizado = later(o.cierre, f.vencimiento.AddDate(0, 0, 1).Add(time.Hour))
		}
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// addEvents writes o's history: CREADA, then one event per transition, and
// fixes the instants that depend on it.
func (d *data) addEvents(g *generator, o *operacion) {
	add := func(tipo estado.TipoEvento, fecha time.Time, anterior, nuevo estado.Operacion) {
		e := &evento{op: o, tipo: tipo, fecha: fecha, anterior: anterior, nuevo: nuevo}
		d.eventos = append(d.eventos, e)
		o.eventos = append(o.eventos, e)
		o.actualizado = fecha
	}
	add(estado.EventoCreada, o.solicitud, "", estado.OperacionPendiente)
	switch o.estado {
	case estado.OperacionRechazada:
		o.motivoRechazo = motivosRechazo[g.r.IntN(len(motivosRechazo))]
		add(estado.EventoRechazada, o.cierre, estado.OperacionPendiente, estado.OperacionRechazada)
	case estado.OperacionAprobada:
		add(estado.EventoAprobada, o.aprobacion, estado.OperacionPendiente, estado.OperacionAprobada)
	case estado.OperacionDesembolsada:
		o.desembolso = o.aprobacion.Add(g.between(time.Hour, 2*day))
		add(estado.EventoAprobada, o.aprobacion, estado.OperacionPendiente, estado.OperacionAprobada)
		add(estado.EventoDesembolsada, o.desembolso, estado.OperacionAprobada, estado.OperacionDesembolsada)
	case estado.OperacionFinalizada:
		add(estado.EventoAprobada, o.aprobacion, estado.OperacionPendiente, estado.OperacionAprobada)
		prev := estado.OperacionAprobada
		o.viaDesembolso = g.r.IntN(100) < 80
		if o.viaDesembolso {
			o.desembolso = o.aprobacion.Add(g.between(time.Hour, 2*day))
			add(estado.EventoDesembolsada, o.desembolso, estado.OperacionAprobada, estado.OperacionDesembolsada)
			prev = estado.OperacionDesembolsada
		}
		// Closed once the last invoice is paid, on or after its due date.
		last := o.aprobacion
		for _, f := range o.facturas {
			due := f.vencimiento.Add(12 * time.Hour)
			if due.After(last) {
				last = due
			}
		}
		if o.desembolso.After(last) {
			last = o.desembolso
		}
		o.cierre = last.Add(g.between(time.Hour, 10*day))
		for _, f := range o.facturas {
			f.actualizado = o.cierre.Add(-g.between(time.Minute, time.Hour))
		}
		add(estado.EventoFinalizada, o.cierre, prev, estado.OperacionFinalizada)
	}
}

// assignIDs numbers every row in creation order inside its type's range.
func (d *data) assignIDs() {
	slices.SortStableFunc(d.facturas, func(a, b *factura) int { return a.creado.Compare(b.creado) })
	for i, f := range d.facturas {
		f.id = firstFacturaID + i
	}
	slices.SortStableFunc(d.ops, func(a, b *operacion) int { return a.solicitud.Compare(b.solicitud) })
	for i, o := range d.ops {
		o.id = firstOperacionID + i
		ids := make([]int, len(o.facturas))
		for j, f := range o.facturas {
			ids[j] = f.id
		}
		slices.Sort(ids)
		o.facturaIDs = gid.EncodeAll(ids)
	}
	slices.SortStableFunc(d.eventos, func(a, b *evento) int { return a.fecha.Compare(b.fecha) })
	for i, e := range d.eventos {
		e.id = firstOperEventoID + i
	}
}

// replayLines walks every event in time order, moving each cliente's
// available line as the services would (approval takes, closing gives
// back), for the events' detalle and the line left at the end.
func (d *data) replayLines() {
	for _, c := range d.clientes {
		c.disponible = c.credito
	}
	for _, e := range d.eventos {
		o, c := e.op, e.op.cliente
		switch e.tipo {
		case estado.EventoAprobada:
			o.lineaAnteriorAp = c.disponible
			c.disponible -= o.total
			o.lineaNuevaAp = c.disponible
			c.actualizado = later(c.actualizado, e.fecha)
		case estado.EventoFinalizada:
			o.lineaAnteriorFin = c.disponible
			c.disponible += o.total
			o.lineaNuevaFin = c.disponible
			c.actualizado = later(c.actualizado, e.fecha)
		}
		if c.disponible < 0 {
			panic("dataset: línea disponible negativa: " + c.rut) // cannot happen: the line covers every approval
		}
	}
}

func (d *data) summary() Summary {
	s := Summary{
		Clientes: len(d.clientes), Facturas: len(d.facturas), Operaciones: len(d.ops), Eventos: len(d.eventos),
		ClientesPorEstado:    map[estado.Cliente]int{},
		FacturasPorEstado:    map[estado.Factura]int{},
		OperacionesPorEstado: map[estado.Operacion]int{},
		Hoy:                  d.hoy,
	}
	for _, c := range d.clientes {
		s.ClientesPorEstado[c.estado]++
	}
	for _, f := range d.facturas {
		s.FacturasPorEstado[f.estado]++
		if f.cedible {
			s.Cedibles++
		}
	}
	for _, o := range d.ops {
		s.OperacionesPorEstado[o.estado]++
		s.Links += len(o.facturas)
	}
	return s
}

// write copies every row in one transaction and moves the identity
// sequences past the ids used; it reports how long auditoriaPrevia took.
func (d *data) write(ctx context.Context, db DB) (backfill time.Duration, err error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("dataset: iniciar transacción: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()

	copies := []struct {
		table   string
		columns []string
		n       int
		row     func(i int) ([]any, error)
	}{
		{"clientes", []string{"id", "rut", "razon_social", "giro", "direccion", "telefono", "email", "fecha_registro",
			"linea_credito", "linea_disponible", "estado", "motivo_estado", "creado_en", "actualizado_en"},
			len(d.clientes), d.clienteRow},
		{"facturas", facturaColumns, len(d.facturas), d.facturaRow},
		{"operaciones", []string{"id", "fecha_solicitud", "fecha_aprobacion", "fecha_desembolso", "fecha_finalizacion",
			"monto_total_facturas", "tasa_descuento", "dias_descuento", "monto_descuento", "monto_a_desembolsar",
			"estado", "motivo_rechazo", "creado_en", "actualizado_en", "cliente_id"},
			len(d.ops), d.operacionRow},
		{"operacion_facturas", []string{"operacion_id", "factura_id"}, 0, nil}, // n and row below
		{"operacion_eventos", []string{"id", "tipo", "fecha", "estado_anterior", "estado_nuevo", "request_id", "actor",
			"detalle", "operacion_id"},
			len(d.eventos), d.eventoRow},
	}
	if err := d.escribirDeudores(ctx, tx); err != nil {
		return 0, err
	}
	// The links as (operación, factura) index pairs: rows built one at a
	// time as COPY asks, not held as 600,000 []any for 20,000 clientes.
	type link struct{ op, factura int }
	links := make([]link, 0, len(d.ops)*3)
	for _, o := range d.ops {
		for _, f := range o.facturas {
			links = append(links, link{o.id, f.id})
		}
	}
	copies[3].n = len(links)
	copies[3].row = func(i int) ([]any, error) { return []any{int64(links[i].op), int64(links[i].factura)}, nil }
	for _, c := range copies {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.columns, pgx.CopyFromSlice(c.n, c.row)); err != nil {
			return 0, fmt.Errorf("dataset: copiar %s: %w", c.table, err)
		}
	}
	for _, t := range []string{"clientes", "facturas", "operaciones", "operacion_eventos"} {
		q := fmt.Sprintf("SELECT setval(pg_get_serial_sequence('%s', 'id'), (SELECT max(id) FROM %s))", t, t)
		if _, err := tx.Exec(ctx, q); err != nil {
			return 0, fmt.Errorf("dataset: mover la secuencia de %s: %w", t, err)
		}
	}
	start := time.Now()
	if err := auditoriaPrevia(ctx, tx); err != nil {
		return 0, err
	}
	backfill = time.Since(start)
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("dataset: confirmar: %w", err)
	}
	return backfill, nil
}

// auditoriaPrevia brings the loaded rows to the rules that came after them
// the way a migrated database gets there: by running the migrations that
// do it for the rows that predate them: the audit trail's (one entry per
// operación event, one creation entry per cliente and factura), the
// deudores' (one creation entry per deudor made from the facturas there
// were) and collections' (the payment of each paid invoice, the
// liquidación of each finalized operación).
func auditoriaPrevia(ctx context.Context, tx pgx.Tx) error {
	dir, err := migrations.Dir(dialect.Postgres)
	if err != nil {
		return err
	}
	files, err := dir.Files()
	if err != nil {
		return err
	}
	for _, suffix := range []string{"_auditoria_datos_previos.sql", "_deudores_datos_previos.sql", "_cobranza_datos_previos.sql"} {
		i := slices.IndexFunc(files, func(f migrate.File) bool { return strings.HasSuffix(f.Name(), suffix) })
		if i < 0 {
			return fmt.Errorf("dataset: no se encuentra la migración *%s", suffix)
		}
		stmts, err := migrate.Stmts(string(files[i].Bytes()))
		if err != nil {
			return fmt.Errorf("dataset: %s: %w", files[i].Name(), err)
		}
		for _, st := range stmts {
			if _, err := tx.Exec(ctx, st.Text); err != nil {
				return fmt.Errorf("dataset: auditoría de los datos cargados (%s): %w", files[i].Name(), err)
			}
		}
	}
	return nil
}

var facturaColumns = []string{"id", "numero_factura", "rut_deudor", "razon_social_deudor", "monto_total", "fecha_emision",
	"fecha_vencimiento", "fecha_recepcion", "estado", "motivo_anulacion", "creado_en", "actualizado_en", "cliente_id", "deudor_id"}

// numeric renders cents as a numeric(15,2) value.
func numeric(cents int64) pgtype.Numeric {
	return pgtype.Numeric{Int: big.NewInt(cents), Exp: -2, Valid: true}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func (d *data) clienteRow(i int) ([]any, error) {
	c := d.clientes[i]
	return []any{int64(c.id), c.rut, c.razon, "Comercio", nil, nil, c.email, c.creado,
		numeric(c.credito), numeric(c.disponible), string(c.estado), nullable(c.motivo), c.creado, c.actualizado}, nil
}

func (d *data) facturaRow(i int) ([]any, error) {
	f := d.facturas[i]
	return []any{int64(f.id), f.numero, d.deudores[f.deudor], deudorRazon(f.deudor),
		numeric(f.monto), f.emision, f.vencimiento, f.emision, string(f.estado), nullable(f.motivoAnulacion),
		f.creado, f.actualizado, int64(f.cliente.id), d.deudorIDs[d.deudores[f.deudor]]}, nil
}

func deudorRazon(j int) string { return "Deudor " + strconv.Itoa(j+1) + " SpA" }

// escribirDeudores creates, in tx, the deudores of d's RUTs the database
// does not have yet (ACTIVO, without a limit, created with their first
// factura, or at the reference instant when they have none), in their
// order, and reads every one's id for the facturas.
func (d *data) escribirDeudores(ctx context.Context, tx pgx.Tx) error {
	creados := make([]time.Time, len(d.deudores))
	for _, f := range d.facturas {
		if c := creados[f.deudor]; c.IsZero() || f.creado.Before(c) {
			creados[f.deudor] = f.creado
		}
	}
	razones := make([]string, len(d.deudores))
	for j := range d.deudores {
		razones[j] = deudorRazon(j)
		if creados[j].IsZero() {
			creados[j] = d.cfg.Now
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO deudores (rut, razon_social, estado, creado_en, actualizado_en)
		SELECT rut, razon, 'ACTIVO', creado, creado
		FROM unnest($1::text[], $2::text[], $3::timestamptz[]) WITH ORDINALITY AS u(rut, razon, creado, n)
		ORDER BY n
		ON CONFLICT (rut) DO NOTHING`, d.deudores, razones, creados); err != nil {
		return fmt.Errorf("dataset: crear deudores: %w", err)
	}
	rows, err := tx.Query(ctx, "SELECT rut, id FROM deudores WHERE rut = ANY($1)", d.deudores)
	if err != nil {
		return fmt.Errorf("dataset: leer deudores: %w", err)
	}
	d.deudorIDs = make(map[string]int64, len(d.deudores))
	for rows.Next() {
		var (
			r  string
			id int64
		)
		if err := rows.Scan(&r, &id); err != nil {
			return fmt.Errorf("dataset: leer deudores: %w", err)
		}
		d.deudorIDs[r] = id
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("dataset: leer deudores: %w", err)
	}
	return nil
}

func (d *data) operacionRow(i int) ([]any, error) {
	o := d.ops[i]
	var fin time.Time
	if o.estado == estado.OperacionFinalizada {
		fin = o.cierre
	}
	tasaCents := d.cfg.Tasa.Shift(2).IntPart()
	return []any{int64(o.id), o.solicitud, nullTime(o.aprobacion), nullTime(o.desembolso), nullTime(fin),
		numeric(o.total), numeric(tasaCents), int64(o.dias), numeric(o.descuento), numeric(o.total - o.descuento),
		string(o.estado), nullable(o.motivoRechazo), o.solicitud, o.actualizado, int64(o.cliente.id)}, nil
}

func cents(c int64) string { return money.String(decimal.New(c, -2)) }

func (d *data) eventoRow(i int) ([]any, error) {
	e := d.eventos[i]
	o := e.op
	var detalle map[string]any
	switch e.tipo {
	case estado.EventoCreada:
		detalle = map[string]any{
			"facturaIds":         o.facturaIDs,
			"montoTotalFacturas": cents(o.total),
			"tasaDescuento":      money.String(d.cfg.Tasa),
			"diasDescuento":      o.dias,
			"montoDescuento":     cents(o.descuento),
			"montoADesembolsar":  cents(o.total - o.descuento),
		}
	case estado.EventoAprobada:
		detalle = map[string]any{
			"facturaIds":              o.facturaIDs,
			"lineaDisponibleAnterior": cents(o.lineaAnteriorAp),
			"lineaDisponibleNueva":    cents(o.lineaNuevaAp),
		}
	case estado.EventoRechazada:
		detalle = map[string]any{"motivo": o.motivoRechazo}
	case estado.EventoDesembolsada:
		detalle = map[string]any{"montoADesembolsar": cents(o.total - o.descuento)}
	case estado.EventoFinalizada:
		detalle = map[string]any{
			"lineaDisponibleAnterior": cents(o.lineaAnteriorFin),
			"lineaDisponibleNueva":    cents(o.lineaNuevaFin),
		}
	}
	raw, err := json.Marshal(detalle)
	if err != nil {
		return nil, err
	}
	return []any{int64(e.id), string(e.tipo), e.fecha, nullable(string(e.anterior)), string(e.nuevo),
		RequestIDPrefix + strconv.Itoa(e.id-firstOperEventoID+1), Actor, raw, int64(o.id)}, nil
}
