// Package seed loads the original system's demo data: four clientes (two
// ACTIVO, two SUSPENDIDO) and their facturas, through the domain services,
// so the data has its audit trail like any other. It is idempotent: a
// cliente is found by RUT and a factura by (cliente, número) before
// anything is created, and what exists is left as it is.
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
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/facturas"
	"github.com/banpro/factoring/internal/requestid"
	"github.com/banpro/factoring/internal/rut"
)

type clienteDemo struct {
	rut, razonSocial, email string
	estado                  estado.Cliente
	lineaCredito            string
}

// The original seed_clientes command's data.
var clientesDemo = []clienteDemo{
	{"12.345.678-5", "Empresa Alpha SpA", "alpha@empresa.cl", estado.ClienteActivo, "10000000.00"},
	{"11.111.111-1", "Empresa Beta Ltda", "beta@empresa.cl", estado.ClienteActivo, "5000000.00"},
	{"9.876.543-3", "Empresa Gamma SpA", "gamma@empresa.cl", estado.ClienteSuspendido, "20000000.00"},
	{"26.271.832-8", "Empresa Nessa SpA", "nessa@empresa.cl", estado.ClienteSuspendido, "20000000.00"},
}

type facturaDemo struct {
	clienteRut, numero, rutDeudor, razonSocialDeudor, monto string
	diasHastaVencimiento                                    int
	// estado is what the original seed left it in without --solo-disponibles.
	estado estado.Factura
}

// The original seed_facturas command's data: issued five days ago, due in
// the given number of days.
var facturasDemo = []facturaDemo{
	{"12.345.678-5", "F-1001", "76.543.210-3", "Deudor Uno SpA", "1500000.00", 30, estado.FacturaPagada},
	{"12.345.678-5", "F-1002", "77.777.777-7", "Deudor Dos Ltda", "2500000.00", 45, estado.FacturaAnulada},
	{"11.111.111-1", "F-2001", "76.543.210-3", "Deudor Uno SpA", "900000.00", 20, estado.FacturaPagada},
	{"11.111.111-1", "F-2002", "88.888.888-8", "Deudor Tres SpA", "3000000.00", 60, estado.FacturaAnulada},
	{"9.876.543-3", "F-3001", "99.999.999-9", "Deudor Cuatro SpA", "1200000.00", 15, estado.FacturaPagada},
}

// Options of a seed run.
type Options struct {
	// SoloDisponibles keeps every factura DISPONIBLE; otherwise the ones
	// ending in 01 are PAGADA and those ending in 02 ANULADA, as in the
	// original system.
	SoloDisponibles bool
	Clock           clock.Clock
	TimeZone        *time.Location
}

// Result counts what a run created and what it found already there.
type Result struct {
	ClientesCreados, ClientesExistentes int
	FacturasCreadas, FacturasExistentes int
}

// Run loads the demo data through the domain services, as actor sistema,
// so that every row obeys the rules and has its audit entries: each
// cliente is created, activated and, for the suspended ones, suspended;
// each factura is registered and, unless SoloDisponibles, paid or voided.
// A cliente or factura already there is left as it is, in whatever state.
func Run(ctx context.Context, db *database.DB, opts Options) (res Result, err error) {
	ctx = requestid.Ensure(auth.NewContext(ctx, auth.Principal{Subject: auth.Sistema}))
	cs := clientes.NewService(db, opts.Clock)
	fs := facturas.NewService(db, opts.Clock)
	hoy := clock.Today(opts.Clock.Now(), opts.TimeZone)
	ids := map[string]int{}
	for _, c := range clientesDemo {
		id, created, err := ensureCliente(ctx, db.Client, cs, c)
		if err != nil {
			return res, err
		}
		ids[c.rut] = id
		if created {
			res.ClientesCreados++
		} else {
			res.ClientesExistentes++
		}
	}
	for _, f := range facturasDemo {
		created, err := ensureFactura(ctx, db.Client, fs, ids[f.clienteRut], f, opts.SoloDisponibles, hoy)
		if err != nil {
			return res, err
		}
		if created {
			res.FacturasCreadas++
		} else {
			res.FacturasExistentes++
		}
	}
	return res, nil
}

func ensureCliente(ctx context.Context, client *ent.Client, cs *clientes.Service, c clienteDemo) (id int, created bool, err error) {
	canonical, err := rut.Normalize(c.rut)
	if err != nil {
		return 0, false, fmt.Errorf("seed: RUT %s: %w", c.rut, err)
	}
	existing, err := client.Cliente.Query().Where(cliente.Rut(canonical)).Only(ctx)
	switch {
	case err == nil:
		return existing.ID, false, nil
	case !ent.IsNotFound(err):
		return 0, false, fmt.Errorf("seed: buscar cliente %s: %w", canonical, err)
	}
	row, err := cs.Crear(ctx, clientes.CrearInput{
		Rut:          canonical,
		RazonSocial:  c.razonSocial,
		Email:        c.email,
		LineaCredito: decimal.RequireFromString(c.lineaCredito),
	})
	if err != nil {
		return 0, false, fmt.Errorf("seed: %w", err)
	}
	// Every demo cliente was active at some point; the suspended ones then
	// were suspended.
	if _, err := cs.Activar(ctx, row.ID); err != nil {
		return 0, false, fmt.Errorf("seed: %w", err)
	}
	if c.estado == estado.ClienteSuspendido {
		motivo := "Suspendido en los datos de demostración"
		if _, err := cs.Suspender(ctx, row.ID, &motivo); err != nil {
			return 0, false, fmt.Errorf("seed: %w", err)
		}
	}
	return row.ID, true, nil
}

func ensureFactura(ctx context.Context, client *ent.Client, fs *facturas.Service, clienteID int, f facturaDemo, soloDisponibles bool, hoy time.Time) (bool, error) {
	exists, err := client.Factura.Query().
		Where(factura.ClienteID(clienteID), factura.NumeroFactura(f.numero)).
		Exist(ctx)
	if err != nil {
		return false, fmt.Errorf("seed: buscar factura %s: %w", f.numero, err)
	}
	if exists {
		return false, nil
	}
	row, err := fs.Registrar(ctx, facturas.RegistrarInput{
		ClienteID:         clienteID,
		NumeroFactura:     f.numero,
		RutDeudor:         f.rutDeudor,
		RazonSocialDeudor: f.razonSocialDeudor,
		MontoTotal:        decimal.RequireFromString(f.monto),
		FechaEmision:      hoy.AddDate(0, 0, -5),
		FechaVencimiento:  hoy.AddDate(0, 0, f.diasHastaVencimiento),
	})
	if err != nil {
		return false, fmt.Errorf("seed: %w", err)
	}
	if soloDisponibles {
		return true, nil
	}
	switch f.estado {
	case estado.FacturaPagada:
		_, err = fs.Pagar(ctx, row.ID)
	case estado.FacturaAnulada:
		motivo := "Factura anulada en los datos de demostración"
		_, err = fs.Anular(ctx, row.ID, &motivo)
	}
	if err != nil {
		return false, fmt.Errorf("seed: %w", err)
	}
	return true, nil
}

// Empty reports whether the database has no clientes yet.
func Empty(ctx context.Context, client *ent.Client) (bool, error) {
	exists, err := client.Cliente.Query().Exist(ctx)
	return !exists, err
}
