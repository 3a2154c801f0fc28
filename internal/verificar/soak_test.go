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

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/clientes"
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
// goroutines over 20 clientes on PostgreSQL, and then requires that no
// mutation failed with INTERNAL_ERROR and that every invariant holds.
func TestSoak(t *testing.T) {
	db := testkit.Postgres(t)
	env := testkit.NewEnv(t, db)
	svc := env.Svc
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
	actions := []action{
		{"registrarFactura", func(r *rand.Rand) error {
			c := anyID(r, &p.clientes)
			monto := fmt.Sprintf("%d.%02d", 1000+r.IntN(300000), r.IntN(100))
			if r.IntN(15) == 0 {
				monto = "0"
			}
			f, err := svc.Facturas.Registrar(env.Ctx, testkit.FacturaInput(c, monto, testkit.Vence(r.IntN(200)-5)))
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
		"desembolsarOperacion": 3, "finalizarOperacion": 3, "pagarFactura": 5, "anularFactura": 1,
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
	// by the registration that first named its RUT.
	assert.Equal(t, soakClientes*(2+10)+total["OK"]+r.Deudores, r.Auditoria, "one entry per committed mutation")
	assert.Empty(t, internals, "no mutation may fail with INTERNAL_ERROR")
	require.Zero(t, total[string(apperror.Internal)])
	assert.Positive(t, outcomes["aprobarOperacion"]["OK"], "the soak did approve operations")
	assert.Positive(t, outcomes["finalizarOperacion"]["OK"], "the soak did finalize operations")
}
