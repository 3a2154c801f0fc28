package operaciones

// The decide functions are pure: these tables run them on values, without a
// database, one row per branch.

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/gid"
)

var hoy = clock.Date(2026, time.November, 26)

// Factura ids as ent hands them out (the second type's range).
const (
	f1 = 1<<32 + 1
	f2 = 1<<32 + 2
	f3 = 1<<32 + 3
	// op1 is an operación id (the third type's range).
	op1 = 2<<32 + 1
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// requireRefused asserts that err is a VALIDATION_ERROR blaming exactly
// field, whose message names every id in listed.
func requireRefused(t *testing.T, err *apperror.Error, field string, listed ...int) {
	t.Helper()
	require.NotNil(t, err)
	assert.Equal(t, apperror.Validation, err.Code)
	require.Equal(t, []string{field}, slices.Sorted(maps.Keys(err.Fields)), "error: %v", err)
	for _, id := range listed {
		assert.Contains(t, err.Fields[field], gid.Encode(id))
	}
}

// TestDecideAprobar ensures that an approval passes only with the cliente
// ACTIVO, every invoice EN_PROCESO and not overdue, and the available line
// covering the total, an equal amount included, and that it reports the
// first rule broken in that order.
func TestDecideAprobar(t *testing.T) {
	type caso struct {
		name       string
		setup      func(c *ent.Cliente, op *ent.Operacion, fs []*ent.Factura)
		field      string // "" when the approval passes
		listed     []int
		notListed  []int
		messageHas string
	}
	casos := []caso{
		{name: "aprueba_con_la_linea_justa", setup: func(c *ent.Cliente, op *ent.Operacion, fs []*ent.Factura) {}},
		{name: "aprueba_con_linea_de_sobra", setup: func(c *ent.Cliente, op *ent.Operacion, fs []*ent.Factura) {
			c.LineaDisponible = dec("1000000.00")
		}},
		{name: "aprueba_facturas_que_vencen_hoy", setup: func(c *ent.Cliente, op *ent.Operacion, fs []*ent.Factura) {
			for _, f := range fs {
				f.FechaVencimiento = hoy
			}
		}},
		{name: "un_centavo_sobre_la_linea_disponible", field: "lineaDisponible", messageHas: "3000.00",
			setup: func(c *ent.Cliente, op *ent.Operacion, fs []*ent.Factura) {
				c.LineaDisponible = dec("2999.99")
			}},
		{name: "linea_disponible_agotada", field: "lineaDisponible", setup: func(c *ent.Cliente, op *ent.Operacion, fs []*ent.Factura) {
			c.LineaDisponible = decimal.Zero
		}},
		{name: "cliente_pendiente", field: "cliente", messageHas: "PENDIENTE", setup: func(c *ent.Cliente, op *ent.Operacion, fs []*ent.Factura) {
			c.Estado = estado.ClientePendiente
		}},
		{name: "cliente_suspendido", field: "cliente", messageHas: "SUSPENDIDO", setup: func(c *ent.Cliente, op *ent.Operacion, fs []*ent.Factura) {
			c.Estado = estado.ClienteSuspendido
		}},
		{name: "cliente_bloqueado", field: "cliente", messageHas: "BLOQUEADO", setup: func(c *ent.Cliente, op *ent.Operacion, fs []*ent.Factura) {
			c.Estado = estado.ClienteBloqueado
		}},
		{name: "factura_vencida_ayer", field: "facturas", listed: []int{f2}, notListed: []int{f1, f3}, messageHas: "vencida el 2026-11-25",
			setup: func(c *ent.Cliente, op *ent.Operacion, fs []*ent.Factura) {
				fs[1].FechaVencimiento = hoy.AddDate(0, 0, -1)
			}},
		{name: "facturas_que_ya_no_estan_en_proceso", field: "facturas", listed: []int{f1, f3}, notListed: []int{f2},
			setup: func(c *ent.Cliente, op *ent.Operacion, fs []*ent.Factura) {
				fs[0].Estado = estado.FacturaPagada
				fs[2].Estado = estado.FacturaAnulada
			}},
		{name: "cada_estado_que_no_es_en_proceso", field: "facturas", listed: []int{f1, f2, f3}, messageHas: "VENCIDA",
			setup: func(c *ent.Cliente, op *ent.Operacion, fs []*ent.Factura) {
				fs[0].Estado = estado.FacturaDisponible
				fs[1].Estado = estado.FacturaCedida
				fs[2].Estado = estado.FacturaVencida
			}},
		{name: "el_cliente_se_informa_antes_que_las_facturas", field: "cliente",
			setup: func(c *ent.Cliente, op *ent.Operacion, fs []*ent.Factura) {
				c.Estado = estado.ClienteSuspendido
				fs[0].Estado = estado.FacturaPagada
				c.LineaDisponible = decimal.Zero
			}},
		{name: "las_facturas_se_informan_antes_que_la_linea", field: "facturas", listed: []int{f1},
			setup: func(c *ent.Cliente, op *ent.Operacion, fs []*ent.Factura) {
				fs[0].Estado = estado.FacturaPagada
				c.LineaDisponible = decimal.Zero
			}},
	}
	for _, tc := range casos {
		t.Run(tc.name, func(t *testing.T) {
			// An operación of 3000.00 over three invoices due in a month,
			// and a cliente whose available line is exactly 3000.00.
			c := &ent.Cliente{ID: 1, Estado: estado.ClienteActivo, LineaCredito: dec("5000.00"), LineaDisponible: dec("3000.00")}
			op := &ent.Operacion{ClienteID: c.ID, Estado: estado.OperacionPendiente, MontoTotalFacturas: dec("3000.00")}
			var fs []*ent.Factura
			for _, id := range []int{f1, f2, f3} {
				fs = append(fs, &ent.Factura{ID: id, ClienteID: c.ID, Estado: estado.FacturaEnProceso,
					MontoTotal: dec("1000.00"), FechaVencimiento: hoy.AddDate(0, 1, 0)})
			}
			tc.setup(c, op, fs)

			err := decideAprobar(c, op, fs, hoy, riesgo{})
			if tc.field == "" {
				assert.Nil(t, err)
				return
			}
			requireRefused(t, err, tc.field, tc.listed...)
			for _, id := range tc.notListed {
				assert.NotContains(t, err.Fields[tc.field], gid.Encode(id))
			}
			assert.Contains(t, err.Fields[tc.field], tc.messageHas)
		})
	}
}

// TestDecideCrear ensures that a creation passes only with the cliente
// ACTIVO and every named invoice existing, the cliente's, DISPONIBLE and
// not overdue, with a positive total; that it reports the first rule broken
// in that order; and that it prices what it lets through.
func TestDecideCrear(t *testing.T) {
	tasa := dec("2.00")
	type caso struct {
		name string
		ids  []int // the ids asked for; f1, f2 when nil
		// holders maps an invoice to the operación that holds it.
		holders map[int]int
		setup   func(c *ent.Cliente, fs []*ent.Factura) []*ent.Factura
		field   string
		listed  []int
	}
	keep := func(c *ent.Cliente, fs []*ent.Factura) []*ent.Factura { return fs }
	casos := []caso{
		{name: "crea_con_facturas_que_vencen_hoy", setup: func(c *ent.Cliente, fs []*ent.Factura) []*ent.Factura {
			fs[0].FechaVencimiento = hoy
			return fs
		}},
		{name: "cliente_pendiente", field: "clienteId", setup: func(c *ent.Cliente, fs []*ent.Factura) []*ent.Factura {
			c.Estado = estado.ClientePendiente
			fs[0].Estado = estado.FacturaPagada
			return fs
		}},
		{name: "factura_inexistente", ids: []int{f1, f2, f3}, field: "facturaIds", listed: []int{f3}, setup: keep},
		{name: "factura_de_otro_cliente", field: "facturaIds", listed: []int{f2}, setup: func(c *ent.Cliente, fs []*ent.Factura) []*ent.Factura {
			fs[1].ClienteID = c.ID + 1
			return fs
		}},
		{name: "factura_no_disponible", field: "facturaIds", listed: []int{f1}, setup: func(c *ent.Cliente, fs []*ent.Factura) []*ent.Factura {
			fs[0].Estado = estado.FacturaEnProceso
			return fs
		}},
		{name: "factura_retenida_nombra_su_operacion", field: "facturaIds", listed: []int{f1, op1}, holders: map[int]int{f1: op1}, setup: func(c *ent.Cliente, fs []*ent.Factura) []*ent.Factura {
			fs[0].Estado = estado.FacturaEnProceso
			return fs
		}},
		{name: "factura_vencida_ayer", field: "facturaIds", listed: []int{f2}, setup: func(c *ent.Cliente, fs []*ent.Factura) []*ent.Factura {
			fs[1].FechaVencimiento = hoy.AddDate(0, 0, -1)
			return fs
		}},
		{name: "total_cero", field: "facturaIds", setup: func(c *ent.Cliente, fs []*ent.Factura) []*ent.Factura {
			for _, f := range fs {
				f.MontoTotal = decimal.Zero
			}
			return fs
		}},
	}
	for _, tc := range casos {
		t.Run(tc.name, func(t *testing.T) {
			c := &ent.Cliente{ID: 1, Estado: estado.ClienteActivo}
			fs := []*ent.Factura{
				{ID: f1, ClienteID: c.ID, Estado: estado.FacturaDisponible, MontoTotal: dec("100000.00"), FechaVencimiento: hoy.AddDate(0, 0, 30)},
				{ID: f2, ClienteID: c.ID, Estado: estado.FacturaDisponible, MontoTotal: dec("200000.00"), FechaVencimiento: hoy.AddDate(0, 0, 120)},
			}
			ids := tc.ids
			if ids == nil {
				ids = []int{f1, f2}
			}
			p, err := decideCrear(c, ids, tc.setup(c, fs), tc.holders, hoy, tasa, riesgo{})
			if tc.field != "" {
				requireRefused(t, err, tc.field, tc.listed...)
				return
			}
			require.Nil(t, err)
			// 300000.00 at 2.00 % for the 120 days to the latest due date.
			assert.Equal(t, "300000.00", p.total.StringFixed(2))
			assert.Equal(t, 120, p.dias)
			assert.Equal(t, "2000.00", p.descuento.StringFixed(2))
		})
	}
}
