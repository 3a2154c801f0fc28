// Package seed loads the demo data: the original system's four clientes and
// five facturas, and around them a short history that leaves every state of
// the domain on show: clientes PENDIENTE, ACTIVO, SUSPENDIDO and BLOQUEADO;
// facturas DISPONIBLE, EN_PROCESO, CEDIDA, PAGADA, VENCIDA and ANULADA;
// operaciones PENDIENTE, APROBADA, RECHAZADA, DESEMBOLSADA and FINALIZADA,
// each with its audit trail; and the risk desk's limits: Deudor Uno SpA has
// a lineaExposicion of 2000000.00 (1200000.00 of it in use), Empresa Alpha
// a concentracionMaxima of 30.00 % (its 3000000.00 on Deudor Dos Ltda is
// exactly the cap).
//
// Everything is made through the domain services (internal/clientes,
// facturas, operaciones), the way a user of the API would make it, so the
// rules, the events and the invariants hold: `factoring verificar` finds
// nothing after a seed. Who does each step is a principal in the context,
// as the HTTP layer would put it there: demo.analista registers and
// proposes, demo.riesgo decides (never the one who proposed: four eyes),
// demo.tesoreria moves money, and sistema runs the overdue job.
//
// Every date is relative to the seed's clock (its "now"): the history
// happens in the days before it and the invoices fall due in the days
// after, so the demo looks the same whatever day it is loaded. One invoice,
// A-1001 of Comercial Sur SpA, is the README's worked example: 300000.00,
// DISPONIBLE, due exactly 120 days after the day of the seed.
//
// It is idempotent: a cliente is found by RUT and a factura by (cliente,
// número) before anything is made, and what exists is left as it is. A
// step of the history runs only on what this run created: an operación is
// made only when every one of its facturas was registered by this run, a
// cliente or a factura changes state only when this run created it. Each
// step is its own transaction, as each API call is.
package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/cliente"
	"github.com/banpro/factoring/ent/factura"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/clientes"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/deudores"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/facturas"
	"github.com/banpro/factoring/internal/operaciones"
	"github.com/banpro/factoring/internal/rut"
)

// The people of the demo, as the audit trail records them.
const (
	Analista  = "demo.analista"
	Riesgo    = "demo.riesgo"
	Tesoreria = "demo.tesoreria"
)

var (
	analista  = auth.Principal{Subject: Analista, Roles: []auth.Role{auth.Analista}}
	riesgo    = auth.Principal{Subject: Riesgo, Roles: []auth.Role{auth.Riesgo}}
	tesoreria = auth.Principal{Subject: Tesoreria, Roles: []auth.Role{auth.Tesoreria}}
	sistema   = auth.Principal{Subject: auth.Sistema}
)

type clienteDemo struct {
	rut, razonSocial, email, lineaCredito string
	// estado is where the demo leaves it; motivo, why (SUSPENDIDO,
	// BLOQUEADO).
	estado estado.Cliente
	motivo string
}

// The clientes: the original seed_clientes command's four, then the
// README's lifecycle cliente and one PENDIENTE and one BLOQUEADO. The order
// is the order of creation, so a fresh database numbers them the same way
// every time (the README's ids rely on it).
var clientesDemo = []clienteDemo{
	{"12.345.678-5", "Empresa Alpha SpA", "alpha@empresa.cl", "10000000.00", estado.ClienteActivo, ""},
	{"11.111.111-1", "Empresa Beta Ltda", "beta@empresa.cl", "5000000.00", estado.ClienteActivo, ""},
	{"9.876.543-3", "Empresa Gamma SpA", "gamma@empresa.cl", "20000000.00", estado.ClienteSuspendido, "Estados financieros vencidos: en revisión."},
	{"26.271.832-8", "Empresa Nessa SpA", "nessa@empresa.cl", "20000000.00", estado.ClienteSuspendido, "Documentación tributaria pendiente."},
	{"76.086.428-5", "Comercial Sur SpA", "finanzas@sur.cl", "1000000.00", estado.ClienteActivo, ""},
	{"77.123.456-9", "Distribuidora Norte Ltda", "contacto@norte.cl", "3000000.00", estado.ClientePendiente, ""},
	{"76.987.654-5", "Importadora Delta SpA", "administracion@delta.cl", "8000000.00", estado.ClienteBloqueado, "Presentó facturas duplicadas a cesión."},
}

const (
	rutAlpha = "12.345.678-5"
	rutBeta  = "11.111.111-1"
	rutGamma = "9.876.543-3"
	rutNessa = "26.271.832-8"
	rutSur   = "76.086.428-5"
	rutDelta = "76.987.654-5"
)

type facturaDemo struct {
	clienteRut, numero, rutDeudor, razonSocialDeudor, monto string
	// emitida and vence are days from the seed's date (negative: before).
	emitida, vence int
}

var (
	deudorUno    = [2]string{"76.543.210-3", "Deudor Uno SpA"}
	deudorDos    = [2]string{"77.777.777-7", "Deudor Dos Ltda"}
	deudorTres   = [2]string{"88.888.888-8", "Deudor Tres SpA"}
	deudorCuatro = [2]string{"99.999.999-9", "Deudor Cuatro SpA"}
	deudorCinco  = [2]string{"96.555.444-0", "Deudor Cinco SA"}
)

func fd(clienteRut, numero string, deudor [2]string, monto string, emitida, vence int) facturaDemo {
	return facturaDemo{clienteRut, numero, deudor[0], deudor[1], monto, emitida, vence}
}

// The original seed_facturas command's five: issued five days before the
// seed, due in 30, 45, 20, 60 and 15 days.
var (
	f1001 = fd(rutAlpha, "F-1001", deudorUno, "1500000.00", -5, 30)
	f1002 = fd(rutAlpha, "F-1002", deudorDos, "2500000.00", -5, 45)
	f2001 = fd(rutBeta, "F-2001", deudorUno, "900000.00", -5, 20)
	f2002 = fd(rutBeta, "F-2002", deudorTres, "3000000.00", -5, 60)
	f3001 = fd(rutGamma, "F-3001", deudorCuatro, "1200000.00", -5, 15)
)

// The rest of the history's invoices.
var (
	f1101 = fd(rutAlpha, "F-1101", deudorCinco, "2000000.00", -62, -15) // operación FINALIZADA, paid
	f2101 = fd(rutBeta, "F-2101", deudorUno, "1200000.00", -22, 25)     // operación DESEMBOLSADA, CEDIDA
	f2103 = fd(rutBeta, "F-2103", deudorTres, "600000.00", -22, -3)     // same operación, fell due unpaid: VENCIDA
	f1102 = fd(rutAlpha, "F-1102", deudorDos, "3000000.00", -12, 40)    // operación APROBADA, CEDIDA
	f2102 = fd(rutBeta, "F-2102", deudorCuatro, "800000.00", -12, 35)   // operación RECHAZADA, DISPONIBLE again
	a1001 = fd(rutSur, "A-1001", deudorUno, "300000.00", -5, 120)       // the README's worked example
	f1105 = fd(rutAlpha, "F-1105", deudorUno, "1750000.00", -5, 60)     // DISPONIBLE
	f1103 = fd(rutAlpha, "F-1103", deudorUno, "450000.00", -3, 30)      // operación PENDIENTE, EN_PROCESO
	f1104 = fd(rutAlpha, "F-1104", deudorTres, "1250000.00", -3, 50)    // same operación
)

// Options of a seed run.
type Options struct {
	// SoloDisponibles loads the clientes and only the invoices that can be
	// ceded today, all DISPONIBLE: no operación, nothing paid, voided or
	// overdue. A clean slate to try crearOperacion on.
	SoloDisponibles bool
	// Clock is the seed's "now"; the history is dated from it.
	Clock clock.Clock
	// TimeZone is the business time zone (its date is "today").
	TimeZone *time.Location
	// TasaDescuento prices the demo's operaciones (the configured rate;
	// config.DefaultTasa when zero).
	TasaDescuento decimal.Decimal
}

// Result counts what a run created and what it found already there.
type Result struct {
	ClientesCreados, ClientesExistentes int
	FacturasCreadas, FacturasExistentes int
	OperacionesCreadas                  int
	// FacturasVencidas is how many invoices the overdue job marked.
	FacturasVencidas int
}

// defaultTasa is config.DefaultTasa (seed does not import config).
var defaultTasa = decimal.RequireFromString("2.00")

// Run loads the demo data into db, which must be migrated.
func Run(ctx context.Context, db *database.DB, opts Options) (Result, error) {
	if opts.Clock == nil || opts.TimeZone == nil {
		return Result{}, fmt.Errorf("seed: faltan el reloj o la zona horaria")
	}
	tasa := opts.TasaDescuento
	if tasa.IsZero() {
		tasa = defaultTasa
	}
	now := opts.Clock.Now()
	reloj := clock.NewFixed(now)
	r := &run{
		ctx:         ctx,
		db:          db,
		solo:        opts.SoloDisponibles,
		now:         now,
		zone:        opts.TimeZone,
		hoy:         clock.Today(now, opts.TimeZone),
		reloj:       reloj,
		clientesSvc: clientes.NewService(db, reloj),
		facturasSvc: facturas.NewService(db, reloj, opts.TimeZone),
		operSvc: operaciones.NewService(db, operaciones.Config{
			Clock: reloj, TimeZone: opts.TimeZone, TasaDescuento: tasa,
		}),
		deudoresSvc: deudores.NewService(db, reloj),
		clientes:    map[string]*ent.Cliente{},
		nuevos:      map[string]bool{},
		facturas:    map[string]*ent.Factura{},
		nuevas:      map[string]bool{},
		operacion:   map[string]int{},
	}
	if err := r.historia(); err != nil {
		return r.res, fmt.Errorf("seed: %w", err)
	}
	return r.res, nil
}

// historia is the demo's history, in the order it happened.
func (r *run) historia() error {
	r.dia(-90)
	for _, c := range clientesDemo {
		r.crearCliente(c)
	}
	r.dia(-89)
	for _, c := range clientesDemo {
		if c.estado != estado.ClientePendiente {
			r.activar(c.rut)
		}
	}
	r.concentracion(rutAlpha, "30.00")

	// An operación that went all the way: FINALIZADA, its line given back.
	r.dia(-62)
	r.registrar(f1101)
	r.dia(-60)
	r.crearOperacion("finalizada", f1101)
	r.dia(-59)
	r.aprobar("finalizada")
	r.dia(-58)
	r.desembolsar("finalizada")

	// The clientes that stop operating.
	r.dia(-45)
	r.suspender(rutGamma)
	r.dia(-40)
	r.suspender(rutNessa)
	r.dia(-30)
	r.bloquear(rutDelta)

	// Paid out; one of its invoices will fall due unpaid.
	r.dia(-22)
	r.registrar(f2101)
	r.registrar(f2103)
	r.dia(-21)
	r.lineaExposicion(f2101, "2000000.00") // its deudor, Deudor Uno SpA
	r.dia(-20)
	r.crearOperacion("desembolsada", f2101, f2103)
	r.dia(-19)
	r.aprobar("desembolsada")
	r.dia(-18)
	r.desembolsar("desembolsada")

	r.dia(-16)
	r.pagar(f1101)
	r.dia(-15)
	r.finalizar("finalizada")

	// Approved, not paid out yet; and one rejected.
	r.dia(-12)
	r.registrar(f1102)
	r.registrar(f2102)
	r.dia(-10)
	r.crearOperacion("aprobada", f1102)
	r.dia(-9)
	r.aprobar("aprobada")
	r.dia(-8)
	r.crearOperacion("rechazada", f2102)
	r.dia(-7)
	r.rechazar("rechazada", "Deudor con mora en el boletín comercial.")

	// The original system's invoices, as its seed left them, and the
	// invoices still free to cede.
	r.dia(-5)
	for _, f := range []facturaDemo{f1001, f1002, f2001, f2002, f3001, a1001, f1105} {
		r.registrar(f)
	}
	r.dia(-4)
	r.pagar(f1001)
	r.anular(f1002, "Emitida con un monto erróneo; reemplazada.")
	r.pagar(f2001)
	r.anular(f2002, "El deudor rechazó la factura.")
	r.pagar(f3001)

	// Waiting for approval.
	r.dia(-3)
	r.registrar(f1103)
	r.registrar(f1104)
	r.dia(-2)
	r.crearOperacion("pendiente", f1103, f1104)

	// Today's run of the overdue job, as the daily schedule would make it.
	r.dia(0)
	r.marcarVencidas(f2103)
	return r.err
}

// run is one seed run in progress. The first error stops every later step.
type run struct {
	ctx   context.Context
	db    *database.DB
	solo  bool
	now   time.Time // the seed's clock reading
	zone  *time.Location
	hoy   time.Time // the business date of now
	reloj *clock.Fixed
	// at is the instant of the next step; every step moves it a minute.
	at time.Time

	clientesSvc *clientes.Service
	facturasSvc *facturas.Service
	operSvc     *operaciones.Service
	deudoresSvc *deudores.Service

	clientes  map[string]*ent.Cliente // by canonical RUT, found or created
	nuevos    map[string]bool         // clientes this run created
	facturas  map[string]*ent.Factura // by número
	nuevas    map[string]bool         // facturas this run registered
	operacion map[string]int          // the operaciones this run made, by role in the history

	res Result
	err error
}

// dia moves the history to days after the seed's date (negative: before),
// at the seed's time of day. Day 0 is the seed's own instant.
func (r *run) dia(d int) {
	r.at = r.now.In(r.zone).AddDate(0, 0, d).UTC()
}

// as returns the context of a step done by p, with the clock at the step's
// instant.
func (r *run) as(p auth.Principal) context.Context {
	r.reloj.Set(r.at)
	r.at = r.at.Add(time.Minute)
	return auth.NewContext(r.ctx, p)
}

func (r *run) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *run) crearCliente(c clienteDemo) {
	if r.err != nil {
		return
	}
	canonical, err := rut.Normalize(c.rut)
	if err != nil {
		r.fail(fmt.Errorf("RUT %s: %w", c.rut, err))
		return
	}
	existing, err := r.db.Client.Cliente.Query().Where(cliente.Rut(canonical)).Only(r.ctx)
	switch {
	case err == nil:
		r.clientes[canonical] = existing
		r.res.ClientesExistentes++
		return
	case !ent.IsNotFound(err):
		r.fail(fmt.Errorf("buscar cliente %s: %w", canonical, err))
		return
	}
	created, err := r.clientesSvc.Crear(r.as(analista), clientes.CrearInput{
		Rut:          canonical,
		RazonSocial:  c.razonSocial,
		Email:        c.email,
		LineaCredito: decimal.RequireFromString(c.lineaCredito),
	})
	if err != nil {
		r.fail(err)
		return
	}
	r.clientes[canonical] = created
	r.nuevos[canonical] = true
	r.res.ClientesCreados++
}

// clienteNuevo returns the cliente of rut if this run created it.
func (r *run) clienteNuevo(rut string) (*ent.Cliente, bool) {
	if r.err != nil || !r.nuevos[rut] {
		return nil, false
	}
	return r.clientes[rut], true
}

func (r *run) activar(rut string) {
	if c, ok := r.clienteNuevo(rut); ok {
		_, err := r.clientesSvc.Activar(r.as(riesgo), c.ID)
		r.fail(err)
	}
}

func (r *run) suspender(rut string) {
	if c, ok := r.clienteNuevo(rut); ok {
		motivo := motivoDe(rut)
		_, err := r.clientesSvc.Suspender(r.as(riesgo), c.ID, &motivo)
		r.fail(err)
	}
}

func (r *run) bloquear(rut string) {
	if c, ok := r.clienteNuevo(rut); ok {
		_, err := r.clientesSvc.Bloquear(r.as(riesgo), c.ID, motivoDe(rut))
		r.fail(err)
	}
}

// concentracion sets the concentracionMaxima of the cliente of rut, if
// this run created it.
func (r *run) concentracion(rut, porcentaje string) {
	if c, ok := r.clienteNuevo(rut); ok {
		_, err := r.clientesSvc.FijarConcentracionMaxima(r.as(riesgo), c.ID, decimal.RequireFromString(porcentaje))
		r.fail(err)
	}
}

// lineaExposicion sets the lineaExposicion of the deudor of f, if this run
// registered f (and so first saw its deudor, or found it as it was).
func (r *run) lineaExposicion(f facturaDemo, linea string) {
	if r.err != nil || !r.nuevas[f.numero] {
		return
	}
	l := decimal.RequireFromString(linea)
	_, err := r.deudoresSvc.FijarLineaExposicion(r.as(riesgo), r.facturas[f.numero].DeudorID, &l)
	r.fail(err)
}

func motivoDe(rut string) string {
	for _, c := range clientesDemo {
		if c.rut == rut {
			return c.motivo
		}
	}
	return ""
}

// registrar registers f unless its cliente already has it. With
// SoloDisponibles an invoice already due is left out: it could not be
// ceded.
func (r *run) registrar(f facturaDemo) {
	if r.err != nil || r.solo && f.vence < 1 {
		return
	}
	c := r.clientes[f.clienteRut]
	existing, err := r.db.Client.Factura.Query().
		Where(factura.ClienteID(c.ID), factura.NumeroFactura(f.numero)).
		Only(r.ctx)
	switch {
	case err == nil:
		r.facturas[f.numero] = existing
		r.res.FacturasExistentes++
		return
	case !ent.IsNotFound(err):
		r.fail(fmt.Errorf("buscar factura %s: %w", f.numero, err))
		return
	}
	created, err := r.facturasSvc.Registrar(r.as(analista), facturas.RegistrarInput{
		ClienteID:         c.ID,
		NumeroFactura:     f.numero,
		RutDeudor:         f.rutDeudor,
		RazonSocialDeudor: f.razonSocialDeudor,
		MontoTotal:        decimal.RequireFromString(f.monto),
		FechaEmision:      r.hoy.AddDate(0, 0, f.emitida),
		FechaVencimiento:  r.hoy.AddDate(0, 0, f.vence),
	})
	if err != nil {
		r.fail(err)
		return
	}
	r.facturas[f.numero] = created
	r.nuevas[f.numero] = true
	r.res.FacturasCreadas++
}

// facturaNueva returns the invoice f if this run registered it and the run
// goes beyond DISPONIBLE invoices.
func (r *run) facturaNueva(f facturaDemo) (*ent.Factura, bool) {
	if r.err != nil || r.solo || !r.nuevas[f.numero] {
		return nil, false
	}
	return r.facturas[f.numero], true
}

func (r *run) pagar(f facturaDemo) {
	if row, ok := r.facturaNueva(f); ok {
		_, err := r.facturasSvc.Pagar(r.as(tesoreria), row.ID)
		r.fail(err)
	}
}

func (r *run) anular(f facturaDemo, motivo string) {
	if row, ok := r.facturaNueva(f); ok {
		_, err := r.facturasSvc.Anular(r.as(tesoreria), row.ID, &motivo)
		r.fail(err)
	}
}

// crearOperacion proposes an operación over fs, all of one cliente, when
// this run registered every one of them.
func (r *run) crearOperacion(clave string, fs ...facturaDemo) {
	ids := make([]int, 0, len(fs))
	for _, f := range fs {
		row, ok := r.facturaNueva(f)
		if !ok {
			return
		}
		ids = append(ids, row.ID)
	}
	op, err := r.operSvc.Crear(r.as(analista), operaciones.CrearInput{
		ClienteID:  r.clientes[fs[0].clienteRut].ID,
		FacturaIDs: ids,
	})
	if err != nil {
		r.fail(err)
		return
	}
	r.operacion[clave] = op.ID
	r.res.OperacionesCreadas++
}

// step runs fn on the operación made under clave, if this run made it.
func (r *run) step(clave string, p auth.Principal, fn func(ctx context.Context, id int) (*ent.Operacion, error)) {
	id, ok := r.operacion[clave]
	if r.err != nil || !ok {
		return
	}
	_, err := fn(r.as(p), id)
	r.fail(err)
}

func (r *run) aprobar(clave string) { r.step(clave, riesgo, r.operSvc.Aprobar) }

func (r *run) desembolsar(clave string) { r.step(clave, tesoreria, r.operSvc.Desembolsar) }

func (r *run) finalizar(clave string) { r.step(clave, tesoreria, r.operSvc.Finalizar) }

func (r *run) rechazar(clave, motivo string) {
	r.step(clave, riesgo, func(ctx context.Context, id int) (*ent.Operacion, error) {
		return r.operSvc.Rechazar(ctx, id, motivo)
	})
}

// marcarVencidas runs the overdue job when this run registered f, the
// invoice the history lets fall due. The job is the real one: it marks
// every DISPONIBLE or CEDIDA invoice of the database due before today.
func (r *run) marcarVencidas(f facturaDemo) {
	if _, ok := r.facturaNueva(f); !ok {
		return
	}
	n, err := r.facturasSvc.MarcarVencidas(r.as(sistema), r.zone)
	r.res.FacturasVencidas = n
	r.fail(err)
}

// Empty reports whether the database has no clientes yet.
func Empty(ctx context.Context, client *ent.Client) (bool, error) {
	exists, err := client.Cliente.Query().Exist(ctx)
	return !exists, err
}
