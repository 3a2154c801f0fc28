package operaciones_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent/pago"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/facturas"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/operaciones"
	"github.com/banpro/factoring/internal/testkit"
)

// A worked example of the life of the money (docs/dominio.md, "The advance"
// and "Collections"): an operación over facturas, priced on its terms, then
// a script of what happens on each day (the close of business runs first
// every day the script names), and every figure at the end, each computed
// by hand in the comments.
type ejemplo struct {
	name string
	// The terms: FACTORING_ANTICIPO, FACTORING_COMISION,
	// FACTORING_TASA_MORA; porcentaje, when set, is crearOperacion's
	// porcentajeAnticipo.
	anticipo, comision, tasaMora string
	porcentaje                   *string
	facturas                     []facturaEj
	// The price at creation (today, day 0).
	anticipado, excedente, descuento, desembolso string
	dias                                         int
	pasos                                        []paso
	// Each factura at the end, and the liquidación.
	finales     []finalEj
	liquidacion string
	// ganancia is what the company kept: every peso collected (debtors'
	// payments, recompras in cash) less the payout and the liquidación.
	// It is always montoDescuento + comision + Σ interesMora.
	ganancia string
}

type facturaEj struct {
	monto string
	vence int // days after today
}

type paso struct {
	dia     int    // days after today
	hace    string // pago, pagar, exigir, recompra, finalizar
	factura int    // index into facturas
	monto   string
	err     apperror.Code // finalizar: the refusal expected, if any
}

type finalEj struct {
	estado    estado.Factura
	dias      int
	interes   string
	sobrepago string
}

// The worked examples, each figure by hand. A month of mora is 30 days, so
// 1.50 % a month is 0.05 % a day: 300.00 a day on 600000.00, 200.00 on
// 400000.00, 150.00 on 300000.00, 75.00 on 150000.00.
var ejemplos = []ejemplo{
	{
		// The original's figures: 300000.00, 120 days at 2.00 %: 2000.00
		// off, 298000.00 paid out. Paid 10 days late: 10 days of mora and
		// no interest (no rate). Nothing to give back.
		name: "por_omision_como_el_original", anticipo: "100.00", comision: "0.00", tasaMora: "0.00",
		facturas:   []facturaEj{{"300000.00", 120}},
		anticipado: "300000.00", excedente: "0.00", dias: 120, descuento: "2000.00", desembolso: "298000.00",
		pasos:       []paso{{dia: 130, hace: "pagar"}, {dia: 130, hace: "finalizar"}},
		finales:     []finalEj{{estado.FacturaPagada, 10, "0.00", "0.00"}},
		liquidacion: "0.00", ganancia: "2000.00",
	},
	{
		// 90 % of 1000000.00 is 900000.00 (excedente 100000.00); its
		// discount for 60 days: 900000 × 2 % × 60/360 = 3000.00; paid out
		// 900000 − 3000 − 15000 = 882000.00.
		// F1 (600000.00, due day 30) is paid late and in parts: 200000.00 on
		// day 40, 400050.00 on day 50 (50.00 too much). Mora: days 31..40 on
		// 600000 (10 × 300 = 3000.00), 41..50 on 400000 (10 × 200 =
		// 2000.00): 20 days, 5000.00.
		// F2 (400000.00, due day 60): 100000.00 on day 65; on day 91 it has
		// 31 days of mora (more than 30) and its recompra is demanded; on
		// day 95 the cliente pays saldo 300000.00 + interest (days 61..65 on
		// 400000: 1000.00; 66..95 on 300000: 30 × 150 = 4500.00) =
		// 305500.00.
		// Liquidación: 100000 + 50 − 5000 (F1's interest; F2's was paid in
		// cash) = 95050.00. The company keeps 3000 + 15000 + 5000 + 5500 =
		// 28500.00: it collected 200000 + 400050 + 100000 + 305500 =
		// 1005550.00 and paid 882000 + 95050.
		name: "anticipo_90_pagada_tarde_en_partes_y_recomprada_en_efectivo", anticipo: "90.00", comision: "15000.00", tasaMora: "1.50",
		facturas:   []facturaEj{{"600000.00", 30}, {"400000.00", 60}},
		anticipado: "900000.00", excedente: "100000.00", dias: 60, descuento: "3000.00", desembolso: "882000.00",
		pasos: []paso{
			{dia: 40, hace: "pago", factura: 0, monto: "200000.00"},
			{dia: 50, hace: "pago", factura: 0, monto: "400050.00"},
			{dia: 65, hace: "pago", factura: 1, monto: "100000.00"},
			{dia: 91, hace: "exigir", factura: 1},
			{dia: 95, hace: "recompra", factura: 1, monto: "305500.00"},
			{dia: 95, hace: "finalizar"},
		},
		finales: []finalEj{
			{estado.FacturaPagada, 20, "5000.00", "50.00"},
			{estado.FacturaRecomprada, 35, "5500.00", "0.00"},
		},
		liquidacion: "95050.00", ganancia: "28500.00",
	},
	{
		// 80 % asked in crearOperacion (the configured 100 % aside):
		// 800000.00 advanced, excedente 200000.00; discount 800000 × 2 % ×
		// 60/360 = 2666.666… → 2666.67 (half up); paid out 800000 − 2666.67 −
		// 15000 = 782333.33.
		// F1 paid exactly on its due date: no mora. F2 (400000.00, due day
		// 60): 250000.00 on day 70; recompra demanded on day 100 (40 days);
		// the operación is finalized on day 105 without a cash recompra, so
		// F2's saldo and interest are charged to the excedente: interest
		// days 61..70 on 400000 (10 × 200 = 2000.00) and 71..105 on 150000
		// (35 × 75 = 2625.00) = 4625.00.
		// Liquidación: 200000 − 4625 − 150000 = 45375.00. The company keeps
		// 2666.67 + 15000 + 4625 = 22291.67 (collected 850000.00, paid
		// 782333.33 + 45375).
		name: "anticipo_80_recompra_con_cargo_al_excedente", anticipo: "100.00", comision: "15000.00", tasaMora: "1.50",
		porcentaje: ptr("80.00"),
		facturas:   []facturaEj{{"600000.00", 30}, {"400000.00", 60}},
		anticipado: "800000.00", excedente: "200000.00", dias: 60, descuento: "2666.67", desembolso: "782333.33",
		pasos: []paso{
			{dia: 30, hace: "pago", factura: 0, monto: "600000.00"},
			{dia: 70, hace: "pago", factura: 1, monto: "250000.00"},
			{dia: 100, hace: "exigir", factura: 1},
			{dia: 105, hace: "finalizar"},
		},
		finales: []finalEj{
			{estado.FacturaPagada, 0, "0.00", "0.00"},
			{estado.FacturaRecomprada, 45, "4625.00", "0.00"},
		},
		liquidacion: "45375.00", ganancia: "22291.67",
	},
	{
		// 95 % of 1000000.00: 950000.00, excedente 50000.00; discount
		// 950000 × 2 % × 30/360 = 1583.333… → 1583.33; paid out 950000 −
		// 1583.33 − 15000 = 933416.67. Never paid: on day 61, 31 days of
		// mora, 1000000 × 31 × 0.05 % = 15500.00. The excedente cannot cover
		// 1015500.00: finalization is refused until the cliente pays the
		// recompra in cash; then it gives back the whole excedente.
		// The company keeps 1583.33 + 15000 + 15500 = 32083.33.
		name: "anticipo_95_el_excedente_no_cubre_y_el_cliente_recompra", anticipo: "95.00", comision: "15000.00", tasaMora: "1.50",
		facturas:   []facturaEj{{"1000000.00", 30}},
		anticipado: "950000.00", excedente: "50000.00", dias: 30, descuento: "1583.33", desembolso: "933416.67",
		pasos: []paso{
			{dia: 61, hace: "exigir"},
			{dia: 61, hace: "finalizar", err: apperror.Validation},
			{dia: 61, hace: "recompra", monto: "1015500.00"},
			{dia: 61, hace: "finalizar"},
		},
		finales:     []finalEj{{estado.FacturaRecomprada, 31, "15500.00", "0.00"}},
		liquidacion: "50000.00", ganancia: "32083.33",
	},
	{
		// Rounded half up, once each: 1234.57 × 33.33 % = 411.482181 →
		// 411.48 advanced, excedente 823.09; discount 411.48 × 2 % × 45/360 =
		// 1.0287 → 1.03; paid out 410.45. Paid on its due date: the
		// liquidación gives back the excedente.
		name: "redondeo_mitad_hacia_arriba", anticipo: "33.33", comision: "0.00", tasaMora: "1.50",
		facturas:   []facturaEj{{"1234.57", 45}},
		anticipado: "411.48", excedente: "823.09", dias: 45, descuento: "1.03", desembolso: "410.45",
		pasos:       []paso{{dia: 45, hace: "pagar"}, {dia: 46, hace: "finalizar"}},
		finales:     []finalEj{{estado.FacturaPagada, 0, "0.00", "0.00"}},
		liquidacion: "823.09", ganancia: "1.03",
	},
}

func ptr(s string) *string { return &s }

// TestEjemplosDeLiquidacion runs every worked example through the services
// and checks each figure to the cent, the credit line at each step (taken
// at approval, untouched by the recourse, given back at finalization), the
// company's gain, and the invariants.
func TestEjemplosDeLiquidacion(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		for _, ej := range ejemplos {
			t.Run(ej.name, func(t *testing.T) {
				cfg := testkit.Config(t)
				cfg.Anticipo, cfg.Comision, cfg.TasaMora = testkit.Dec(ej.anticipo), testkit.Dec(ej.comision), testkit.Dec(ej.tasaMora)
				env := testkit.NewEnvWith(t, dbFor(t, db), cfg)
				ejecutar(t, env, ej)
			})
		}
	})
}

func ejecutar(t *testing.T, env *testkit.Env, ej ejemplo) {
	t.Helper()
	const linea = "5000000.00"
	c := env.MustCrearClienteActivo(t, linea)
	ids := make([]int, len(ej.facturas))
	for i, f := range ej.facturas {
		ids[i] = env.MustRegistrarFactura(t, c.ID, f.monto, testkit.Vence(f.vence)).ID
	}
	in := operaciones.CrearInput{ClienteID: c.ID, FacturaIDs: ids}
	if ej.porcentaje != nil {
		p := testkit.Dec(*ej.porcentaje)
		in.PorcentajeAnticipo = &p
	}
	op, err := env.Svc.Operaciones.Crear(ctx, in)
	require.NoError(t, err)
	assert.Equal(t, ej.anticipado, operaciones.MontoAnticipado(op).StringFixed(2), "montoAnticipado")
	assert.Equal(t, ej.excedente, operaciones.Excedente(op).StringFixed(2), "excedente")
	assert.Equal(t, ej.dias, op.DiasDescuento, "diasDescuento")
	assert.Equal(t, ej.descuento, op.MontoDescuento.StringFixed(2), "montoDescuento")
	assert.Equal(t, ej.comision, op.Comision.StringFixed(2), "comision")
	assert.Equal(t, ej.desembolso, op.MontoADesembolsar.StringFixed(2), "montoADesembolsar")
	assert.Equal(t, ej.tasaMora, op.TasaMora.StringFixed(2), "tasaMora")

	_, err = env.Svc.Operaciones.Aprobar(ctx, op.ID)
	require.NoError(t, err)
	enUso := testkit.Dec(linea).Sub(testkit.Dec(ej.anticipado)).StringFixed(2)
	env.RequireLinea(t, c.ID, linea, enUso) // the advance, not the face value
	_, err = env.Svc.Operaciones.Desembolsar(ctx, op.ID)
	require.NoError(t, err)

	for _, p := range ej.pasos {
		dia := testkit.Vence(p.dia)
		env.Clock.Set(time.Date(dia.Year(), dia.Month(), dia.Day(), 12, 0, 0, 0, testkit.Santiago))
		_, err := env.Svc.Facturas.Cerrar(ctx)
		require.NoError(t, err, "cierre del día %d", p.dia)
		id := ids[p.factura]
		switch p.hace {
		case "pago":
			_, err = env.Svc.Facturas.RegistrarPago(ctx, facturas.RegistrarPagoInput{FacturaID: id, Monto: testkit.Dec(p.monto), Fecha: dia})
		case "pagar":
			_, err = env.Svc.Facturas.Pagar(ctx, id)
		case "exigir":
			_, err = env.Svc.Facturas.ExigirRecompra(ctx, id)
		case "recompra":
			_, err = env.Svc.Facturas.RegistrarRecompra(ctx, id, testkit.Dec(p.monto), dia)
		case "finalizar":
			_, err = env.Svc.Operaciones.Finalizar(ctx, op.ID)
		default:
			t.Fatalf("paso desconocido %q", p.hace)
		}
		if p.err != "" {
			testkit.RequireCode(t, err, p.err, "facturas")
			assert.Equal(t, estado.OperacionDesembolsada, env.Operacion(t, op.ID).Estado, "a refused finalization changes nothing")
			continue
		}
		require.NoError(t, err, "día %d: %s", p.dia, p.hace)
		if p.hace != "finalizar" {
			env.RequireLinea(t, c.ID, linea, enUso) // payments and recourse leave the line alone
		}
	}

	stored := env.Operacion(t, op.ID)
	require.Equal(t, estado.OperacionFinalizada, stored.Estado)
	env.RequireLinea(t, c.ID, linea, linea)
	require.NotNil(t, stored.MontoLiquidacion)
	assert.Equal(t, ej.liquidacion, stored.MontoLiquidacion.StringFixed(2), "montoLiquidacion")
	assert.Equal(t, ej.liquidacion, stored.Liquidacion["montoLiquidacion"], "the recorded detalle says the same")

	cobrado, interes := decimal.Zero, decimal.Zero
	for i, want := range ej.finales {
		f := env.Factura(t, ids[i])
		assert.Equal(t, want.estado, f.Estado, "factura %d", i)
		assert.Equal(t, want.dias, f.DiasMora, "diasMora de la factura %d", i)
		assert.Equal(t, want.interes, f.InteresMora.StringFixed(2), "interesMora de la factura %d", i)
		assert.Equal(t, want.sobrepago, facturas.Sobrepago(f).StringFixed(2), "sobrepago de la factura %d", i)
		pagos, err := env.DB.Client.Pago.Query().Where(pago.FacturaID(f.ID)).All(ctx)
		require.NoError(t, err)
		for _, p := range pagos {
			cobrado = cobrado.Add(p.Monto)
		}
		if f.MontoRecompra != nil {
			cobrado = cobrado.Add(*f.MontoRecompra)
		}
		interes = interes.Add(f.InteresMora)
	}
	ganancia := cobrado.Sub(stored.MontoADesembolsar).Sub(*stored.MontoLiquidacion)
	assert.Equal(t, ej.ganancia, ganancia.StringFixed(2), "what the company kept")
	assert.Equal(t, ganancia.StringFixed(2), stored.MontoDescuento.Add(stored.Comision).Add(interes).StringFixed(2),
		"what it kept is the discount, the commission and the interest of mora")
	testkit.RequireVerificado(t, env.DB)
}

// dbFor is a fresh database of db's dialect: each example starts empty.
func dbFor(t *testing.T, db *database.DB) *database.DB {
	if db.Dialect == "postgres" {
		return testkit.Postgres(t)
	}
	return testkit.SQLite(t)
}

// TestCrearAnticipo ensures that porcentajeAnticipo outside 0 < p ≤ 100 is
// refused on that field before anything is read, and that the advance's
// figures are recorded in the CREADA event.
func TestCrearAnticipo(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		c := env.MustCrearClienteActivo(t, "10000000.00")
		_, ids := env.MustRegistrarFacturas(t, c.ID, "100000.00")
		for _, p := range []string{"0", "-1", "100.01", "250"} {
			t.Run("fuera_de_rango_"+p, func(t *testing.T) {
				pct := testkit.Dec(p)
				before := env.Snapshot(t)
				_, err := env.Svc.Operaciones.Crear(ctx, operaciones.CrearInput{ClienteID: c.ID, FacturaIDs: ids, PorcentajeAnticipo: &pct})
				testkit.RequireCode(t, err, apperror.Validation, "porcentajeAnticipo")
				assert.Equal(t, before, env.Snapshot(t))
			})
		}
		t.Run("se_registra_en_el_evento", func(t *testing.T) {
			pct := testkit.Dec("85.50")
			op, err := env.Svc.Operaciones.Crear(ctx, operaciones.CrearInput{ClienteID: c.ID, FacturaIDs: ids, PorcentajeAnticipo: &pct})
			require.NoError(t, err)
			assert.Equal(t, "85.50", op.PorcentajeAnticipo.StringFixed(2))
			d := env.Eventos(t, op.ID)[0].Detalle
			assert.Equal(t, "85.50", d["porcentajeAnticipo"])
			assert.Equal(t, "85500.00", d["montoAnticipado"])
			assert.Equal(t, "14500.00", d["excedente"])
			// 85500 × 2 % × 90/360 = 427.50; 85500 − 427.50.
			assert.Equal(t, "427.50", d["montoDescuento"])
			assert.Equal(t, "85072.50", d["montoADesembolsar"])
		})
		testkit.RequireVerificado(t, db)
	})
}

// TestFinalizarConFacturasPendientes ensures that an operación with an
// invoice still owed (CEDIDA, or VENCIDA without its recompra demanded) is
// not finalized, naming it.
func TestFinalizarConFacturasPendientes(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		c := env.MustCrearClienteActivo(t, "10000000.00")
		op, ids := env.MustOperacionDesembolsada(t, c.ID, "1000.00", "2000.00")
		_, err := env.Svc.Facturas.RegistrarPago(ctx, facturas.RegistrarPagoInput{FacturaID: ids[0], Monto: testkit.Dec("999.99"), Fecha: testkit.HoyFecha})
		require.NoError(t, err)
		env.MustPagarTodas(t, ids[1])
		_, err = env.Svc.Operaciones.Finalizar(ctx, op.ID)
		e := testkit.RequireCode(t, err, apperror.Validation, "facturas")
		assert.Contains(t, e.Fields["facturas"], gid.Encode(ids[0]), "the one still owed")
		assert.NotContains(t, e.Fields["facturas"], gid.Encode(ids[1]))
		env.MustPagarTodas(t, ids[0])
		got, err := env.Svc.Operaciones.Finalizar(ctx, op.ID)
		require.NoError(t, err)
		liq := operaciones.LiquidacionDe(got)
		require.NotNil(t, liq)
		assert.Equal(t, "0.00", liq.Monto.StringFixed(2))
		testkit.RequireVerificado(t, db)
	})
}
