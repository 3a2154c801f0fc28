package graph_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/facturas"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/testkit"
)

const (
	registrarPago = `mutation($in: RegistrarPagoInput!) {
	  registrarPago(input: $in) { id monto fecha referencia actor factura { id estado montoPagado saldo } }
	}`
	exigirRecompra    = `mutation($f: ID!) { exigirRecompra(facturaId: $f) { id estado diasMora interesMora saldo recompraExigidaEn } }`
	registrarRecompra = `mutation($f: ID!, $m: Decimal!, $d: Date!) {
	  registrarRecompra(facturaId: $f, monto: $m, fecha: $d) { id estado montoRecompra fechaRecompra interesMora }
	}`
	crearConAnticipo = `mutation($in: CrearOperacionInput!) {
	  crearOperacion(input: $in) { id porcentajeAnticipo montoAnticipado excedente comision tasaMora montoDescuento montoADesembolsar liquidacion { montoLiquidacion } }
	}`
	finalizar   = `mutation($o: ID!) { finalizarOperacion(id: $o) { estado liquidacion { montoLiquidacion detalle } } }`
	facturaMora = `query($id: ID!) { factura(id: $id) {
	  estado montoTotal montoPagado saldo diasMora interesMora
	  pagos { totalCount edges { node { monto fecha referencia } } }
	} }`
)

// TestCobranzaGraphQL runs the collections through the whole API, at 90 %
// advanced, a 15000.00 commission and 1.50 % a month of late interest:
// pricing, partial payments, the close of business's mora, the recourse and
// the liquidación, and every refusal with extensions.code and
// extensions.fields.
func TestCobranzaGraphQL(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		cfg := testkit.Config(t)
		cfg.Anticipo, cfg.Comision, cfg.TasaMora = testkit.Dec("90.00"), testkit.Dec("15000.00"), testkit.Dec("1.50")
		env := testkit.NewEnvWith(t, db, cfg)
		client, _ := testkit.Serve(t, db, testkit.ServeOptions{Config: &cfg, Clock: env.Clock})
		c := env.MustCrearClienteActivo(t, "5000000.00")
		f1 := env.MustRegistrarFactura(t, c.ID, "600000.00", testkit.Vence(30))
		f2 := env.MustRegistrarFactura(t, c.ID, "400000.00", testkit.Vence(60))
		dia := func(n int) time.Time { return testkit.Vence(n) }
		alDia := func(n int) {
			d := dia(n)
			env.Clock.Set(time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, testkit.Santiago))
			_, err := env.Svc.Facturas.Cerrar(env.Ctx)
			require.NoError(t, err)
		}

		t.Run("porcentaje_anticipo_fuera_de_rango", func(t *testing.T) {
			for _, p := range []string{"0", "100.01"} {
				testkit.RequireGQLError(t, client.Do(crearConAnticipo, map[string]any{"in": map[string]any{
					"clienteId": gid.Encode(c.ID), "facturaIds": []string{gid.Encode(f1.ID)}, "porcentajeAnticipo": p}}),
					apperror.Validation, "porcentajeAnticipo")
			}
		})

		creada := testkit.Data[struct{ CrearOperacion operacionCreada }](t, client, crearConAnticipo, map[string]any{"in": map[string]any{
			"clienteId": gid.Encode(c.ID), "facturaIds": []string{gid.Encode(f1.ID), gid.Encode(f2.ID)}}})
		op := creada.CrearOperacion
		// 90 % of 1000000.00; 900000 × 2 % × 60/360 = 3000.00; 900000 − 3000 − 15000.
		assert.Equal(t, "90.00", op.PorcentajeAnticipo)
		assert.Equal(t, "900000.00", op.MontoAnticipado)
		assert.Equal(t, "100000.00", op.Excedente)
		assert.Equal(t, "15000.00", op.Comision)
		assert.Equal(t, "1.50", op.TasaMora)
		assert.Equal(t, "3000.00", op.MontoDescuento)
		assert.Equal(t, "882000.00", op.MontoADesembolsar)
		assert.Nil(t, op.Liquidacion, "no liquidación before finalization")
		opID, _, _ := gid.Decode(op.ID)
		_, err := env.Svc.Operaciones.Aprobar(env.Ctx, opID)
		require.NoError(t, err)

		t.Run("registrar_pago_parcial", func(t *testing.T) {
			alDia(40)
			got := testkit.Data[struct {
				RegistrarPago struct {
					ID, Monto, Fecha, Referencia, Actor string
					Factura                             struct{ ID, Estado, MontoPagado, Saldo string }
				}
			}](t, client, registrarPago, map[string]any{"in": map[string]any{
				"facturaId": gid.Encode(f1.ID), "monto": "200000", "fecha": dia(40).Format(time.DateOnly), "referencia": "TRF-1"}}).RegistrarPago
			_, tipo, ok := gid.Decode(got.ID)
			assert.True(t, ok && tipo == "Pago", "a Pago node: %s", got.ID)
			assert.Equal(t, "200000.00", got.Monto)
			assert.Equal(t, dia(40).Format(time.DateOnly), got.Fecha)
			assert.Equal(t, "TRF-1", got.Referencia)
			assert.Equal(t, "anonimo", got.Actor)
			assert.Equal(t, "VENCIDA", got.Factura.Estado, "the close of business of day 40 marked it")
			assert.Equal(t, "400000.00", got.Factura.Saldo)

			// The payment node is reachable by node(id), and from its factura.
			n := testkit.Data[struct{ Node struct{ Monto string } }](t, client, `query($id: ID!) { node(id: $id) { ... on Pago { monto } } }`,
				map[string]any{"id": got.ID})
			assert.Equal(t, "200000.00", n.Node.Monto)
			f := testkit.Data[struct {
				Factura struct {
					Estado, MontoTotal, MontoPagado, Saldo, InteresMora string
					DiasMora                                            int
					Pagos                                               testkit.Conn[struct{ Monto, Fecha, Referencia string }]
				}
			}](t, client, facturaMora, map[string]any{"id": gid.Encode(f1.ID)}).Factura
			assert.Equal(t, 10, f.DiasMora)
			assert.Equal(t, "3000.00", f.InteresMora, "10 days on 600000.00 at 0.05 % a day")
			assert.Equal(t, 1, f.Pagos.TotalCount)
			assert.Equal(t, "TRF-1", f.Pagos.Nodes()[0].Referencia)
		})

		t.Run("registrar_pago_errores", func(t *testing.T) {
			pago := func(edit func(m map[string]any)) map[string]any {
				m := map[string]any{"facturaId": gid.Encode(f1.ID), "monto": "10.00", "fecha": dia(40).Format(time.DateOnly)}
				edit(m)
				return map[string]any{"in": m}
			}
			testkit.RequireGQLError(t, client.Do(registrarPago, pago(func(m map[string]any) { m["monto"] = "0" })), apperror.Validation, "monto")
			testkit.RequireGQLError(t, client.Do(registrarPago, pago(func(m map[string]any) { m["monto"] = "-5.00" })), apperror.Validation, "monto")
			testkit.RequireGQLError(t, client.Do(registrarPago, pago(func(m map[string]any) { m["fecha"] = dia(41).Format(time.DateOnly) })),
				apperror.Validation, "fecha")
			testkit.RequireGQLError(t, client.Do(registrarPago, pago(func(m map[string]any) { m["fecha"] = f1.FechaEmision.AddDate(0, 0, -1).Format(time.DateOnly) })),
				apperror.Validation, "fecha")
			testkit.RequireGQLError(t, client.Do(registrarPago, pago(func(m map[string]any) { m["referencia"] = strings.Repeat("x", 256) })),
				apperror.Validation, "referencia")
			testkit.RequireGQLError(t, client.Do(registrarPago, pago(func(m map[string]any) { m["facturaId"] = gid.Encode(f1.ID + 100_000) })),
				apperror.NotFound)
			anulada := env.MustRegistrarFactura(t, c.ID, "10.00", dia(90))
			_, err := env.Svc.Facturas.Anular(env.Ctx, anulada.ID, nil)
			require.NoError(t, err)
			e := testkit.RequireGQLError(t, client.Do(registrarPago, pago(func(m map[string]any) { m["facturaId"] = gid.Encode(anulada.ID) })),
				apperror.Conflict)
			assert.Contains(t, e.Message, "ANULADA")
		})

		t.Run("exigir_recompra_antes_de_tiempo", func(t *testing.T) {
			alDia(61) // f2 is one day overdue
			testkit.RequireGQLError(t, client.Do(exigirRecompra, map[string]any{"f": gid.Encode(f2.ID)}), apperror.Validation, "facturaId")
			testkit.RequireGQLError(t, client.Do(exigirRecompra, map[string]any{"f": gid.Encode(f2.ID + 100_000)}), apperror.NotFound)
		})

		t.Run("pago_que_salda_y_sobrepago", func(t *testing.T) {
			got := testkit.Data[struct {
				RegistrarPago struct {
					Factura struct{ Estado, MontoPagado, Saldo string }
				}
			}](t, client, registrarPago, map[string]any{"in": map[string]any{
				"facturaId": gid.Encode(f1.ID), "monto": "400050.00", "fecha": dia(50).Format(time.DateOnly)}}).RegistrarPago
			assert.Equal(t, "PAGADA", got.Factura.Estado)
			assert.Equal(t, "600050.00", got.Factura.MontoPagado)
			assert.Equal(t, "0.00", got.Factura.Saldo)
			testkit.RequireGQLError(t, client.Do(registrarPago, map[string]any{"in": map[string]any{
				"facturaId": gid.Encode(f1.ID), "monto": "1.00", "fecha": dia(61).Format(time.DateOnly)}}), apperror.Conflict)
		})

		t.Run("recompra", func(t *testing.T) {
			alDia(91) // 31 days of mora
			got := testkit.Data[struct {
				ExigirRecompra struct {
					Estado, InteresMora, Saldo string
					DiasMora                   int
				}
			}](t, client, exigirRecompra, map[string]any{"f": gid.Encode(f2.ID)}).ExigirRecompra
			assert.Equal(t, "EN_RECOMPRA", got.Estado)
			assert.Equal(t, 31, got.DiasMora)
			assert.Equal(t, "6200.00", got.InteresMora, "31 days on 400000.00")

			vars := func(monto string, d time.Time) map[string]any {
				return map[string]any{"f": gid.Encode(f2.ID), "m": monto, "d": d.Format(time.DateOnly)}
			}
			e := testkit.RequireGQLError(t, client.Do(registrarRecompra, vars("400000.00", dia(91))), apperror.Validation, "monto")
			assert.Contains(t, e.Extensions.Fields["monto"], "406200.00")
			testkit.RequireGQLError(t, client.Do(registrarRecompra, vars("406200.00", dia(92))), apperror.Validation, "fecha")
			testkit.RequireGQLError(t, client.Do(registrarRecompra, vars("406200.00", dia(90))), apperror.Validation, "fecha")
			r := testkit.Data[struct {
				RegistrarRecompra struct{ Estado, MontoRecompra, FechaRecompra, InteresMora string }
			}](t, client, registrarRecompra, vars("406200.00", dia(91))).RegistrarRecompra
			assert.Equal(t, "RECOMPRADA", r.Estado)
			assert.Equal(t, "406200.00", r.MontoRecompra)
			assert.Equal(t, dia(91).Format(time.DateOnly), r.FechaRecompra)
		})

		t.Run("finalizar_liquida", func(t *testing.T) {
			got := testkit.Data[struct {
				FinalizarOperacion struct {
					Estado      string
					Liquidacion struct {
						MontoLiquidacion string
						Detalle          map[string]any
					}
				}
			}](t, client, finalizar, map[string]any{"o": op.ID}).FinalizarOperacion
			assert.Equal(t, "FINALIZADA", got.Estado)
			// 100000 + 50 (overpaid) − f1's interest (10 days on 600000 and
			// 10 on 400000: 3000 + 2000); f2's was paid in cash.
			assert.Equal(t, "95050.00", got.Liquidacion.MontoLiquidacion)
			assert.Equal(t, "100000.00", got.Liquidacion.Detalle["excedente"])
			assert.Equal(t, "50.00", got.Liquidacion.Detalle["sobrepagos"])
			assert.Equal(t, "5000.00", got.Liquidacion.Detalle["interesMora"])
			assert.Equal(t, "0.00", got.Liquidacion.Detalle["saldoCompensado"])
			assert.Len(t, got.Liquidacion.Detalle["facturas"], 2)
			env.RequireLinea(t, c.ID, "5000000.00", "5000000.00")
		})
		testkit.RequireVerificado(t, db)
	})
}

// operacionCreada is crearConAnticipo's answer.
type operacionCreada struct {
	ID                                                                 string
	PorcentajeAnticipo, MontoAnticipado, Excedente, Comision, TasaMora string
	MontoDescuento, MontoADesembolsar                                  string
	Liquidacion                                                        *struct{ MontoLiquidacion string }
}

// TestCobranzaRoles ensures that payments and recompras are tesoreria's
// and demanding a recompra is riesgo's (and admin's), refused to others
// with FORBIDDEN before anything runs.
func TestCobranzaRoles(t *testing.T) {
	db := testkit.SQLite(t)
	env := testkit.NewEnv(t, db)
	cfg := testkit.WithAuth(testkit.Config(t))
	client, _ := testkit.Serve(t, db, testkit.ServeOptions{Config: &cfg})
	c := env.MustCrearClienteActivo(t, "1000000.00")
	f := env.MustRegistrarFactura(t, c.ID, "1000.00", testkit.Vence(30))
	pago := map[string]any{"in": map[string]any{"facturaId": gid.Encode(f.ID), "monto": "1.00", "fecha": testkit.HoyFecha.Format(time.DateOnly)}}
	recompra := map[string]any{"f": gid.Encode(f.ID), "m": "1.00", "d": testkit.HoyFecha.Format(time.DateOnly)}
	exigir := map[string]any{"f": gid.Encode(f.ID)}
	for _, tc := range []struct {
		role          auth.Role
		pago, exigir  apperror.Code
		recompraError apperror.Code
	}{
		{auth.Tesoreria, "", apperror.Forbidden, apperror.Conflict},
		{auth.Riesgo, apperror.Forbidden, apperror.Conflict, apperror.Forbidden},
		{auth.Analista, apperror.Forbidden, apperror.Forbidden, apperror.Forbidden},
		{auth.Lector, apperror.Forbidden, apperror.Forbidden, apperror.Forbidden},
		{auth.Admin, "", apperror.Conflict, apperror.Conflict},
	} {
		t.Run(string(tc.role), func(t *testing.T) {
			tok := testkit.Token(t, "persona-"+string(tc.role), tc.role)
			check := func(res testkit.Response, want apperror.Code) {
				t.Helper()
				if want == "" {
					require.Empty(t, res.Errors, res.Raw)
					return
				}
				testkit.RequireGQLError(t, res, want)
			}
			check(client.DoAs(tok, registrarPago, pago), tc.pago)
			check(client.DoAs(tok, exigirRecompra, exigir), tc.exigir)             // CONFLICT: not VENCIDA
			check(client.DoAs(tok, registrarRecompra, recompra), tc.recompraError) // CONFLICT: not EN_RECOMPRA
		})
	}
}

// TestCarteraGraphQL ensures that Cliente.cartera answers the aging of
// each cliente of a page, and that a page of clientes reads its portfolios
// in a fixed number of statements, however many clientes it holds.
func TestCarteraGraphQL(t *testing.T) {
	const q = `query { clientes(first: 100) { edges { node { id
	  cartera { vigente { monto cantidad } mora1a30 { monto cantidad } mora31a60 { monto cantidad }
	            mora61a90 { monto cantidad } moraMas90 { monto cantidad } } } } } }`
	for name, dia := range map[string]string{"sqlite": dialect.SQLite, "postgres": dialect.Postgres} {
		t.Run(name, func(t *testing.T) {
			counts := map[int]int64{}
			for _, n := range []int{2, 12} {
				db, stmts := testkit.CountedDB(t, dia)
				env := testkit.NewEnv(t, db)
				for range n {
					c := env.MustCrearClienteActivo(t, "10000000.00")
					env.MustOperacionAprobada(t, c.ID, "1000.00", "2500.50")
					f := env.MustRegistrarFactura(t, c.ID, "700.00", testkit.Vence(5))
					op := env.MustCrearOperacion(t, c.ID, f.ID)
					_, err := env.Svc.Operaciones.Aprobar(env.Ctx, op.ID)
					require.NoError(t, err)
				}
				env.Clock.Set(testkit.Hoy.AddDate(0, 0, 45)) // the 700.00 ones are 40 days overdue
				_, err := env.Svc.Facturas.Cerrar(env.Ctx)
				require.NoError(t, err)
				client, _ := testkit.Serve(t, db, testkit.ServeOptions{Clock: clock.NewFixed(env.Clock.Now())})
				var got json.RawMessage
				counts[n], got = measure(t, client, stmts, q, nil)
				var out struct {
					Clientes testkit.Conn[struct {
						Cartera map[string]struct {
							Monto    string
							Cantidad int
						}
					}]
				}
				require.NoError(t, json.Unmarshal(got, &out))
				require.Len(t, out.Clientes.Edges, n)
				for _, cl := range out.Clientes.Nodes() {
					assert.Equal(t, "3500.50", cl.Cartera["vigente"].Monto, "the two due in 90 days")
					assert.Equal(t, 2, cl.Cartera["vigente"].Cantidad)
					assert.Equal(t, "700.00", cl.Cartera["mora31a60"].Monto)
					assert.Equal(t, 1, cl.Cartera["mora31a60"].Cantidad)
					assert.Equal(t, "0.00", cl.Cartera["moraMas90"].Monto)
					assert.Equal(t, 0, cl.Cartera["moraMas90"].Cantidad)
				}
			}
			assert.Equal(t, counts[2], counts[12], "statements for 2 clientes and for 12: %v", counts)
		})
	}
}

// TestCarteraDeudorGraphQL ensures that Deudor.cartera answers the aging on
// each deudor of a page, across every cliente, adding up to its
// exposicion, in a fixed number of statements however many deudores the
// page holds.
func TestCarteraDeudorGraphQL(t *testing.T) {
	const q = `query { deudores(first: 100) { edges { node { rut exposicion
	  cartera { vigente { monto cantidad } mora1a30 { monto cantidad } mora31a60 { monto cantidad }
	            mora61a90 { monto cantidad } moraMas90 { monto cantidad } } } } } }`
	for name, dia := range map[string]string{"sqlite": dialect.SQLite, "postgres": dialect.Postgres} {
		t.Run(name, func(t *testing.T) {
			counts := map[int]int64{}
			for _, n := range []int{2, 12} {
				db, stmts := testkit.CountedDB(t, dia)
				env := testkit.NewEnv(t, db)
				a, b := env.MustCrearClienteActivo(t, "100000000.00"), env.MustCrearClienteActivo(t, "100000000.00")
				for range n {
					// One deudor owed by both clientes: 1000.00 due in 90 days
					// and 700.00 (300.00 of it paid) due in 5.
					rut := testkit.NewRUT()
					opA, _ := env.MustOperacionPendienteDe(t, a.ID, rut, "1000.00")
					f, err := env.Svc.Facturas.Registrar(env.Ctx, testkit.FacturaInputDe(b.ID, rut, "700.00", testkit.Vence(5)))
					require.NoError(t, err)
					for _, op := range []int{opA.ID, env.MustCrearOperacion(t, b.ID, f.ID).ID} {
						_, err := env.Svc.Operaciones.Aprobar(env.Ctx, op)
						require.NoError(t, err)
					}
					_, err = env.Svc.Facturas.RegistrarPago(env.Ctx, facturas.RegistrarPagoInput{FacturaID: f.ID, Monto: testkit.Dec("300.00"), Fecha: testkit.HoyFecha})
					require.NoError(t, err)
				}
				env.Clock.Set(testkit.Hoy.AddDate(0, 0, 45)) // the 700.00 ones are 40 days overdue
				_, err := env.Svc.Facturas.Cerrar(env.Ctx)
				require.NoError(t, err)
				client, _ := testkit.Serve(t, db, testkit.ServeOptions{Clock: clock.NewFixed(env.Clock.Now())})
				var got json.RawMessage
				counts[n], got = measure(t, client, stmts, q, nil)
				var out struct {
					Deudores testkit.Conn[struct {
						Exposicion string
						Cartera    map[string]struct {
							Monto    string
							Cantidad int
						}
					}]
				}
				require.NoError(t, json.Unmarshal(got, &out))
				require.Len(t, out.Deudores.Edges, n)
				for _, d := range out.Deudores.Nodes() {
					assert.Equal(t, "1400.00", d.Exposicion, "1000.00 and the 400.00 left of 700.00")
					assert.Equal(t, "1000.00", d.Cartera["vigente"].Monto)
					assert.Equal(t, 1, d.Cartera["vigente"].Cantidad)
					assert.Equal(t, "400.00", d.Cartera["mora31a60"].Monto)
					assert.Equal(t, 1, d.Cartera["mora31a60"].Cantidad)
					assert.Equal(t, "0.00", d.Cartera["mora1a30"].Monto)
				}
			}
			assert.Equal(t, counts[2], counts[12], "statements for 2 deudores and for 12: %v", counts)
		})
	}
}
