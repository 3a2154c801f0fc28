// Package seed loads the original system's demo data: four clientes (two
// ACTIVO, two SUSPENDIDO) and their facturas. It is idempotent: a cliente is
// found by RUT and a factura by (cliente, número) before anything is created,
// and what exists is left as it is.
package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/cliente"
	"github.com/banpro/factoring/ent/factura"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/estado"
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

// Run loads the demo data in one transaction.
func Run(ctx context.Context, client *ent.Client, opts Options) (res Result, err error) {
	tx, err := client.Tx(ctx)
	if err != nil {
		return res, fmt.Errorf("seed: iniciar transacción: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	now := opts.Clock.Now()
	hoy := clock.Today(now, opts.TimeZone)
	ids := map[string]int{}
	for _, c := range clientesDemo {
		id, created, err := ensureCliente(ctx, tx, c, now)
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
		created, err := ensureFactura(ctx, tx, ids[f.clienteRut], f, opts.SoloDisponibles, now, hoy)
		if err != nil {
			return res, err
		}
		if created {
			res.FacturasCreadas++
		} else {
			res.FacturasExistentes++
		}
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("seed: confirmar transacción: %w", err)
	}
	return res, nil
}

func ensureCliente(ctx context.Context, tx *ent.Tx, c clienteDemo, now time.Time) (id int, created bool, err error) {
	canonical, err := rut.Normalize(c.rut)
	if err != nil {
		return 0, false, fmt.Errorf("seed: RUT %s: %w", c.rut, err)
	}
	existing, err := tx.Cliente.Query().Where(cliente.Rut(canonical)).Only(ctx)
	switch {
	case err == nil:
		return existing.ID, false, nil
	case !ent.IsNotFound(err):
		return 0, false, fmt.Errorf("seed: buscar cliente %s: %w", canonical, err)
	}
	linea := decimal.RequireFromString(c.lineaCredito)
	row, err := tx.Cliente.Create().
		SetRut(canonical).
		SetRazonSocial(c.razonSocial).
		SetEmail(c.email).
		SetFechaRegistro(now).
		SetLineaCredito(linea).
		SetLineaDisponible(linea).
		SetEstado(c.estado).
		SetCreadoEn(now).
		SetActualizadoEn(now).
		Save(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("seed: crear cliente %s: %w", canonical, err)
	}
	return row.ID, true, nil
}

func ensureFactura(ctx context.Context, tx *ent.Tx, clienteID int, f facturaDemo, soloDisponibles bool, now, hoy time.Time) (bool, error) {
	exists, err := tx.Factura.Query().
		Where(factura.ClienteID(clienteID), factura.NumeroFactura(f.numero)).
		Exist(ctx)
	if err != nil {
		return false, fmt.Errorf("seed: buscar factura %s: %w", f.numero, err)
	}
	if exists {
		return false, nil
	}
	rutDeudor, err := rut.Normalize(f.rutDeudor)
	if err != nil {
		return false, fmt.Errorf("seed: RUT deudor %s: %w", f.rutDeudor, err)
	}
	create := tx.Factura.Create().
		SetClienteID(clienteID).
		SetNumeroFactura(f.numero).
		SetRutDeudor(rutDeudor).
		SetRazonSocialDeudor(f.razonSocialDeudor).
		SetMontoTotal(decimal.RequireFromString(f.monto)).
		SetFechaEmision(hoy.AddDate(0, 0, -5)).
		SetFechaVencimiento(hoy.AddDate(0, 0, f.diasHastaVencimiento)).
		SetEstado(estado.FacturaDisponible).
		SetCreadoEn(now).
		SetActualizadoEn(now)
	if !soloDisponibles {
		create.SetEstado(f.estado)
		if f.estado == estado.FacturaAnulada {
			create.SetMotivoAnulacion("Factura anulada en los datos de demostración")
		}
	}
	if _, err := create.Save(ctx); err != nil {
		return false, fmt.Errorf("seed: crear factura %s: %w", f.numero, err)
	}
	return true, nil
}

// Empty reports whether the database has no clientes yet.
func Empty(ctx context.Context, client *ent.Client) (bool, error) {
	exists, err := client.Cliente.Query().Exist(ctx)
	return !exists, err
}
