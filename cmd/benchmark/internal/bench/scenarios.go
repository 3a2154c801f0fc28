package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/banpro/factoring/cmd/benchmark/internal/bench/baseline"
	"github.com/banpro/factoring/cmd/benchmark/internal/bench/dataset"
	"github.com/banpro/factoring/cmd/benchmark/internal/bench/gqlclient"
	"github.com/banpro/factoring/cmd/benchmark/internal/bench/loadgen"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/gid"
)

// The GraphQL documents of the scenarios. The baseline reads exactly these
// fields.
const (
	queryQ1 = `query Q1 {
  clientes(first: 50) {
    edges { node { id rut razonSocial lineaDisponible } }
    pageInfo { hasNextPage endCursor }
  }
}`

	queryQ2 = `query Q2 {
  clientes(first: 20) {
    edges { node {
      id rut razonSocial estado lineaDisponible
      facturas(first: 10) { edges { node {
        id numeroFactura montoTotal estado fechaVencimiento
        operaciones { edges { node { id estado montoTotalFacturas montoDescuento montoADesembolsar fechaSolicitud } } }
      } } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}`

	queryQ2TotalCount = `query Q2TotalCount {
  clientes(first: 20) {
    totalCount
    edges { node {
      id rut razonSocial estado lineaDisponible
      facturas(first: 10) { edges { node {
        id numeroFactura montoTotal estado fechaVencimiento
        operaciones { edges { node { id estado montoTotalFacturas montoDescuento montoADesembolsar fechaSolicitud } } }
      } } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}`

	queryQ3 = `query Q3($id: ID!) {
  operacion(id: $id) {
    id estado fechaSolicitud fechaAprobacion montoTotalFacturas tasaDescuento diasDescuento montoDescuento montoADesembolsar
    cliente { id rut razonSocial lineaDisponible }
    facturas { edges { node { id numeroFactura rutDeudor montoTotal fechaVencimiento estado } } }
    eventos { edges { node { id tipo fecha estadoAnterior estadoNuevo requestId actor detalle } } }
  }
}`

	queryFacturasTotalCount = `query FTotalCount {
  facturas(first: 20, where: {estado: DISPONIBLE}) {
    totalCount
    edges { node { id numeroFactura montoTotal estado } }
  }
}`

	mutationCrear = `mutation M1Crear($input: CrearOperacionInput!) {
  crearOperacion(input: $input) { id estado montoTotalFacturas montoDescuento montoADesembolsar }
}`

	mutationAprobar = `mutation Aprobar($id: ID!) {
  aprobarOperacion(id: $id) { id estado fechaAprobacion cliente { id lineaDisponible } }
}`
)

// scenario is one row of the table: the API's request and the baseline's.
type scenario struct {
	name string
	// api and base are the closed-loop requests; base is nil when the
	// scenario has no baseline.
	api, base loadgen.Request
	// probe sends one API request and checks its answer in full, before
	// the run.
	probe func(ctx context.Context) error
	// unit names what one request is: "req", or "par" for M1's
	// crear+aprobar pair.
	unit string
	// before, when set, runs before each side's run, outside the
	// measurement (M1 refills its pool of facturas there).
	before func(ctx context.Context, side string) error
	// read marks a read, which also runs with a single client
	// (Config.LatencyDuration).
	read bool
}

// tokens are the bearer tokens of the three roles the benchmark acts as.
type tokens struct{ lector, analista, riesgo string }

// env is what the scenarios share.
type env struct {
	client *gqlclient.Client
	base   *baseline.Baseline
	pool   *pgxpool.Pool
	tok    tokens
	loc    *time.Location
	seed   uint64
	reqID  atomic.Int64
}

func (e *env) requestID() string { return "bench-base-" + strconv.FormatInt(e.reqID.Add(1), 10) }

// Q1 -------------------------------------------------------------------------

func (e *env) q1() scenario {
	body := gqlclient.Body(queryQ1, nil)
	return scenario{
		name: "Q1", unit: "req", read: true,
		api:  func(ctx context.Context, _ int) error { return e.client.Post(ctx, e.tok.lector, body, nil) },
		base: func(ctx context.Context, _ int) error { _, err := e.base.Q1(ctx, 50); return err },
		probe: func(ctx context.Context) error {
			var out struct {
				Clientes struct {
					Edges []struct{ Node struct{ ID, Rut string } }
				}
			}
			if err := e.client.Post(ctx, e.tok.lector, body, &out); err != nil {
				return err
			}
			if n := len(out.Clientes.Edges); n != 50 {
				return fmt.Errorf("Q1 devolvió %d clientes, no 50", n)
			}
			return nil
		},
	}
}

// Q2 -------------------------------------------------------------------------

func (e *env) q2(withTotal bool) scenario {
	name, query := "Q2", queryQ2
	if withTotal {
		name, query = "Q2+tc", queryQ2TotalCount
	}
	body := gqlclient.Body(query, nil)
	return scenario{
		name: name, unit: "req", read: true,
		api:  func(ctx context.Context, _ int) error { return e.client.Post(ctx, e.tok.lector, body, nil) },
		base: func(ctx context.Context, _ int) error { _, err := e.base.Q2(ctx, 20, 10, withTotal); return err },
		probe: func(ctx context.Context) error {
			var out struct {
				Clientes struct {
					TotalCount *int
					Edges      []struct {
						Node struct {
							Facturas struct {
								Edges []struct {
									Node struct {
										Operaciones struct {
											Edges []struct{ Node struct{ ID string } }
										}
									}
								}
							}
						}
					}
				}
			}
			if err := e.client.Post(ctx, e.tok.lector, body, &out); err != nil {
				return err
			}
			if n := len(out.Clientes.Edges); n != 20 {
				return fmt.Errorf("%s devolvió %d clientes, no 20", name, n)
			}
			facturas, ops := 0, 0
			for _, c := range out.Clientes.Edges {
				facturas += len(c.Node.Facturas.Edges)
				for _, f := range c.Node.Facturas.Edges {
					ops += len(f.Node.Operaciones.Edges)
				}
			}
			if facturas != 200 {
				return fmt.Errorf("%s devolvió %d facturas, no 200", name, facturas)
			}
			if withTotal && out.Clientes.TotalCount == nil {
				return fmt.Errorf("%s no devolvió totalCount", name)
			}
			return nil
		},
	}
}

// Q3 -------------------------------------------------------------------------

func (e *env) q3(opIDs []int, clients int) scenario {
	// Each request's body is built as it is sent, from the one body around
	// a placeholder id: 200,000 bodies held in advance would be 100 MB at
	// 20,000 clientes.
	const placeholder = "Q3-ID"
	prefix, suffix, _ := strings.Cut(string(gqlclient.Body(queryQ3, map[string]any{"id": placeholder})), placeholder)
	body := func(id int) []byte {
		return append(append(append(make([]byte, 0, len(prefix)+len(suffix)+16), prefix...), gid.Encode(id)...), suffix...)
	}
	apiRand, baseRand := e.rands(clients, 3), e.rands(clients, 3)
	return scenario{
		name: "Q3", unit: "req", read: true,
		api: func(ctx context.Context, w int) error {
			return e.client.Post(ctx, e.tok.lector, body(opIDs[apiRand[w].IntN(len(opIDs))]), nil)
		},
		base: func(ctx context.Context, w int) error {
			_, err := e.base.Q3(ctx, opIDs[baseRand[w].IntN(len(opIDs))])
			return err
		},
		probe: func(ctx context.Context) error {
			var out struct {
				Operacion struct {
					ID       string
					Cliente  struct{ ID string }
					Facturas struct {
						Edges []struct{ Node struct{ ID string } }
					}
					Eventos struct {
						Edges []struct{ Node struct{ Tipo string } }
					}
				}
			}
			if err := e.client.Post(ctx, e.tok.lector, body(opIDs[0]), &out); err != nil {
				return err
			}
			if out.Operacion.ID != gid.Encode(opIDs[0]) || len(out.Operacion.Facturas.Edges) == 0 || len(out.Operacion.Eventos.Edges) == 0 {
				return fmt.Errorf("Q3 devolvió una operación incompleta: %+v", out.Operacion)
			}
			return nil
		},
	}
}

// F+tc ------------------------------------------------------------------------

// facturasTotalCount is F+tc: a page of DISPONIBLE facturas with their
// totalCount, a count over about a third of the largest table, which grows
// with the data where Q2+tc's count of clientes stays small.
func (e *env) facturasTotalCount() scenario {
	body := gqlclient.Body(queryFacturasTotalCount, nil)
	return scenario{
		name: "F+tc", unit: "req", read: true,
		api: func(ctx context.Context, _ int) error { return e.client.Post(ctx, e.tok.lector, body, nil) },
		base: func(ctx context.Context, _ int) error {
			_, err := e.base.FacturasTotalCount(ctx, 20, "DISPONIBLE")
			return err
		},
		probe: func(ctx context.Context) error {
			var out struct {
				Facturas struct {
					TotalCount *int
					Edges      []struct{ Node struct{ Estado string } }
				}
			}
			if err := e.client.Post(ctx, e.tok.lector, body, &out); err != nil {
				return err
			}
			if n := len(out.Facturas.Edges); n != 20 {
				return fmt.Errorf("F+tc devolvió %d facturas, no 20", n)
			}
			for _, f := range out.Facturas.Edges {
				if f.Node.Estado != "DISPONIBLE" {
					return fmt.Errorf("F+tc devolvió una factura %s", f.Node.Estado)
				}
			}
			if out.Facturas.TotalCount == nil || *out.Facturas.TotalCount < 20 {
				return fmt.Errorf("F+tc devolvió totalCount %v", out.Facturas.TotalCount)
			}
			return nil
		},
	}
}

// rands gives each worker its own deterministic generator.
func (e *env) rands(n int, stream uint64) []*rand.Rand {
	out := make([]*rand.Rand, n)
	for i := range out {
		out[i] = rand.New(rand.NewPCG(e.seed, stream<<32|uint64(i)))
	}
	return out
}

// M1 -------------------------------------------------------------------------

// m1Pool holds, per worker, the clientes it alone works on and their
// cedible facturas, so no two workers ever pick the same factura or
// contend for one cliente's lock.
type m1Pool struct {
	workers []*m1Worker
}

type m1Worker struct {
	rng      *rand.Rand
	clientes []*m1Cliente // those with facturas left
}

type m1Cliente struct {
	id       int
	facturas []int
}

// loadM1Pool reads the cedible facturas (DISPONIBLE, not overdue, of an
// ACTIVO cliente) and deals the clientes round-robin to n workers.
func loadM1Pool(ctx context.Context, pool *pgxpool.Pool, loc *time.Location, n int, seed uint64) (*m1Pool, int, error) {
	hoy := clock.Today(time.Now(), loc)
	rows, err := pool.Query(ctx, `SELECT f.cliente_id, f.id FROM facturas f JOIN clientes c ON c.id = f.cliente_id
		WHERE c.estado = 'ACTIVO' AND f.estado = 'DISPONIBLE' AND f.fecha_vencimiento >= $1
		ORDER BY f.cliente_id, f.id`, hoy)
	if err != nil {
		return nil, 0, err
	}
	p := &m1Pool{workers: make([]*m1Worker, n)}
	for i := range p.workers {
		p.workers[i] = &m1Worker{rng: rand.New(rand.NewPCG(seed, 1<<40|uint64(i)))}
	}
	var (
		clienteID, facturaID, total int
		current                     *m1Cliente
		dealt                       int
	)
	_, err = pgx.ForEachRow(rows, []any{&clienteID, &facturaID}, func() error {
		if current == nil || current.id != clienteID {
			current = &m1Cliente{id: clienteID}
			w := p.workers[dealt%n]
			w.clientes = append(w.clientes, current)
			dealt++
		}
		current.facturas = append(current.facturas, facturaID)
		total++
		return nil
	})
	return p, total, err
}

// next takes 1 to 3 facturas of one random cliente of worker w.
func (p *m1Pool) next(w int) (clienteID int, facturas []int, ok bool) {
	wk := p.workers[w]
	if len(wk.clientes) == 0 {
		return 0, nil, false
	}
	i := wk.rng.IntN(len(wk.clientes))
	c := wk.clientes[i]
	k := min(1+wk.rng.IntN(3), len(c.facturas))
	facturas, c.facturas = c.facturas[:k:k], c.facturas[k:]
	if len(c.facturas) == 0 {
		wk.clientes[i] = wk.clientes[len(wk.clientes)-1]
		wk.clientes = wk.clientes[:len(wk.clientes)-1]
	}
	return c.id, facturas, true
}

// m1PairsPerSecond is the M1 throughput the pool of cedible facturas is
// sized for (at 2 facturas a pair on average, with a 25 % margin); a
// faster run ends early on some workers and says so.
const m1PairsPerSecond = 1000

// prepareM1 tops the cedible facturas up to what one run at
// m1PairsPerSecond needs and deals them to the workers.
func (e *env) prepareM1(ctx context.Context, clients int, run time.Duration, log func(string, ...any)) (*m1Pool, error) {
	need := int(run.Seconds() * m1PairsPerSecond * 2 * 1.25)
	p, have, err := loadM1Pool(ctx, e.pool, e.loc, clients, e.seed)
	if err != nil {
		return nil, err
	}
	if have < need {
		start := time.Now()
		if err := dataset.AddCedibles(ctx, e.pool, dataset.TopUpConfig{Facturas: need - have, Seed: e.seed, TimeZone: e.loc}); err != nil {
			return nil, err
		}
		log("M1: %d facturas cedibles; se agregan %d (en %s) para llegar a %d", have, need-have, time.Since(start).Round(time.Millisecond), need)
		if p, have, err = loadM1Pool(ctx, e.pool, e.loc, clients, e.seed); err != nil {
			return nil, err
		}
	}
	log("M1: %d facturas cedibles repartidas entre %d trabajadores", have, clients)
	return p, nil
}

// m1 is M1; keyed sends every mutation with an Idempotency-Key of its own
// (M1+ik, the cost of the keys), and runs no baseline (M1's is the same).
func (e *env) m1(clients int, run time.Duration, log func(string, ...any), keyed bool) scenario {
	var p *m1Pool
	key := func() string {
		if !keyed {
			return ""
		}
		return uuid.NewString()
	}
	crear := func(ctx context.Context, clienteID int, facturas []int) (string, error) {
		var out struct{ CrearOperacion struct{ ID string } }
		body := gqlclient.Body(mutationCrear, map[string]any{"input": map[string]any{
			"clienteId": gid.Encode(clienteID), "facturaIds": gid.EncodeAll(facturas),
		}})
		if err := e.client.PostKeyed(ctx, e.tok.analista, key(), body, &out); err != nil {
			return "", fmt.Errorf("crearOperacion: %w", err)
		}
		return out.CrearOperacion.ID, nil
	}
	aprobar := func(ctx context.Context, opID string) error {
		if err := e.client.PostKeyed(ctx, e.tok.riesgo, key(), gqlclient.Body(mutationAprobar, map[string]any{"id": opID}), nil); err != nil {
			return fmt.Errorf("aprobarOperacion: %w", err)
		}
		return nil
	}
	name := "M1"
	if keyed {
		name = "M1+ik"
	}
	sc := scenario{
		name: name, unit: "par",
		before: func(ctx context.Context, _ string) (err error) {
			p, err = e.prepareM1(ctx, clients, run, log)
			return err
		},
		api: func(ctx context.Context, w int) error {
			clienteID, facturas, ok := p.next(w)
			if !ok {
				return loadgen.ErrExhausted
			}
			opID, err := crear(ctx, clienteID, facturas)
			if err != nil {
				return err
			}
			return aprobar(ctx, opID)
		},
		base: func(ctx context.Context, w int) error {
			clienteID, facturas, ok := p.next(w)
			if !ok {
				return loadgen.ErrExhausted
			}
			op, err := e.base.Crear(ctx, clienteID, facturas, "bench-analista", e.requestID())
			if err != nil {
				return fmt.Errorf("crear: %w", err)
			}
			if _, err := e.base.Aprobar(ctx, op.DBID(), "bench-riesgo", e.requestID()); err != nil {
				return fmt.Errorf("aprobar: %w", err)
			}
			return nil
		},
	}
	if keyed {
		sc.base = nil
	}
	return sc
}

// M2 -------------------------------------------------------------------------

// m2Outcome counts the answers of a contention run.
type m2Outcome struct {
	approved, refused atomic.Int64
}

// m2API approves every operación of the fixture through the API; a
// VALIDATION_ERROR on lineaDisponible is the expected refusal.
func (e *env) m2API(ctx context.Context, clients int, opIDs []int, out *m2Outcome) loadgen.Result {
	return loadgen.Fixed(ctx, clients, opIDs,
		func(ctx context.Context, id int) error {
			return e.client.Post(ctx, e.tok.riesgo, gqlclient.Body(mutationAprobar, map[string]any{"id": gid.Encode(id)}), nil)
		},
		func(_ int, err error) error {
			var gqlErr *gqlclient.Error
			switch {
			case err == nil:
				out.approved.Add(1)
				return nil
			case errors.As(err, &gqlErr) && gqlErr.Code == "VALIDATION_ERROR" && gqlErr.Fields["lineaDisponible"] != "":
				out.refused.Add(1)
				return nil
			}
			return err
		})
}

// m2Base is m2API over the baseline.
func (e *env) m2Base(ctx context.Context, clients int, opIDs []int, out *m2Outcome) loadgen.Result {
	return loadgen.Fixed(ctx, clients, opIDs,
		func(ctx context.Context, id int) error {
			_, err := e.base.Aprobar(ctx, id, "bench-riesgo", e.requestID())
			return err
		},
		func(_ int, err error) error {
			switch {
			case err == nil:
				out.approved.Add(1)
				return nil
			case errors.Is(err, baseline.ErrLineaDisponible):
				out.refused.Add(1)
				return nil
			}
			return err
		})
}
