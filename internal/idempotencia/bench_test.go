package idempotencia_test

import (
	"encoding/json"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/testkit"
)

// BenchmarkParCrearAprobar is what an Idempotency-Key costs a mutation, on
// PostgreSQL, through the whole API: make bench's M1 pair (crearOperacion
// over one factura, then aprobarOperacion by another subject) sent by 16
// clients at once, without a key and with a new key on each mutation. Run
// both several times, alternating, to see past a busy machine:
//
//	go test -run '^$' -bench ParCrearAprobar -benchtime 400x -count 5 ./internal/idempotencia/
func BenchmarkParCrearAprobar(b *testing.B) {
	db := testkit.Postgres(b)
	env := testkit.NewEnv(b, db)
	cfg := testkit.WithAuth(testkit.Config(b))
	gql, _ := testkit.Serve(b, db, testkit.ServeOptions{Config: &cfg})
	analista := client{url: gql.URL(), token: testkit.Token(b, "ana", auth.Analista)}
	riesgo := client{url: gql.URL(), token: testkit.Token(b, "rita", auth.Riesgo)}
	const workers = 16
	aprobar := `mutation Aprobar($id: ID!) { aprobarOperacion(id: $id) { id estado cliente { id lineaDisponible } } }`

	for _, keyed := range []bool{false, true} {
		name := "sin_clave"
		if keyed {
			name = "con_clave"
		}
		b.Run(name, func(b *testing.B) {
			b.StopTimer()
			// b.N facturas dealt round-robin over 16 clientes, so that
			// concurrent pairs seldom wait on one cliente's lock.
			clientes := make([]int, workers)
			for i := range clientes {
				clientes[i] = env.MustCrearClienteActivo(b, "1000000000").ID
			}
			type par struct{ cliente, factura int }
			pares := make([]par, b.N)
			for i := range pares {
				c := clientes[i%workers]
				pares[i] = par{c, env.MustRegistrarFactura(b, c, "1000.00", testkit.Vence(90)).ID}
			}
			key := func() string {
				if !keyed {
					return ""
				}
				return uuid.NewString()
			}
			var next atomic.Int64
			b.SetParallelism(max(1, workers/runtime.GOMAXPROCS(0)))
			b.StartTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					p := pares[next.Add(1)-1]
					a, err := analista.send(key(), crearOperacion, map[string]any{"c": gid.Encode(p.cliente), "f": []string{gid.Encode(p.factura)}})
					var out struct {
						Data struct{ CrearOperacion struct{ ID string } }
					}
					if err == nil {
						err = json.Unmarshal(a.body, &out)
					}
					if err != nil || out.Data.CrearOperacion.ID == "" {
						b.Errorf("crearOperacion: %v %s", err, a.body)
						return
					}
					if a, err = riesgo.send(key(), aprobar, map[string]any{"id": out.Data.CrearOperacion.ID}); err != nil || a.status != 200 {
						b.Errorf("aprobarOperacion: %v %s", err, a.body)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pares/s")
		})
	}
}
