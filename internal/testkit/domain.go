// Builders through the domain services, never around them: a cliente made
// here went through clientes.Crear and clientes.Activar, an operación
// through operaciones.Crear, so every row a test starts from obeys the rules
// it is about to check. With them, the assertions the domain tests share:
// an error's code and fields, the invariants (verificar), the database's
// state (Snapshot) and races (Race, Tally).

package testkit

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/operacionevento"
	"github.com/banpro/factoring/internal/app"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/clientes"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/deudores"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/facturas"
	"github.com/banpro/factoring/internal/operaciones"
	"github.com/banpro/factoring/internal/verificar"
)

// Env is one test's domain: a database, the services over it as the server
// wires them (tasa 2.00, America/Santiago) and their fixed clock, stopped at
// Hoy until a test moves it.
type Env struct {
	DB    *database.DB
	Svc   app.ServiceSet
	Clock *clock.Fixed
	// Ctx is the context the builders call the services with.
	Ctx context.Context
}

// NewEnv returns the domain of db.
func NewEnv(t testing.TB, db *database.DB) *Env {
	t.Helper()
	svc, c := Services(t, db)
	return &Env{DB: db, Svc: svc, Clock: c, Ctx: context.Background()}
}

// ClienteInput is a valid CrearInput with a fresh RUT and the given line.
func ClienteInput(linea string) clientes.CrearInput {
	return clientes.CrearInput{
		Rut:          NewRUT(),
		RazonSocial:  fmt.Sprintf("Empresa %d SpA", seq.Add(1)),
		Giro:         Ptr("Comercio"),
		Direccion:    Ptr("Av. Apoquindo 1234, Las Condes"),
		Telefono:     Ptr("+56 2 2345 6789"),
		Email:        "finanzas@empresa.cl",
		LineaCredito: Dec(linea),
	}
}

// MustCrearCliente creates a cliente (PENDIENTE) with the given line
// through clientes.Crear.
func (e *Env) MustCrearCliente(t testing.TB, linea string) *ent.Cliente {
	t.Helper()
	c, err := e.Svc.Clientes.Crear(e.Ctx, ClienteInput(linea))
	require.NoError(t, err)
	return c
}

// MustCrearClienteActivo creates a cliente and activates it.
func (e *Env) MustCrearClienteActivo(t testing.TB, linea string) *ent.Cliente {
	t.Helper()
	c := e.MustCrearCliente(t, linea)
	c, err := e.Svc.Clientes.Activar(e.Ctx, c.ID)
	require.NoError(t, err)
	return c
}

// FacturaInput is a valid RegistrarInput of cliente for monto, due on
// vence and issued 60 days before.
func FacturaInput(clienteID int, monto string, vence time.Time) facturas.RegistrarInput {
	// Issued 60 days before it falls due, and never after today: an
	// invoice is not issued in the future.
	emision := vence.AddDate(0, 0, -60)
	if emision.After(HoyFecha) {
		emision = HoyFecha
	}
	return facturas.RegistrarInput{
		ClienteID:         clienteID,
		NumeroFactura:     fmt.Sprintf("F-%06d", seq.Add(1)),
		RutDeudor:         NewRUT(),
		RazonSocialDeudor: "Deudor Comercial Ltda.",
		MontoTotal:        Dec(monto),
		FechaEmision:      emision,
		FechaVencimiento:  vence,
	}
}

// FacturaInputDe is FacturaInput owed by the deudor of rutDeudor.
func FacturaInputDe(clienteID int, rutDeudor, monto string, vence time.Time) facturas.RegistrarInput {
	in := FacturaInput(clienteID, monto, vence)
	in.RutDeudor = rutDeudor
	return in
}

// MustRegistrarFacturaDe registers a DISPONIBLE factura of cliente for
// monto, due in 90 days, owed by the deudor of rutDeudor (created the
// first time its RUT is seen).
func (e *Env) MustRegistrarFacturaDe(t testing.TB, clienteID int, rutDeudor, monto string) *ent.Factura {
	t.Helper()
	f, err := e.Svc.Facturas.Registrar(e.Ctx, FacturaInputDe(clienteID, rutDeudor, monto, Vence(90)))
	require.NoError(t, err)
	return f
}

// MustOperacionPendienteDe registers one factura per monto, owed by the
// deudor of rutDeudor, and opens a PENDIENTE operación over them.
func (e *Env) MustOperacionPendienteDe(t testing.TB, clienteID int, rutDeudor string, montos ...string) (*ent.Operacion, []int) {
	t.Helper()
	ids := make([]int, len(montos))
	for i, m := range montos {
		ids[i] = e.MustRegistrarFacturaDe(t, clienteID, rutDeudor, m).ID
	}
	return e.MustCrearOperacion(t, clienteID, ids...), ids
}

// MustCrearDeudor makes a deudor with a fresh RUT the way deudores come to
// be: a factura of a new cliente names it. It returns the deudor.
func (e *Env) MustCrearDeudor(t testing.TB) *ent.Deudor {
	t.Helper()
	c := e.MustCrearClienteActivo(t, "1000000.00")
	return e.DeudorDe(t, e.MustRegistrarFactura(t, c.ID, "1000.00", Vence(90)).ID)
}

// MustRegistrarFactura registers a DISPONIBLE factura of cliente for
// monto, due on vence.
func (e *Env) MustRegistrarFactura(t testing.TB, clienteID int, monto string, vence time.Time) *ent.Factura {
	t.Helper()
	f, err := e.Svc.Facturas.Registrar(e.Ctx, FacturaInput(clienteID, monto, vence))
	require.NoError(t, err)
	return f
}

// MustRegistrarFacturas registers one factura per monto, each due in 90
// days, and returns them with their ids.
func (e *Env) MustRegistrarFacturas(t testing.TB, clienteID int, montos ...string) ([]*ent.Factura, []int) {
	t.Helper()
	fs := make([]*ent.Factura, len(montos))
	ids := make([]int, len(montos))
	for i, m := range montos {
		fs[i] = e.MustRegistrarFactura(t, clienteID, m, Vence(90))
		ids[i] = fs[i].ID
	}
	return fs, ids
}

// MustCrearOperacion opens a PENDIENTE operación through operaciones.Crear.
func (e *Env) MustCrearOperacion(t testing.TB, clienteID int, facturaIDs ...int) *ent.Operacion {
	t.Helper()
	op, err := e.Svc.Operaciones.Crear(e.Ctx, operaciones.CrearInput{ClienteID: clienteID, FacturaIDs: facturaIDs})
	require.NoError(t, err)
	return op
}

// MustOperacionPendiente registers one factura per monto (due in 90 days)
// and opens a PENDIENTE operación over them.
func (e *Env) MustOperacionPendiente(t testing.TB, clienteID int, montos ...string) (*ent.Operacion, []int) {
	t.Helper()
	_, ids := e.MustRegistrarFacturas(t, clienteID, montos...)
	return e.MustCrearOperacion(t, clienteID, ids...), ids
}

// MustOperacionAprobada is MustOperacionPendiente, approved.
func (e *Env) MustOperacionAprobada(t testing.TB, clienteID int, montos ...string) (*ent.Operacion, []int) {
	t.Helper()
	op, ids := e.MustOperacionPendiente(t, clienteID, montos...)
	op, err := e.Svc.Operaciones.Aprobar(e.Ctx, op.ID)
	require.NoError(t, err)
	return op, ids
}

// MustOperacionDesembolsada is MustOperacionAprobada, disbursed.
func (e *Env) MustOperacionDesembolsada(t testing.TB, clienteID int, montos ...string) (*ent.Operacion, []int) {
	t.Helper()
	op, ids := e.MustOperacionAprobada(t, clienteID, montos...)
	op, err := e.Svc.Operaciones.Desembolsar(e.Ctx, op.ID)
	require.NoError(t, err)
	return op, ids
}

// MustPagarTodas pays every factura.
func (e *Env) MustPagarTodas(t testing.TB, ids ...int) {
	t.Helper()
	for _, id := range ids {
		_, err := e.Svc.Facturas.Pagar(e.Ctx, id)
		require.NoError(t, err)
	}
}

// Cliente reads a cliente as stored.
func (e *Env) Cliente(t testing.TB, id int) *ent.Cliente {
	t.Helper()
	c, err := e.DB.Client.Cliente.Get(context.Background(), id)
	require.NoError(t, err)
	return c
}

// Factura reads a factura as stored.
func (e *Env) Factura(t testing.TB, id int) *ent.Factura {
	t.Helper()
	f, err := e.DB.Client.Factura.Get(context.Background(), id)
	require.NoError(t, err)
	return f
}

// Operacion reads an operación as stored.
func (e *Env) Operacion(t testing.TB, id int) *ent.Operacion {
	t.Helper()
	op, err := e.DB.Client.Operacion.Get(context.Background(), id)
	require.NoError(t, err)
	return op
}

// Deudor reads a deudor as stored.
func (e *Env) Deudor(t testing.TB, id int) *ent.Deudor {
	t.Helper()
	d, err := e.DB.Client.Deudor.Get(context.Background(), id)
	require.NoError(t, err)
	return d
}

// DeudorDe reads the deudor of a factura.
func (e *Env) DeudorDe(t testing.TB, facturaID int) *ent.Deudor {
	t.Helper()
	return e.Deudor(t, e.Factura(t, facturaID).DeudorID)
}

// Exposicion is a deudor's exposure as the approval computes it.
func (e *Env) Exposicion(t testing.TB, deudorID int) string {
	t.Helper()
	exp, err := deudores.Exposiciones(context.Background(), e.DB.Client, []int{deudorID})
	require.NoError(t, err)
	return exp[deudorID].StringFixed(2)
}

// Eventos reads an operación's events in the order they were written.
func (e *Env) Eventos(t testing.TB, opID int) []*ent.OperacionEvento {
	t.Helper()
	evs, err := e.DB.Client.OperacionEvento.Query().
		Where(operacionevento.OperacionID(opID)).
		Order(ent.Asc(operacionevento.FieldID)).
		All(context.Background())
	require.NoError(t, err)
	return evs
}

// RequireLinea asserts a cliente's stored credit line and available line.
func (e *Env) RequireLinea(t testing.TB, clienteID int, credito, disponible string) {
	t.Helper()
	c := e.Cliente(t, clienteID)
	require.Equal(t, credito, c.LineaCredito.StringFixed(2), "lineaCredito")
	require.Equal(t, disponible, c.LineaDisponible.StringFixed(2), "lineaDisponible")
}

// RequireEstadoFacturas asserts the stored state of every factura.
func (e *Env) RequireEstadoFacturas(t testing.TB, want estado.Factura, ids ...int) {
	t.Helper()
	for _, id := range ids {
		require.Equal(t, want, e.Factura(t, id).Estado, "estado de la factura %d", id)
	}
}

// Counts is how many rows each table holds.
type Counts struct {
	Clientes, Facturas, Operaciones, Links, Eventos int
}

// Count counts the rows of every table.
func (e *Env) Count(t testing.TB) Counts {
	t.Helper()
	ctx := context.Background()
	var c Counts
	var err error
	c.Clientes, err = e.DB.Client.Cliente.Query().Count(ctx)
	require.NoError(t, err)
	c.Facturas, err = e.DB.Client.Factura.Query().Count(ctx)
	require.NoError(t, err)
	c.Operaciones, err = e.DB.Client.Operacion.Query().Count(ctx)
	require.NoError(t, err)
	c.Links, err = e.DB.Client.OperacionFactura.Query().Count(ctx)
	require.NoError(t, err)
	c.Eventos, err = e.DB.Client.OperacionEvento.Query().Count(ctx)
	require.NoError(t, err)
	return c
}

// RequireCode asserts that err carries code and blames exactly fields (in
// any order; none when fields is empty), and returns the *apperror.Error.
func RequireCode(t testing.TB, err error, code apperror.Code, fields ...string) *apperror.Error {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, code, apperror.CodeOf(err), "error: %v", err)
	appErr, ok := apperror.As(err)
	require.True(t, ok)
	got := slices.Sorted(maps.Keys(appErr.Fields))
	if len(fields) == 0 {
		require.Empty(t, got, "error: %v", err)
	} else {
		require.Equal(t, slices.Sorted(slices.Values(fields)), got, "error: %v", err)
	}
	return appErr
}

// RequireVerificado runs verificar over db and requires zero violations.
func RequireVerificado(t testing.TB, db *database.DB) verificar.Report {
	t.Helper()
	r, err := verificar.Run(context.Background(), db.Client)
	require.NoError(t, err)
	require.Empty(t, r.Violations, "invariantes violados")
	return r
}

// Race runs fn(0) … fn(n-1) in n goroutines released together (they all
// wait on one channel that is then closed) and returns their errors, by i.
func Race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// Tally counts errors by code ("OK" for nil).
func Tally(errs []error) map[string]int {
	out := map[string]int{}
	for _, err := range errs {
		if err == nil {
			out["OK"]++
			continue
		}
		out[string(apperror.CodeOf(err))]++
	}
	return out
}

// Snapshot renders every row of the database that a mutation may change
// (states, lines, dates, reasons, links, events), in id order: two equal
// snapshots mean nothing changed in between.
func (e *Env) Snapshot(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	cs, err := e.DB.Client.Cliente.Query().Order(ent.Asc("id")).All(ctx)
	require.NoError(t, err)
	for _, c := range cs {
		fmt.Fprintf(&b, "cliente %d %s %s/%s %v %v %v %s\n", c.ID, c.Estado, c.LineaCredito.StringFixed(2),
			c.LineaDisponible.StringFixed(2), deref(c.MotivoEstado), deref(c.Giro), deref(c.ConcentracionMaxima), c.ActualizadoEn.UTC())
	}
	fs, err := e.DB.Client.Factura.Query().Order(ent.Asc("id")).All(ctx)
	require.NoError(t, err)
	for _, f := range fs {
		fmt.Fprintf(&b, "factura %d %s %v %s %v %s\n", f.ID, f.Estado, deref(f.MotivoAnulacion), f.EstadoAcuse, deref(f.MotivoAcuse), f.ActualizadoEn.UTC())
	}
	ds, err := e.DB.Client.Deudor.Query().Order(ent.Asc("id")).All(ctx)
	require.NoError(t, err)
	for _, d := range ds {
		fmt.Fprintf(&b, "deudor %d %s %s %v %v %s\n", d.ID, d.Estado, d.RazonSocial, deref(d.LineaExposicion), deref(d.MotivoEstado), d.ActualizadoEn.UTC())
	}
	ops, err := e.DB.Client.Operacion.Query().Order(ent.Asc("id")).All(ctx)
	require.NoError(t, err)
	for _, o := range ops {
		fmt.Fprintf(&b, "operacion %d %s %v %v %v %v %s\n", o.ID, o.Estado, deref(o.FechaAprobacion), deref(o.FechaDesembolso),
			deref(o.FechaFinalizacion), deref(o.MotivoRechazo), o.ActualizadoEn.UTC())
	}
	links, err := e.DB.Client.OperacionFactura.Query().All(ctx)
	require.NoError(t, err)
	slices.SortFunc(links, func(a, b *ent.OperacionFactura) int {
		if a.OperacionID != b.OperacionID {
			return a.OperacionID - b.OperacionID
		}
		return a.FacturaID - b.FacturaID
	})
	for _, l := range links {
		fmt.Fprintf(&b, "link %d %d\n", l.OperacionID, l.FacturaID)
	}
	evs, err := e.DB.Client.OperacionEvento.Query().Order(ent.Asc("id")).All(ctx)
	require.NoError(t, err)
	for _, ev := range evs {
		fmt.Fprintf(&b, "evento %d %d %s\n", ev.ID, ev.OperacionID, ev.Tipo)
	}
	return b.String()
}

func deref[T any](p *T) any {
	if p == nil {
		return "nil"
	}
	return *p
}
