package verificar_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent/eventoauditoria"
	"github.com/banpro/factoring/ent/factura"
	"github.com/banpro/factoring/ent/operacion"
	"github.com/banpro/factoring/ent/predicate"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/clientes"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/facturas"
	"github.com/banpro/factoring/internal/operaciones"
	"github.com/banpro/factoring/internal/testkit"
)

// Size of the soak. Under the race detector everything runs several times
// slower, so it does fewer mutations.
const (
	soakWorkers  = 16
	soakClientes = 20
)

func soakMutations() int {
	if raceEnabled {
		return 1500
	}
	return 12000
}

// pool is what the workers know exists: the ids they pick from. It only
// grows; picking an id whose row is in any state is the point.
type pool struct {
	mu                        sync.Mutex
	clientes, facturas, opers []int
	facturasDe                map[int][]int // cliente -> its facturas
	facturasDeOp              map[int][]int // operación -> its facturas
}

func (p *pool) addFactura(clienteID, id int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.facturas = append(p.facturas, id)
	p.facturasDe[clienteID] = append(p.facturasDe[clienteID], id)
}

func (p *pool) addOperacion(id int, facturas []int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.opers = append(p.opers, id)
	p.facturasDeOp[id] = facturas
}

func pickFrom(r *rand.Rand, src []int) int {
	if len(src) == 0 {
		return 0
	}
	return src[r.IntN(len(src))]
}

func (p *pool) pick(r *rand.Rand, src *[]int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return pickFrom(r, *src)
}

// facturaDe picks one of the cliente's invoices, mostly among the newest
// (the older ones have mostly been ceded, paid or voided by then).
func (p *pool) facturaDe(r *rand.Rand, clienteID int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	fs := p.facturasDe[clienteID]
	if len(fs) > 8 && r.IntN(4) > 0 {
		fs = fs[len(fs)-8:]
	}
	return pickFrom(r, fs)
}

// facturaDeOperacion picks an invoice of a random operación: the ones
// worth paying.
func (p *pool) facturaDeOperacion(r *rand.Rand) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return pickFrom(r, p.facturasDeOp[pickFrom(r, p.opers)])
}

// operacion picks an operación, mostly among the newest.
func (p *pool) operacion(r *rand.Rand) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	ops := p.opers
	if len(ops) > 20 && r.IntN(3) > 0 {
		ops = ops[len(ops)-20:]
	}
	return pickFrom(r, ops)
}

// TestSoak runs thousands of random mutations, valid and invalid, from 16
// goroutines over 20 clientes on PostgreSQL, with payments (partial, late,
// above the saldo), recourse and the close of business among them while
// the business date moves on, at 90 % advanced, a commission and late
// interest; and then requires that no mutation failed with INTERNAL_ERROR
// and that every invariant holds.
func TestSoak(t *testing.T) {
	db := testkit.Postgres(t)
	cfg := testkit.Config(t)
	cfg.Anticipo, cfg.Comision, cfg.TasaMora = testkit.Dec("90.00"), testkit.Dec("500.00"), testkit.Dec("1.50")
	env := testkit.NewEnvWith(t, db, cfg)
	svc := env.Svc
	hoy := func() time.Time { return clock.Today(env.Clock.Now(), testkit.Santiago) }
	p := &pool{facturasDe: map[int][]int{}, facturasDeOp: map[int][]int{}}
	for range soakClientes {
		c := env.MustCrearClienteActivo(t, "2000000.00")
		p.clientes = append(p.clientes, c.ID)
		for range 10 {
			p.addFactura(c.ID, env.MustRegistrarFactura(t, c.ID, "50000.00", testkit.Vence(60)).ID)
		}
	}
	// Wrong ids: missing rows, and ids of the wrong type.
	wrong := []int{999_999, 1<<32 + 999_999, 2<<32 + 999_999, p.clientes[0], p.facturas[0]}

	type action struct {
		name string
		run  func(r *rand.Rand) error
	}
	// orWrong returns id, or one time in 20 a wrong id.
	orWrong := func(r *rand.Rand, id int) int {
		if r.IntN(20) == 0 {
			return wrong[r.IntN(len(wrong))]
		}
		return id
	}
	anyID := func(r *rand.Rand, src *[]int) int { return orWrong(r, p.pick(r, src)) }
	// unaDe picks a factura the database has in the state a and b select,
	// or otra when there is none.
	unaDe := func(r *rand.Rand, a, b predicate.Factura, otra int) int {
		q := env.DB.Client.Factura.Query().Where(a)
		if b != nil {
			q = q.Where(b)
		}
		ids, err := q.IDs(env.Ctx)
		if err != nil || len(ids) == 0 {
			return otra
		}
		return ids[r.IntN(len(ids))]
	}
	actions := []action{
		{"registrarFactura", func(r *rand.Rand) error {
			c := anyID(r, &p.clientes)
			monto := fmt.Sprintf("%d.%02d", 1000+r.IntN(300000), r.IntN(100))
			if r.IntN(15) == 0 {
				monto = "0"
			}
			f, err := svc.Facturas.Registrar(env.Ctx, testkit.FacturaInput(c, monto, hoy().AddDate(0, 0, r.IntN(200)-5)))
			if err == nil {
				p.addFactura(c, f.ID)
			}
			return err
		}},
		{"crearOperacion", func(r *rand.Rand) error {
			c := anyID(r, &p.clientes)
			ids := make([]int, 1+r.IntN(3))
			for i := range ids {
				if r.IntN(15) == 0 {
					ids[i] = anyID(r, &p.facturas) // most likely another cliente's
				} else {
					ids[i] = orWrong(r, p.facturaDe(r, c))
				}
			}
			op, err := svc.Operaciones.Crear(env.Ctx, operaciones.CrearInput{ClienteID: c, FacturaIDs: ids})
			if err == nil {
				p.addOperacion(op.ID, ids)
			}
			return err
		}},
		{"aprobarOperacion", func(r *rand.Rand) error {
			_, err := svc.Operaciones.Aprobar(env.Ctx, orWrong(r, p.operacion(r)))
			return err
		}},
		{"rechazarOperacion", func(r *rand.Rand) error {
			motivo := "Rechazo de prueba"
			if r.IntN(10) == 0 {
				motivo = "no"
			}
			_, err := svc.Operaciones.Rechazar(env.Ctx, orWrong(r, p.operacion(r)), motivo)
			return err
		}},
		{"desembolsarOperacion", func(r *rand.Rand) error {
			_, err := svc.Operaciones.Desembolsar(env.Ctx, orWrong(r, p.operacion(r)))
			return err
		}},
		{"finalizarOperacion", func(r *rand.Rand) error {
			_, err := svc.Operaciones.Finalizar(env.Ctx, orWrong(r, p.operacion(r)))
			return err
		}},
		{"pagarFactura", func(r *rand.Rand) error {
			id := p.facturaDeOperacion(r)
			if r.IntN(4) == 0 {
				id = anyID(r, &p.facturas)
			}
			_, err := svc.Facturas.Pagar(env.Ctx, orWrong(r, id))
			return err
		}},
		{"registrarPago", func(r *rand.Rand) error {
			id := p.facturaDeOperacion(r)
			if r.IntN(4) == 0 {
				id = anyID(r, &p.facturas)
			}
			monto := fmt.Sprintf("%d.%02d", r.IntN(60000), r.IntN(100)) // sometimes 0, sometimes above the saldo
			_, err := svc.Facturas.RegistrarPago(env.Ctx, facturas.RegistrarPagoInput{
				FacturaID: orWrong(r, id), Monto: testkit.Dec(monto), Fecha: hoy().AddDate(0, 0, -r.IntN(40)),
			})
			return err
		}},
		{"exigirRecompra", func(r *rand.Rand) error {
			// Mostly an invoice the risk desk sees long overdue.
			id := p.facturaDeOperacion(r)
			if r.IntN(3) > 0 {
				id = unaDe(r, factura.EstadoEQ(estado.FacturaVencida), factura.And(factura.DiasMoraGT(cfg.DiasRecompra),
					factura.HasOperacionesWith(operacion.EstadoIn(estado.OperacionAprobada, estado.OperacionDesembolsada))), id)
			}
			_, err := svc.Facturas.ExigirRecompra(env.Ctx, orWrong(r, id))
			return err
		}},
		{"registrarRecompra", func(r *rand.Rand) error {
			// What is owed now, as a treasurer would read it: stale when
			// a payment or the close gets in between (VALIDATION_ERROR).
			id := p.facturaDeOperacion(r)
			if r.IntN(3) > 0 {
				id = unaDe(r, factura.EstadoEQ(estado.FacturaEnRecompra), nil, id)
			}
			monto, dia := testkit.Dec("1.00"), hoy()
			if f, err := env.DB.Client.Factura.Get(env.Ctx, id); err == nil {
				pagos, _ := facturas.PagosDe(env.Ctx, env.DB.Client, []int{id})
				tasas, _ := facturas.TasasDeMora(env.Ctx, env.DB.Client, []int{id})
				if owed := facturas.Saldo(f).Add(facturas.MoraDe(f, pagos[id], dia, tasas[id]).Interes); owed.IsPositive() {
					monto = owed
				}
			}
			_, err := svc.Facturas.RegistrarRecompra(env.Ctx, orWrong(r, id), monto, dia)
			return err
		}},
		{"cierre", func(r *rand.Rand) error {
			// The business date moves on a day, now and then; the close
			// catches up.
			if r.IntN(2) == 0 {
				env.Clock.Advance(24 * time.Hour)
			}
			_, err := svc.Facturas.Cerrar(env.Ctx)
			return err
		}},
		{"anularFactura", func(r *rand.Rand) error {
			_, err := svc.Facturas.Anular(env.Ctx, anyID(r, &p.facturas), nil)
			return err
		}},
		{"ajustarLineaCredito", func(r *rand.Rand) error {
			nueva := decimal.NewFromInt(int64(r.IntN(3_000_000)))
			if r.IntN(15) == 0 {
				nueva = nueva.Neg()
			}
			_, err := svc.Clientes.AjustarLineaCredito(env.Ctx, anyID(r, &p.clientes), nueva)
			return err
		}},
		{"suspenderCliente", func(r *rand.Rand) error {
			_, err := svc.Clientes.Suspender(env.Ctx, anyID(r, &p.clientes), testkit.Ptr("Revisión"))
			return err
		}},
		{"activarCliente", func(r *rand.Rand) error {
			_, err := svc.Clientes.Activar(env.Ctx, anyID(r, &p.clientes))
			return err
		}},
		{"actualizarCliente", func(r *rand.Rand) error {
			_, err := svc.Clientes.Actualizar(env.Ctx, anyID(r, &p.clientes), clientes.ActualizarInput{Giro: testkit.Ptr("Giro " + fmt.Sprint(r.IntN(9)))})
			return err
		}},
	}
	// Weights: the operación lifecycle runs most often, suspension and
	// activation often enough to get in its way.
	weights := map[string]int{"registrarFactura": 3, "crearOperacion": 5, "aprobarOperacion": 5, "rechazarOperacion": 1,
		"desembolsarOperacion": 3, "finalizarOperacion": 3, "pagarFactura": 3, "anularFactura": 1,
		"registrarPago": 5, "exigirRecompra": 2, "registrarRecompra": 2, "cierre": 1,
		"ajustarLineaCredito": 2, "suspenderCliente": 1, "activarCliente": 2, "actualizarCliente": 1}
	var deck []int
	for i, a := range actions {
		for range weights[a.name] {
			deck = append(deck, i)
		}
	}

	n := soakMutations()
	seed := uint64(time.Now().UnixNano())
	t.Logf("soak: semilla %d", seed)
	var mu sync.Mutex
	outcomes := map[string]map[string]int{}
	var internals []string
	start := time.Now()
	var wg sync.WaitGroup
	for w := range soakWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			for range n / soakWorkers {
				a := actions[deck[r.IntN(len(deck))]]
				err := a.run(r)
				code := "OK"
				if err != nil {
					code = string(apperror.CodeOf(err))
				}
				mu.Lock()
				if outcomes[a.name] == nil {
					outcomes[a.name] = map[string]int{}
				}
				outcomes[a.name][code]++
				if code == string(apperror.Internal) {
					internals = append(internals, fmt.Sprintf("%s: %v", a.name, err))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	total := map[string]int{}
	var lines []string
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range outcomes {
			if !yield(k) {
				return
			}
		}
	}) {
		lines = append(lines, fmt.Sprintf("  %-21s %v", name, outcomes[name]))
		for code, c := range outcomes[name] {
			total[code] += c
		}
	}
	r := testkit.RequireVerificado(t, db)
	t.Logf("soak: %d mutaciones desde %d goroutines sobre %d clientes en %v (%.0f/s); reintentos %d\n%s\n  total %v\n  verificar: %d clientes, %d facturas, %d operaciones, %d eventos, %d entradas de auditoría, 0 violaciones",
		soakWorkers*(n/soakWorkers), soakWorkers, soakClientes, elapsed.Round(time.Millisecond),
		float64(soakWorkers*(n/soakWorkers))/elapsed.Seconds(), db.Retries(), strings.Join(lines, "\n"), total,
		r.Clientes, r.Facturas, r.Operaciones, r.Eventos, r.Auditoria)
	// One audit entry per committed mutation, and none for a refused one:
	// the setup's (each cliente created and activated, its 10 facturas
	// registered) and one per OK of the soak; and one per deudor, created
	// by the registration that first named its RUT; besides them, the close
	// of business's (one per factura it marked VENCIDA, no entry of its own)
	// and a finalization's (one per factura it charged to the excedente).
	vencidas, err := db.Client.EventoAuditoria.Query().Where(eventoauditoria.TipoIn(estado.AudFacturaVencida, estado.AudFacturaRecompraCompensada)).Count(env.Ctx)
	require.NoError(t, err)
	assert.Equal(t, soakClientes*(2+10)+total["OK"]-outcomes["cierre"]["OK"]+r.Deudores, r.Auditoria-vencidas, "one entry per committed mutation")
	assert.Empty(t, internals, "no mutation may fail with INTERNAL_ERROR")
	require.Zero(t, total[string(apperror.Internal)])
	assert.Positive(t, outcomes["aprobarOperacion"]["OK"], "the soak did approve operations")
	assert.Positive(t, outcomes["finalizarOperacion"]["OK"], "the soak did finalize operations")
	assert.Positive(t, outcomes["registrarPago"]["OK"], "the soak did record payments")
	if !raceEnabled { // the short soak under the race detector moves the business date too little
		assert.Positive(t, outcomes["exigirRecompra"]["OK"], "the soak did put invoices back to their clientes")
		assert.Positive(t, outcomes["registrarRecompra"]["OK"], "and clientes did buy them back")
		cierres, err := db.Client.Cierre.Query().Count(env.Ctx)
		require.NoError(t, err)
		assert.Greater(t, cierres, 30, "the close of business closed many business dates")
	}
}
