package seed_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/cliente"
	"github.com/banpro/factoring/ent/eventoauditoria"
	"github.com/banpro/factoring/ent/factura"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/clientes"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
	dt "github.com/banpro/factoring/internal/domaintest"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/seed"
	"github.com/banpro/factoring/internal/testdb"
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

func options(solo bool) seed.Options {
	return seed.Options{SoloDisponibles: solo, Clock: clock.NewFixed(ahora), TimeZone: santiago}
}

type clienteEsperado struct {
	razonSocial string
	estado      estado.Cliente
	linea       string
}

var clientesEsperados = map[string]clienteEsperado{
	"12.345.678-5": {"Empresa Alpha SpA", estado.ClienteActivo, "10000000.00"},
	"11.111.111-1": {"Empresa Beta Ltda", estado.ClienteActivo, "5000000.00"},
	"9.876.543-3":  {"Empresa Gamma SpA", estado.ClienteSuspendido, "20000000.00"},
	"26.271.832-8": {"Empresa Nessa SpA", estado.ClienteSuspendido, "20000000.00"},
}

type facturaEsperada struct {
	clienteRut, rutDeudor, monto string
	vencimiento                  time.Time
	estado                       estado.Factura
}

var facturasEsperadas = map[string]facturaEsperada{
	"F-1001": {"12.345.678-5", "76.543.210-3", "1500000.00", clock.Date(2026, 12, 26), estado.FacturaPagada},
	"F-1002": {"12.345.678-5", "77.777.777-7", "2500000.00", clock.Date(2027, 1, 10), estado.FacturaAnulada},
	"F-2001": {"11.111.111-1", "76.543.210-3", "900000.00", clock.Date(2026, 12, 16), estado.FacturaPagada},
	"F-2002": {"11.111.111-1", "88.888.888-8", "3000000.00", clock.Date(2027, 1, 25), estado.FacturaAnulada},
	"F-3001": {"9.876.543-3", "99.999.999-9", "1200000.00", clock.Date(2026, 12, 11), estado.FacturaPagada},
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

func TestSeed(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		empty, err := seed.Empty(ctx, db.Client)
		require.NoError(t, err)
		assert.True(t, empty)

		res, err := seed.Run(ctx, db, options(false))
		require.NoError(t, err)
		assert.Equal(t, seed.Result{ClientesCreados: 4, FacturasCreadas: 5}, res)

		t.Run("cuatro_clientes_dos_activos_dos_suspendidos", func(t *testing.T) {
			rows, err := db.Client.Cliente.Query().All(ctx)
			require.NoError(t, err)
			require.Len(t, rows, 4)
			for _, c := range rows {
				want, ok := clientesEsperados[c.Rut]
				require.True(t, ok, "unexpected RUT %q (stored in canonical form)", c.Rut)
				assert.Equal(t, want.razonSocial, c.RazonSocial)
				assert.Equal(t, want.estado, c.Estado)
				assert.Equal(t, want.linea, c.LineaCredito.StringFixed(2))
				assert.True(t, c.LineaDisponible.Equal(c.LineaCredito), "the whole line is available")
				assert.NotEmpty(t, c.Email)
			}
		})

		t.Run("cinco_facturas_en_los_estados_del_sistema_original", func(t *testing.T) {
			got := facturasPorNumero(t, db)
			require.Len(t, got, len(facturasEsperadas))
			for numero, want := range facturasEsperadas {
				f := got[numero]
				require.NotNil(t, f, numero)
				assert.Equal(t, want.clienteRut, f.Edges.Cliente.Rut, numero)
				assert.Equal(t, want.rutDeudor, f.RutDeudor, numero)
				assert.Equal(t, want.monto, f.MontoTotal.StringFixed(2), numero)
				assert.Equal(t, want.estado, f.Estado, numero)
				assert.True(t, f.FechaEmision.Equal(clock.Date(2026, 11, 21)), "%s: issued five days before the business date, got %s", numero, f.FechaEmision)
				assert.True(t, f.FechaVencimiento.Equal(want.vencimiento), "%s: due %s, got %s", numero, want.vencimiento, f.FechaVencimiento)
				if want.estado == estado.FacturaAnulada {
					require.NotNil(t, f.MotivoAnulacion, numero)
					assert.NotEmpty(t, *f.MotivoAnulacion)
				} else {
					assert.Nil(t, f.MotivoAnulacion, numero)
				}
			}
		})

		t.Run("cumple_las_invariantes", func(t *testing.T) {
			rep, err := verificar.Run(ctx, db.Client)
			require.NoError(t, err)
			assert.Empty(t, rep.Violations)
		})

		t.Run("es_idempotente", func(t *testing.T) {
			antes := facturasPorNumero(t, db)
			res, err := seed.Run(ctx, db, options(false))
			require.NoError(t, err)
			assert.Equal(t, seed.Result{ClientesExistentes: 4, FacturasExistentes: 5}, res)
			n, err := db.Client.Cliente.Query().Count(ctx)
			require.NoError(t, err)
			assert.Equal(t, 4, n)
			despues := facturasPorNumero(t, db)
			require.Len(t, despues, 5)
			for numero, f := range antes {
				assert.Equal(t, f.ID, despues[numero].ID)
			}
			empty, err := seed.Empty(ctx, db.Client)
			require.NoError(t, err)
			assert.False(t, empty)
		})

		t.Run("solo_disponibles_no_toca_lo_que_ya_existe", func(t *testing.T) {
			res, err := seed.Run(ctx, db, options(true))
			require.NoError(t, err)
			assert.Equal(t, seed.Result{ClientesExistentes: 4, FacturasExistentes: 5}, res)
			n, err := db.Client.Factura.Query().Where(factura.EstadoEQ(estado.FacturaDisponible)).Count(ctx)
			require.NoError(t, err)
			assert.Zero(t, n)
		})

		t.Run("cada_fila_tiene_su_auditoria_como_sistema", func(t *testing.T) {
			evs, err := db.Client.EventoAuditoria.Query().Order(ent.Asc(eventoauditoria.FieldID)).All(ctx)
			require.NoError(t, err)
			tipos := map[estado.TipoAuditoria]int{}
			for _, e := range evs {
				tipos[e.Tipo]++
				assert.Equal(t, auth.Sistema, e.Actor)
				assert.Equal(t, evs[0].RequestID, e.RequestID, "one run, one request id")
			}
			assert.Equal(t, map[estado.TipoAuditoria]int{
				estado.AudClienteCreado: 4, estado.AudClienteActivado: 4, estado.AudClienteSuspendido: 2,
				estado.AudFacturaRegistrada: 5, estado.AudFacturaPagada: 3, estado.AudFacturaAnulada: 2,
			}, tipos)
		})
	})
}

// TestSeedCompletaLoQueFalta ensures that a cliente already there is left as
// it is and the rest of the demo data is created around it.
func TestSeedCompletaLoQueFalta(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		env := dt.New(t, db)
		previo, err := env.Svc.Clientes.Crear(ctx, clientes.CrearInput{
			Rut: "12.345.678-5", RazonSocial: "Alpha previa", Email: "alpha@previa.cl", LineaCredito: dt.Dec("1"),
		})
		require.NoError(t, err)
		res, err := seed.Run(ctx, db, options(false))
		require.NoError(t, err)
		assert.Equal(t, seed.Result{ClientesCreados: 3, ClientesExistentes: 1, FacturasCreadas: 5}, res)
		got, err := db.Client.Cliente.Get(ctx, previo.ID)
		require.NoError(t, err)
		assert.Equal(t, "Alpha previa", got.RazonSocial, "what exists is left as it is")
		assert.Equal(t, estado.ClientePendiente, got.Estado)
		assert.Equal(t, estado.FacturaPagada, facturasPorNumero(t, db)["F-1001"].Estado, "its demo facturas are added")
		dt.RequireVerificado(t, db)
	})
}

func TestSeedSoloDisponibles(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		res, err := seed.Run(ctx, db, options(true))
		require.NoError(t, err)
		assert.Equal(t, seed.Result{ClientesCreados: 4, FacturasCreadas: 5}, res)
		got := facturasPorNumero(t, db)
		require.Len(t, got, 5)
		for numero, f := range got {
			assert.Equal(t, estado.FacturaDisponible, f.Estado, numero)
			assert.Nil(t, f.MotivoAnulacion, numero)
		}
		activos, err := db.Client.Cliente.Query().Where(cliente.EstadoEQ(estado.ClienteActivo)).Count(ctx)
		require.NoError(t, err)
		assert.Equal(t, 2, activos)
		rep, err := verificar.Run(ctx, db.Client)
		require.NoError(t, err)
		assert.Empty(t, rep.Violations)
	})
}

func TestSeedSinMigrarFalla(t *testing.T) {
	db := testdb.EmptySQLite(t)
	_, err := seed.Run(t.Context(), db, options(false))
	require.Error(t, err)
	n, _ := db.Client.Cliente.Query().Count(t.Context())
	assert.Zero(t, n)
}
