package graph_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/testkit"
)

// api is a GraphQL client that sends a distinct X-Request-ID with every
// request and remembers it (the correlation id) with the id the server gave
// the request, so a test can tell which request wrote what.
type api struct {
	t        *testing.T
	client   *testkit.Client
	clock    *clock.Fixed
	n        int
	last     string // the server's X-Request-ID of the latest request
	lastCorr string // the X-Request-ID the latest request sent
}

func newAPI(t *testing.T, db *database.DB) *api {
	client, c := testkit.Serve(t, db, testkit.ServeOptions{})
	return &api{t: t, client: client, clock: c.(*clock.Fixed)}
}

// do runs one mutation or query under a fresh request id, one minute after
// the previous one, and decodes its data into dst.
func (a *api) do(query string, vars map[string]any, dst any) {
	a.t.Helper()
	a.n++
	a.lastCorr = fmt.Sprintf("prueba-%s-%02d", a.t.Name()[:4], a.n)
	a.client.Header.Set("X-Request-ID", a.lastCorr)
	a.clock.Advance(time.Minute)
	res := a.client.Do(query, vars)
	require.Empty(a.t, res.Errors, "query failed: %s", res.Raw)
	require.NoError(a.t, json.Unmarshal(res.Data, dst), res.Raw)
	a.last = res.Header.Get("X-Request-ID")
	require.NotEqual(a.t, a.lastCorr, a.last, "the server gives the request its own id")
	require.Equal(a.t, a.lastCorr, res.Header.Get("X-Correlation-ID"), "and echoes the caller's as the correlation id")
}

// post runs a request under no request id of the test's, for requests that
// are to fail.
func (a *api) post(query string, vars map[string]any) testkit.Response {
	a.t.Helper()
	a.client.Header.Del("X-Request-ID")
	return a.client.Do(query, vars)
}

const (
	gqlCrearCliente = `mutation($input: CrearClienteInput!) { crearCliente(input: $input) { id estado lineaCredito lineaDisponible lineaUtilizada } }`
	gqlActivar      = `mutation($id: ID!) { activarCliente(id: $id) { id estado } }`
	gqlRegistrar    = `mutation($input: RegistrarFacturaInput!) { registrarFactura(input: $input) { id estado } }`
	gqlPagar        = `mutation($id: ID!) { pagarFactura(id: $id) { id estado } }`
	operacionFields = `id estado montoTotalFacturas tasaDescuento diasDescuento montoDescuento montoADesembolsar
		fechaAprobacion fechaDesembolso fechaFinalizacion motivoRechazo
		facturas { edges { node { id estado } } }`
	gqlCrearOperacion = `mutation($input: CrearOperacionInput!) { crearOperacion(input: $input) { ` + operacionFields + ` } }`
	gqlAprobar        = `mutation($id: ID!) { aprobarOperacion(id: $id) { ` + operacionFields + ` } }`
	gqlRechazar       = `mutation($id: ID!, $motivo: String!) { rechazarOperacion(id: $id, motivo: $motivo) { ` + operacionFields + ` } }`
	gqlDesembolsar    = `mutation($id: ID!) { desembolsarOperacion(id: $id) { ` + operacionFields + ` } }`
	gqlFinalizar      = `mutation($id: ID!) { finalizarOperacion(id: $id) { ` + operacionFields + ` } }`
	gqlCliente        = `query($id: ID!) { cliente(id: $id) { lineaCredito lineaDisponible lineaUtilizada } }`
	gqlEventos        = `query($id: ID!) { operacion(id: $id) { estado eventos { totalCount edges { node {
		tipo estadoAnterior estadoNuevo requestId correlationId actor detalle fecha } } } } }`
)

type operacionGQL struct {
	ID                 string  `json:"id"`
	Estado             string  `json:"estado"`
	MontoTotalFacturas string  `json:"montoTotalFacturas"`
	TasaDescuento      string  `json:"tasaDescuento"`
	DiasDescuento      int     `json:"diasDescuento"`
	MontoDescuento     string  `json:"montoDescuento"`
	MontoADesembolsar  string  `json:"montoADesembolsar"`
	FechaAprobacion    *string `json:"fechaAprobacion"`
	FechaDesembolso    *string `json:"fechaDesembolso"`
	FechaFinalizacion  *string `json:"fechaFinalizacion"`
	MotivoRechazo      *string `json:"motivoRechazo"`
	Facturas           struct {
		Edges []struct {
			Node struct{ ID, Estado string }
		}
	}
}

func (o operacionGQL) estadosFacturas() map[string]string {
	out := map[string]string{}
	for _, e := range o.Facturas.Edges {
		out[e.Node.ID] = e.Node.Estado
	}
	return out
}

type eventoGQL struct {
	Tipo           string         `json:"tipo"`
	EstadoAnterior *string        `json:"estadoAnterior"`
	EstadoNuevo    string         `json:"estadoNuevo"`
	RequestID      string         `json:"requestId"`
	CorrelationID  *string        `json:"correlationId"`
	Actor          string         `json:"actor"`
	Detalle        map[string]any `json:"detalle"`
	Fecha          time.Time      `json:"fecha"`
}

// requireLineas asserts the cliente's line as the API shows it.
func (a *api) requireLineas(clienteID, credito, disponible, utilizada string) {
	a.t.Helper()
	a.client.Header.Del("X-Request-ID")
	out := testkit.Data[struct {
		Cliente struct{ LineaCredito, LineaDisponible, LineaUtilizada string }
	}](a.t, a.client, gqlCliente, map[string]any{"id": clienteID})
	assert.Equal(a.t, credito, out.Cliente.LineaCredito, "lineaCredito")
	assert.Equal(a.t, disponible, out.Cliente.LineaDisponible, "lineaDisponible")
	assert.Equal(a.t, utilizada, out.Cliente.LineaUtilizada, "lineaUtilizada")
}

func (a *api) eventos(opID string) (string, []eventoGQL) {
	a.t.Helper()
	a.client.Header.Del("X-Request-ID")
	out := testkit.Data[struct {
		Operacion struct {
			Estado  string
			Eventos testkit.Conn[eventoGQL]
		}
	}](a.t, a.client, gqlEventos, map[string]any{"id": opID})
	evs := out.Operacion.Eventos.Nodes()
	require.Equal(a.t, out.Operacion.Eventos.TotalCount, len(evs))
	return out.Operacion.Estado, evs
}

// clienteYFacturas runs crearCliente, activarCliente and one
// registrarFactura per monto (due dias[i] days from today), returning
// their API ids.
func (a *api) clienteYFacturas(linea string, montos []string, dias []int) (string, []string) {
	a.t.Helper()
	var cc struct {
		CrearCliente struct{ ID, Estado, LineaCredito, LineaDisponible, LineaUtilizada string }
	}
	a.do(gqlCrearCliente, map[string]any{"input": map[string]any{
		"rut": testkit.NewRUT(), "razonSocial": "Comercial Andes SpA", "email": "tesoreria@andes.cl", "lineaCredito": linea,
	}}, &cc)
	require.Equal(a.t, "PENDIENTE", cc.CrearCliente.Estado)
	require.Equal(a.t, linea, cc.CrearCliente.LineaDisponible)
	require.Equal(a.t, "0.00", cc.CrearCliente.LineaUtilizada)
	clienteID := cc.CrearCliente.ID

	var act struct{ ActivarCliente struct{ ID, Estado string } }
	a.do(gqlActivar, map[string]any{"id": clienteID}, &act)
	require.Equal(a.t, "ACTIVO", act.ActivarCliente.Estado)
	a.requireLineas(clienteID, linea, linea, "0.00")

	ids := make([]string, len(montos))
	for i, m := range montos {
		in := testkit.FacturaInput(0, m, testkit.Vence(dias[i]))
		var rf struct{ RegistrarFactura struct{ ID, Estado string } }
		a.do(gqlRegistrar, map[string]any{"input": map[string]any{
			"clienteId": clienteID, "numeroFactura": in.NumeroFactura, "rutDeudor": in.RutDeudor,
			"razonSocialDeudor": in.RazonSocialDeudor, "montoTotal": m,
			"fechaEmision":     in.FechaEmision.Format(time.DateOnly),
			"fechaVencimiento": in.FechaVencimiento.Format(time.DateOnly),
		}}, &rf)
		require.Equal(a.t, "DISPONIBLE", rf.RegistrarFactura.Estado)
		ids[i] = rf.RegistrarFactura.ID
		a.requireLineas(clienteID, linea, linea, "0.00")
	}
	return clienteID, ids
}

// TestCicloDeVidaGraphQL runs a whole cesión through the API, checking the
// credit line after every step and, at the end, the four events with the
// request that wrote each one.
func TestCicloDeVidaGraphQL(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		clienteID, facturaIDs := a.clienteYFacturas("1000000.00", []string{"200000.00", "100000.00"}, []int{120, 60})
		requests := map[string]string{} // event tipo -> the server's request id
		corrs := map[string]string{}    // event tipo -> the X-Request-ID sent

		var co struct{ CrearOperacion operacionGQL }
		a.do(gqlCrearOperacion, map[string]any{"input": map[string]any{"clienteId": clienteID, "facturaIds": facturaIDs}}, &co)
		requests["CREADA"] = a.last
		corrs["CREADA"] = a.lastCorr
		op := co.CrearOperacion
		assert.Equal(t, "PENDIENTE", op.Estado)
		assert.Equal(t, "300000.00", op.MontoTotalFacturas)
		assert.Equal(t, "2.00", op.TasaDescuento)
		assert.Equal(t, 120, op.DiasDescuento)
		assert.Equal(t, "2000.00", op.MontoDescuento)
		assert.Equal(t, "298000.00", op.MontoADesembolsar)
		assert.Nil(t, op.FechaAprobacion)
		assert.Equal(t, map[string]string{facturaIDs[0]: "EN_PROCESO", facturaIDs[1]: "EN_PROCESO"}, op.estadosFacturas())
		a.requireLineas(clienteID, "1000000.00", "1000000.00", "0.00")

		var ap struct{ AprobarOperacion operacionGQL }
		a.do(gqlAprobar, map[string]any{"id": op.ID}, &ap)
		requests["APROBADA"] = a.last
		corrs["APROBADA"] = a.lastCorr
		assert.Equal(t, "APROBADA", ap.AprobarOperacion.Estado)
		assert.NotNil(t, ap.AprobarOperacion.FechaAprobacion)
		assert.Equal(t, map[string]string{facturaIDs[0]: "CEDIDA", facturaIDs[1]: "CEDIDA"}, ap.AprobarOperacion.estadosFacturas())
		a.requireLineas(clienteID, "1000000.00", "700000.00", "300000.00")

		var de struct{ DesembolsarOperacion operacionGQL }
		a.do(gqlDesembolsar, map[string]any{"id": op.ID}, &de)
		requests["DESEMBOLSADA"] = a.last
		corrs["DESEMBOLSADA"] = a.lastCorr
		assert.Equal(t, "DESEMBOLSADA", de.DesembolsarOperacion.Estado)
		assert.NotNil(t, de.DesembolsarOperacion.FechaDesembolso)
		a.requireLineas(clienteID, "1000000.00", "700000.00", "300000.00")

		for _, id := range facturaIDs {
			var pf struct{ PagarFactura struct{ ID, Estado string } }
			a.do(gqlPagar, map[string]any{"id": id}, &pf)
			assert.Equal(t, "PAGADA", pf.PagarFactura.Estado)
			a.requireLineas(clienteID, "1000000.00", "700000.00", "300000.00")
		}

		var fi struct{ FinalizarOperacion operacionGQL }
		a.do(gqlFinalizar, map[string]any{"id": op.ID}, &fi)
		requests["FINALIZADA"] = a.last
		corrs["FINALIZADA"] = a.lastCorr
		assert.Equal(t, "FINALIZADA", fi.FinalizarOperacion.Estado)
		assert.NotNil(t, fi.FinalizarOperacion.FechaFinalizacion)
		assert.Equal(t, map[string]string{facturaIDs[0]: "PAGADA", facturaIDs[1]: "PAGADA"}, fi.FinalizarOperacion.estadosFacturas())
		a.requireLineas(clienteID, "1000000.00", "1000000.00", "0.00")

		estadoOp, evs := a.eventos(op.ID)
		assert.Equal(t, "FINALIZADA", estadoOp)
		require.Len(t, evs, 4)
		chain := []struct {
			tipo            string
			anterior, nuevo any
			detalle         map[string]any
			// parcial: detalle lists some of the keys, not all.
			parcial bool
		}{
			{"CREADA", nil, "PENDIENTE", map[string]any{
				"facturaIds": []any{facturaIDs[0], facturaIDs[1]}, "montoTotalFacturas": "300000.00",
				"tasaDescuento": "2.00", "diasDescuento": float64(120), "montoDescuento": "2000.00", "montoADesembolsar": "298000.00",
				"porcentajeAnticipo": "100.00", "montoAnticipado": "300000.00", "comision": "0.00", "excedente": "0.00", "tasaMora": "0.00",
			}, false},
			{"APROBADA", "PENDIENTE", "APROBADA", map[string]any{
				"facturaIds": []any{facturaIDs[0], facturaIDs[1]}, "lineaDisponibleAnterior": "1000000.00", "lineaDisponibleNueva": "700000.00",
			}, false},
			{"DESEMBOLSADA", "APROBADA", "DESEMBOLSADA", map[string]any{"montoADesembolsar": "298000.00"}, false},
			// And the liquidación: nothing to give back at the defaults.
			{"FINALIZADA", "DESEMBOLSADA", "FINALIZADA", map[string]any{
				"lineaDisponibleAnterior": "700000.00", "lineaDisponibleNueva": "1000000.00", "montoLiquidacion": "0.00",
			}, true},
		}
		for i, w := range chain {
			e := evs[i]
			assert.Equal(t, w.tipo, e.Tipo)
			if w.anterior == nil {
				assert.Nil(t, e.EstadoAnterior, "CREADA has no previous state")
			} else if assert.NotNil(t, e.EstadoAnterior) {
				assert.Equal(t, w.anterior, *e.EstadoAnterior)
			}
			assert.Equal(t, w.nuevo, e.EstadoNuevo)
			assert.Equal(t, requests[w.tipo], e.RequestID, "%s carries the id of the request that wrote it", w.tipo)
			if assert.NotNil(t, e.CorrelationID, w.tipo) {
				assert.Equal(t, corrs[w.tipo], *e.CorrelationID, "%s carries the caller's id as its correlation id", w.tipo)
			}
			assert.Equal(t, "anonimo", e.Actor)
			if w.parcial {
				for k, v := range w.detalle {
					assert.Equal(t, v, e.Detalle[k], "%s: %s", w.tipo, k)
				}
			} else {
				assert.Equal(t, w.detalle, e.Detalle, w.tipo)
			}
			if i > 0 {
				assert.True(t, e.Fecha.After(evs[i-1].Fecha), "events are in the order they happened")
			}
		}
		testkit.RequireVerificado(t, db)
	})
}

// TestRechazoGraphQL runs a rejected cesión through the API: the invoices
// come back DISPONIBLE, the line never moves, and a new operación may take
// the same invoices.
func TestRechazoGraphQL(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		clienteID, facturaIDs := a.clienteYFacturas("500000.00", []string{"120000.00", "80000.00"}, []int{30, 90})

		var co struct{ CrearOperacion operacionGQL }
		a.do(gqlCrearOperacion, map[string]any{"input": map[string]any{"clienteId": clienteID, "facturaIds": facturaIDs}}, &co)
		creada := a.last
		op := co.CrearOperacion
		a.requireLineas(clienteID, "500000.00", "500000.00", "0.00")

		var re struct{ RechazarOperacion operacionGQL }
		a.do(gqlRechazar, map[string]any{"id": op.ID, "motivo": "  Deudor sin clasificación  "}, &re)
		rechazada := a.last
		assert.Equal(t, "RECHAZADA", re.RechazarOperacion.Estado)
		require.NotNil(t, re.RechazarOperacion.MotivoRechazo)
		assert.Equal(t, "Deudor sin clasificación", *re.RechazarOperacion.MotivoRechazo)
		assert.Equal(t, map[string]string{facturaIDs[0]: "DISPONIBLE", facturaIDs[1]: "DISPONIBLE"}, re.RechazarOperacion.estadosFacturas())
		a.requireLineas(clienteID, "500000.00", "500000.00", "0.00")

		estadoOp, evs := a.eventos(op.ID)
		assert.Equal(t, "RECHAZADA", estadoOp)
		require.Len(t, evs, 2)
		assert.Equal(t, "CREADA", evs[0].Tipo)
		assert.Equal(t, creada, evs[0].RequestID)
		assert.Equal(t, "RECHAZADA", evs[1].Tipo)
		require.NotNil(t, evs[1].EstadoAnterior)
		assert.Equal(t, "PENDIENTE", *evs[1].EstadoAnterior)
		assert.Equal(t, "RECHAZADA", evs[1].EstadoNuevo)
		assert.Equal(t, rechazada, evs[1].RequestID)
		assert.Equal(t, "anonimo", evs[1].Actor)
		assert.Equal(t, map[string]any{"motivo": "Deudor sin clasificación"}, evs[1].Detalle)

		var again struct{ CrearOperacion operacionGQL }
		a.do(gqlCrearOperacion, map[string]any{"input": map[string]any{"clienteId": clienteID, "facturaIds": facturaIDs}}, &again)
		assert.Equal(t, "PENDIENTE", again.CrearOperacion.Estado)
		testkit.RequireVerificado(t, db)
	})
}

// TestErroresOperacionesGraphQL ensures that the operación mutations'
// errors reach the client with extensions.code, extensions.fields and
// extensions.requestId.
func TestErroresOperacionesGraphQL(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		a := newAPI(t, db)
		env := testkit.NewEnv(t, db)
		c := env.MustCrearClienteActivo(t, "100000.00")
		_, ids := env.MustRegistrarFacturas(t, c.ID, "60000.00", "60000.00")
		crear := func(clienteID int, facturaIDs ...int) map[string]any {
			return map[string]any{"input": map[string]any{"clienteId": gid.Encode(clienteID), "facturaIds": gid.EncodeAll(facturaIDs)}}
		}

		t.Run("crearOperacion", func(t *testing.T) {
			testkit.RequireGQLError(t, a.post(gqlCrearOperacion, crear(c.ID)), apperror.Validation, "facturaIds")
			testkit.RequireGQLError(t, a.post(gqlCrearOperacion, crear(missingCliente, ids[0])), apperror.NotFound)
			e := testkit.RequireGQLError(t, a.post(gqlCrearOperacion, crear(c.ID, ids[0], missingFactura)),
				apperror.Validation, "facturaIds")
			assert.Contains(t, e.Extensions.Fields["facturaIds"], gid.Encode(missingFactura), "lists the missing id as the API shows it")
			testkit.RequireGQLError(t, a.post(gqlCrearOperacion, map[string]any{"input": map[string]any{"clienteId": gid.Encode(c.ID), "facturaIds": []string{"basura"}}}),
				apperror.Validation, "facturaIds")
		})

		var first, second struct{ CrearOperacion operacionGQL }
		a.do(gqlCrearOperacion, crear(c.ID, ids[0]), &first)
		a.do(gqlCrearOperacion, crear(c.ID, ids[1]), &second)

		t.Run("crearOperacion_factura_retenida", func(t *testing.T) {
			e := testkit.RequireGQLError(t, a.post(gqlCrearOperacion, crear(c.ID, ids[0])), apperror.Validation, "facturaIds")
			assert.Contains(t, e.Extensions.Fields["facturaIds"], gid.Encode(ids[0]))
		})
		t.Run("rechazarOperacion", func(t *testing.T) {
			testkit.RequireGQLError(t, a.post(gqlRechazar, map[string]any{"id": first.CrearOperacion.ID, "motivo": " no"}),
				apperror.Validation, "motivo")
		})
		t.Run("desembolsarOperacion", func(t *testing.T) {
			e := testkit.RequireGQLError(t, a.post(gqlDesembolsar, map[string]any{"id": first.CrearOperacion.ID}),
				apperror.Conflict)
			assert.Contains(t, e.Message, "PENDIENTE", "names the current state")
		})
		t.Run("aprobarOperacion", func(t *testing.T) {
			var ok struct{ AprobarOperacion operacionGQL }
			a.do(gqlAprobar, map[string]any{"id": first.CrearOperacion.ID}, &ok)
			testkit.RequireGQLError(t, a.post(gqlAprobar, map[string]any{"id": second.CrearOperacion.ID}),
				apperror.Validation, "lineaDisponible")
			e := testkit.RequireGQLError(t, a.post(gqlAprobar, map[string]any{"id": first.CrearOperacion.ID}), apperror.Conflict)
			assert.Contains(t, e.Message, "APROBADA")
			testkit.RequireGQLError(t, a.post(gqlAprobar, map[string]any{"id": gid.Encode(missingOperacion)}), apperror.NotFound)
		})
		t.Run("finalizarOperacion", func(t *testing.T) {
			e := testkit.RequireGQLError(t, a.post(gqlFinalizar, map[string]any{"id": first.CrearOperacion.ID}),
				apperror.Validation, "facturas")
			assert.Contains(t, e.Extensions.Fields["facturas"], gid.Encode(ids[0]))
		})
		testkit.RequireVerificado(t, db)
	})
}
