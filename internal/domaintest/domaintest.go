// Package domaintest builds the data of the domain's own tests through the
// domain services, never around them: a cliente made here went through
// clientes.Crear and clientes.Activar, an operación through
// operaciones.Crear, so every row a test starts from obeys the rules it is
// about to check. It also holds the assertions those tests share: an error's
// code and fields, the invariants (verificar) and an operación's events.
//
// Only tests import it. It imports the services (through internal/app, which
// wires them as the server does), ent, and the small shared packages.
package domaintest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/operacionevento"
	"github.com/banpro/factoring/internal/app"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/apptest"
	"github.com/banpro/factoring/internal/clientes"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/facturas"
	"github.com/banpro/factoring/internal/gqltest"
	"github.com/banpro/factoring/internal/operaciones"
	"github.com/banpro/factoring/internal/rut"
	"github.com/banpro/factoring/internal/verificar"
)

// Env is one test's domain: a database, the services over it as the server
// wires them (tasa 2.00, America/Santiago) and their fixed clock, stopped at
// apptest.Hoy until a test moves it.
type Env struct {
	DB    *database.DB
	Svc   app.ServiceSet
	Clock *clock.Fixed
	// Ctx is the context the builders call the services with.
	Ctx context.Context
}

// New returns the domain of db.
func New(t testing.TB, db *database.DB) *Env {
	t.Helper()
	svc, c := apptest.Services(t, db)
	return &Env{DB: db, Svc: svc, Clock: c, Ctx: context.Background()}
}

// HoyFecha is the business date of apptest.Hoy, 2026-11-26, as the code
// base writes dates (midnight UTC).
var HoyFecha = clock.Today(apptest.Hoy, apptest.Santiago)

// Vence returns the date n days after HoyFecha (before it when n < 0).
func Vence(n int) time.Time { return HoyFecha.AddDate(0, 0, n) }

// seq numbers RUTs and invoice numbers so that no two builders in one
// process ever clash.
var seq atomic.Int64

// Body returns a fresh RUT body (8 digits) never handed out before in this
// process.
func Body() int { return 20_000_000 + int(seq.Add(1))*7 }

// BodyK returns a fresh RUT body whose check digit is K.
func BodyK() int {
	for {
		if b := Body(); rut.CheckDigit(b) == 'K' {
			return b
		}
	}
}

// Body7 returns a fresh RUT body of 7 digits (its canonical form has no
// leading zero: 9.876.543-3).
func Body7() int { return 1_000_000 + int(seq.Add(1))*7 }

// NewRUT returns a fresh RUT in canonical form.
func NewRUT() string {
	b := Body()
	return rut.Format(b, rut.CheckDigit(b))
}

// Spellings returns accepted spellings of the RUT with body b, the
// canonical one first: with and without dots, without a hyphen, with
// leading zeros, surrounded by spaces, with a lowercase k.
func Spellings(b int) []string {
	dv := string(rut.CheckDigit(b))
	digits := strconv.Itoa(b)
	out := []string{
		rut.Format(b, rut.CheckDigit(b)),
		digits + "-" + dv,
		digits + strings.ToLower(dv),
		"  " + dotted(digits) + "-" + strings.ToLower(dv) + " ",
		dotted("0"+digits) + "-" + dv,
		"00" + digits + "-" + dv,
	}
	return out
}

// dotted groups digits by three from the right with dots.
func dotted(digits string) string {
	var b strings.Builder
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Dec parses a decimal literal.
func Dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// Ptr returns a pointer to v.
func Ptr[T any](v T) *T { return &v }

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
	n := seq.Add(1)
	deudor := 30_000_000 + int(n)*7
	// Issued 60 days before it falls due, and never after today: an
	// invoice is not issued in the future.
	emision := vence.AddDate(0, 0, -60)
	if emision.After(HoyFecha) {
		emision = HoyFecha
	}
	return facturas.RegistrarInput{
		ClienteID:         clienteID,
		NumeroFactura:     fmt.Sprintf("F-%06d", n),
		RutDeudor:         rut.Format(deudor, rut.CheckDigit(deudor)),
		RazonSocialDeudor: "Deudor Comercial Ltda.",
		MontoTotal:        Dec(monto),
		FechaEmision:      emision,
		FechaVencimiento:  vence,
	}
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

// RequireGQLError asserts that a GraphQL error carries code in
// extensions.code, blames exactly fields in extensions.fields (none when
// fields is empty) and carries a requestId.
func RequireGQLError(t testing.TB, e gqltest.Error, code apperror.Code, fields ...string) {
	t.Helper()
	require.Equal(t, string(code), e.Extensions.Code, "error: %+v", e)
	got := slices.Sorted(maps.Keys(e.Extensions.Fields))
	if len(fields) == 0 {
		require.Empty(t, got, "error: %+v", e)
	} else {
		require.Equal(t, slices.Sorted(slices.Values(fields)), got, "error: %+v", e)
	}
	require.NotEmpty(t, e.Extensions.RequestID, "every error carries extensions.requestId")
	for _, v := range e.Extensions.Fields {
		require.NotEmpty(t, v, "every blamed field has a message")
	}
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
		fmt.Fprintf(&b, "cliente %d %s %s/%s %v %v %s\n", c.ID, c.Estado, c.LineaCredito.StringFixed(2),
			c.LineaDisponible.StringFixed(2), deref(c.MotivoEstado), deref(c.Giro), c.ActualizadoEn.UTC())
	}
	fs, err := e.DB.Client.Factura.Query().Order(ent.Asc("id")).All(ctx)
	require.NoError(t, err)
	for _, f := range fs {
		fmt.Fprintf(&b, "factura %d %s %v %s\n", f.ID, f.Estado, deref(f.MotivoAnulacion), f.ActualizadoEn.UTC())
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
