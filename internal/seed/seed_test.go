package seed_test

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/factura"
	"github.com/banpro/factoring/ent/operacion"
	"github.com/banpro/factoring/ent/operacionevento"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/seed"
	"github.com/banpro/factoring/internal/testkit"
	"github.com/banpro/factoring/internal/verificar"
)

var santiago = func() *time.Location {
	loc, err := time.LoadLocation("America/Santiago")
	if err != nil {
		panic(err)
	}
	return loc
}()

// ahora is 02:00 UTC on 2026-11-27, still the 26th in Santiago: "today" is
// the business date, not the server's UTC one.
var ahora = time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)

func options(at time.Time, solo bool) seed.Options {
	return seed.Options{SoloDisponibles: solo, Clock: clock.NewFixed(at), TimeZone: santiago}
}

type clienteEsperado struct {
	razonSocial string
	estado      estado.Cliente
	linea       string
	disponible  string
}

// The original system's four clientes keep their RUTs and names; the
// lines in use are the operaciones APROBADA or DESEMBOLSADA.
var clientesEsperados = map[string]clienteEsperado{
	"12.345.678-5": {"Empresa Alpha SpA", estado.ClienteActivo, "10000000.00", "7000000.00"},
	"11.111.111-1": {"Empresa Beta Ltda", estado.ClienteActivo, "5000000.00", "3200000.00"},
	"9.876.543-3":  {"Empresa Gamma SpA", estado.ClienteSuspendido, "20000000.00", "20000000.00"},
	"26.271.832-8": {"Empresa Nessa SpA", estado.ClienteSuspendido, "20000000.00", "20000000.00"},
	"76.086.428-5": {"Comercial Sur SpA", estado.ClienteActivo, "1000000.00", "1000000.00"},
	"77.123.456-9": {"Distribuidora Norte Ltda", estado.ClientePendiente, "3000000.00", "3000000.00"},
	"76.987.654-5": {"Importadora Delta SpA", estado.ClienteBloqueado, "8000000.00", "8000000.00"},
}

type facturaEsperada struct {
	clienteRut, monto string
	vence             int // days after the seed's date
	estado            estado.Factura
}

var facturasEsperadas = map[string]facturaEsperada{
	// The original system's five, as its seed left them.
	"F-1001": {"12.345.678-5", "1500000.00", 30, estado.FacturaPagada},
	"F-1002": {"12.345.678-5", "2500000.00", 45, estado.FacturaAnulada},
	"F-2001": {"11.111.111-1", "900000.00", 20, estado.FacturaPagada},
	"F-2002": {"11.111.111-1", "3000000.00", 60, estado.FacturaAnulada},
	"F-3001": {"9.876.543-3", "1200000.00", 15, estado.FacturaPagada},
	// The history's.
	"F-1101": {"12.345.678-5", "2000000.00", -15, estado.FacturaPagada},
	"F-2101": {"11.111.111-1", "1200000.00", 25, estado.FacturaCedida},
	"F-2103": {"11.111.111-1", "600000.00", -3, estado.FacturaVencida},
	"F-1102": {"12.345.678-5", "3000000.00", 40, estado.FacturaCedida},
	"F-2102": {"11.111.111-1", "800000.00", 35, estado.FacturaDisponible},
	"A-1001": {"76.086.428-5", "300000.00", 120, estado.FacturaDisponible},
	"F-1105": {"12.345.678-5", "1750000.00", 60, estado.FacturaDisponible},
	"F-1103": {"12.345.678-5", "450000.00", 30, estado.FacturaEnProceso},
	"F-1104": {"12.345.678-5", "1250000.00", 50, estado.FacturaEnProceso},
}

type operacionEsperada struct {
	facturas []string
	eventos  []estado.TipoEvento
}

var operacionesEsperadas = map[estado.Operacion]operacionEsperada{
	estado.OperacionFinalizada: {[]string{"F-1101"}, []estado.TipoEvento{
		estado.EventoCreada, estado.EventoAprobada, estado.EventoDesembolsada, estado.EventoFinalizada}},
	estado.OperacionDesembolsada: {[]string{"F-2101", "F-2103"}, []estado.TipoEvento{
		estado.EventoCreada, estado.EventoAprobada, estado.EventoDesembolsada}},
	estado.OperacionAprobada:  {[]string{"F-1102"}, []estado.TipoEvento{estado.EventoCreada, estado.EventoAprobada}},
	estado.OperacionRechazada: {[]string{"F-2102"}, []estado.TipoEvento{estado.EventoCreada, estado.EventoRechazada}},
	estado.OperacionPendiente: {[]string{"F-1103", "F-1104"}, []estado.TipoEvento{estado.EventoCreada}},
}

// who does each kind of event (four eyes: never the one who created it).
var actorDe = map[estado.TipoEvento]string{
	estado.EventoCreada:       seed.Analista,
	estado.EventoAprobada:     seed.Riesgo,
	estado.EventoRechazada:    seed.Riesgo,
	estado.EventoDesembolsada: seed.Tesoreria,
	estado.EventoFinalizada:   seed.Tesoreria,
}

func facturasPorNumero(t *testing.T, db *database.DB) map[string]*ent.Factura {
	t.Helper()
	rows, err := db.Client.Factura.Query().WithCliente().All(t.Context())
	require.NoError(t, err)
	out := map[string]*ent.Factura{}
	for _, f := range rows {
		out[f.NumeroFactura] = f
	}
	return out
}

func requireVerificado(t *testing.T, db *database.DB) {
	t.Helper()
	rep, err := verificar.Run(t.Context(), db.Client)
	require.NoError(t, err)
	assert.Empty(t, rep.Violations)
}

var completo = seed.Result{ClientesCreados: 7, FacturasCreadas: 14, OperacionesCreadas: 5, FacturasVencidas: 1}

// checkDemo checks the demo data seeded at instant at: every state on show,
// the dates relative to at's business date.
func checkDemo(t *testing.T, db *database.DB, at time.Time) {
	ctx := t.Context()
	hoy := clock.Today(at, santiago)

	t.Run("clientes_en_cada_estado", func(t *testing.T) {
		rows, err := db.Client.Cliente.Query().All(ctx)
		require.NoError(t, err)
		require.Len(t, rows, len(clientesEsperados))
		estados := map[estado.Cliente]bool{}
		for _, c := range rows {
			want, ok := clientesEsperados[c.Rut]
			require.True(t, ok, "unexpected RUT %q (stored in canonical form)", c.Rut)
			assert.Equal(t, want.razonSocial, c.RazonSocial)
			assert.Equal(t, want.estado, c.Estado, c.Rut)
			assert.Equal(t, want.linea, c.LineaCredito.StringFixed(2), c.Rut)
			assert.Equal(t, want.disponible, c.LineaDisponible.StringFixed(2), c.Rut)
			if c.Estado == estado.ClienteSuspendido || c.Estado == estado.ClienteBloqueado {
				require.NotNil(t, c.MotivoEstado, c.Rut)
				assert.NotEmpty(t, *c.MotivoEstado)
			}
			assert.True(t, c.CreadoEn.Before(at), "created in the history before the seed")
			estados[c.Estado] = true
		}
		assert.Len(t, estados, len(estado.ClientePendiente.Values()), "every state of a cliente")
	})

	t.Run("facturas_en_cada_estado_con_fechas_relativas", func(t *testing.T) {
		got := facturasPorNumero(t, db)
		require.Len(t, got, len(facturasEsperadas))
		estados := map[estado.Factura]bool{}
		for numero, want := range facturasEsperadas {
			f := got[numero]
			require.NotNil(t, f, numero)
			assert.Equal(t, want.clienteRut, f.Edges.Cliente.Rut, numero)
			assert.Equal(t, want.monto, f.MontoTotal.StringFixed(2), numero)
			assert.Equal(t, want.estado, f.Estado, numero)
			vence := hoy.AddDate(0, 0, want.vence)
			assert.True(t, f.FechaVencimiento.Equal(vence), "%s: due %s, got %s", numero, vence, f.FechaVencimiento)
			assert.True(t, f.FechaEmision.Before(hoy), numero)
			switch f.Estado {
			case estado.FacturaDisponible, estado.FacturaEnProceso, estado.FacturaCedida:
				assert.False(t, f.FechaVencimiento.Before(hoy), "%s is %s and must not be overdue", numero, f.Estado)
			case estado.FacturaVencida:
				assert.True(t, f.FechaVencimiento.Before(hoy), numero)
			case estado.FacturaAnulada:
				require.NotNil(t, f.MotivoAnulacion, numero)
			}
			estados[f.Estado] = true
		}
		// Every state of a factura but the recourse's (EN_RECOMPRA,
		// RECOMPRADA): the demo's history is too short for an invoice 30
		// days overdue.
		assert.Len(t, estados, len(estado.FacturaDisponible.Values())-2, "every state of a factura")
		assert.NotContains(t, estados, estado.FacturaEnRecompra)
	})

	t.Run("el_ejemplo_del_README", func(t *testing.T) {
		f := facturasPorNumero(t, db)["A-1001"]
		require.NotNil(t, f)
		assert.Equal(t, "300000.00", f.MontoTotal.StringFixed(2))
		assert.Equal(t, estado.FacturaDisponible, f.Estado)
		assert.Equal(t, 120, clock.DaysBetween(hoy, f.FechaVencimiento))
	})

	t.Run("operaciones_en_cada_estado_con_su_historia", func(t *testing.T) {
		ops, err := db.Client.Operacion.Query().
			WithFacturas().
			WithEventos(func(q *ent.OperacionEventoQuery) {
				q.Order(ent.Asc(operacionevento.FieldFecha), ent.Asc(operacionevento.FieldID))
			}).
			Order(ent.Asc(operacion.FieldID)).
			All(ctx)
		require.NoError(t, err)
		require.Len(t, ops, len(operacionesEsperadas))
		faltan := maps.Clone(operacionesEsperadas)
		for _, op := range ops {
			want, ok := faltan[op.Estado]
			require.True(t, ok, "one operación per state; unexpected %s", op.Estado)
			delete(faltan, op.Estado)
			var numeros []string
			for _, f := range op.Edges.Facturas {
				numeros = append(numeros, f.NumeroFactura)
			}
			slices.Sort(numeros)
			assert.Equal(t, want.facturas, numeros, op.Estado)
			var tipos []estado.TipoEvento
			for _, e := range op.Edges.Eventos {
				tipos = append(tipos, e.Tipo)
				assert.Equal(t, actorDe[e.Tipo], e.Actor, "%s %s", op.Estado, e.Tipo)
				assert.NotEmpty(t, e.RequestID)
				assert.True(t, e.Fecha.Before(at), "%s %s: history before the seed", op.Estado, e.Tipo)
			}
			assert.Equal(t, want.eventos, tipos, op.Estado)
			assert.True(t, op.FechaSolicitud.After(at.AddDate(0, 0, -61)), "requested within the two months before the seed")
		}
		assert.Empty(t, faltan, "every state of an operación")
	})

	t.Run("cumple_las_invariantes", func(t *testing.T) { requireVerificado(t, db) })
}

func TestSeed(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		empty, err := seed.Empty(ctx, db.Client)
		require.NoError(t, err)
		assert.True(t, empty)

		res, err := seed.Run(ctx, db, options(ahora, false))
		require.NoError(t, err)
		assert.Equal(t, completo, res)
		checkDemo(t, db, ahora)

		t.Run("es_idempotente", func(t *testing.T) {
			antes := facturasPorNumero(t, db)
			res, err := seed.Run(ctx, db, options(ahora.Add(time.Hour), false))
			require.NoError(t, err)
			assert.Equal(t, seed.Result{ClientesExistentes: 7, FacturasExistentes: 14}, res)
			despues := facturasPorNumero(t, db)
			require.Len(t, despues, len(antes))
			for numero, f := range antes {
				assert.Equal(t, f.ID, despues[numero].ID)
				assert.Equal(t, f.Estado, despues[numero].Estado)
				assert.True(t, f.ActualizadoEn.Equal(despues[numero].ActualizadoEn), "%s left as it was", numero)
			}
			n, err := db.Client.Operacion.Query().Count(ctx)
			require.NoError(t, err)
			assert.Equal(t, 5, n)
			empty, err := seed.Empty(ctx, db.Client)
			require.NoError(t, err)
			assert.False(t, empty)
			requireVerificado(t, db)
		})

		// A row of the demo cannot be deleted to see the seed bring it back:
		// the audit trail refuses to lose its entity (docs/dominio.md,
		// "Audit trail"), so the second run above is the idempotency check.
	})
}

// Ensure that the demo depends on no fixed date: seeded years later it
// shows the same states, dated from that day.
func TestSeedOtroDia(t *testing.T) {
	later := time.Date(2031, 7, 1, 3, 30, 0, 0, time.UTC) // June 30 in Santiago, in winter time
	db := testkit.SQLite(t)
	res, err := seed.Run(t.Context(), db, options(later, false))
	require.NoError(t, err)
	assert.Equal(t, completo, res)
	checkDemo(t, db, later)
}

// Ensure that the history is made through the domain services, by the
// demo's people: the approver of every operación is not its creator, and
// the services' clock, not the wall clock, dates it.
func TestSeedCuatroOjos(t *testing.T) {
	db := testkit.SQLite(t)
	_, err := seed.Run(t.Context(), db, options(ahora, false))
	require.NoError(t, err)
	evs, err := db.Client.OperacionEvento.Query().All(t.Context())
	require.NoError(t, err)
	creador := map[int]string{}
	for _, e := range evs {
		if e.Tipo == estado.EventoCreada {
			creador[e.OperacionID] = e.Actor
		}
	}
	for _, e := range evs {
		if e.Tipo == estado.EventoAprobada || e.Tipo == estado.EventoRechazada {
			assert.False(t, auth.SameSubject(creador[e.OperacionID], e.Actor), "decided by its creator %s", e.Actor)
		}
		assert.NotEqual(t, auth.Anonimo, e.Actor)
	}
}

func TestSeedSoloDisponibles(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		res, err := seed.Run(ctx, db, options(ahora, true))
		require.NoError(t, err)
		assert.Equal(t, seed.Result{ClientesCreados: 7, FacturasCreadas: 12}, res)
		hoy := clock.Today(ahora, santiago)
		got := facturasPorNumero(t, db)
		require.Len(t, got, 12)
		for numero, f := range got {
			assert.Equal(t, estado.FacturaDisponible, f.Estado, numero)
			assert.Nil(t, f.MotivoAnulacion, numero)
			assert.True(t, f.FechaVencimiento.After(hoy), "%s can be ceded today", numero)
		}
		assert.NotContains(t, got, "F-1101", "already due: it could not be ceded")
		assert.NotContains(t, got, "F-2103")
		n, err := db.Client.Operacion.Query().Count(ctx)
		require.NoError(t, err)
		assert.Zero(t, n)
		rows, err := db.Client.Cliente.Query().All(ctx)
		require.NoError(t, err)
		estados := map[estado.Cliente]bool{}
		for _, c := range rows {
			estados[c.Estado] = true
		}
		assert.Len(t, estados, 4, "the clientes still show every state")
		requireVerificado(t, db)

		t.Run("luego_el_seed_completo_no_toca_lo_que_ya_existe", func(t *testing.T) {
			res, err := seed.Run(ctx, db, options(ahora, false))
			require.NoError(t, err)
			// The two invoices left out are registered now, and the
			// history runs over them alone: the operación of F-1101 is
			// made and finalized, the job lets F-2103 fall due. What
			// existed is left as it is, so the operaciones over it are
			// not made.
			assert.Equal(t, seed.Result{ClientesExistentes: 7, FacturasCreadas: 2, FacturasExistentes: 12,
				OperacionesCreadas: 1, FacturasVencidas: 1}, res)
			n, err := db.Client.Factura.Query().Where(factura.EstadoEQ(estado.FacturaDisponible)).Count(ctx)
			require.NoError(t, err)
			assert.Equal(t, 12, n)
			requireVerificado(t, db)
		})
	})
}

func TestSeedSinMigrarFalla(t *testing.T) {
	db := testkit.EmptySQLite(t)
	_, err := seed.Run(t.Context(), db, options(ahora, false))
	require.Error(t, err)
	n, _ := db.Client.Cliente.Query().Count(t.Context())
	assert.Zero(t, n)
}
