package app_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/testkit"
)

// eventoGQL is an audit entry as GraphQL returns it.
type eventoGQL struct {
	ID             string         `json:"id"`
	Tipo           string         `json:"tipo"`
	Fecha          time.Time      `json:"fecha"`
	EstadoAnterior *string        `json:"estadoAnterior"`
	EstadoNuevo    *string        `json:"estadoNuevo"`
	RequestID      string         `json:"requestId"`
	CorrelationID  *string        `json:"correlationId"`
	Actor          string         `json:"actor"`
	Detalle        map[string]any `json:"detalle"`
	Entidad        string         `json:"entidad"`
	EntidadID      string         `json:"entidadId"`
}

const eventoFields = `id tipo fecha estadoAnterior estadoNuevo requestId correlationId actor detalle entidad entidadId`

// conexion is a connection of audit entries as GraphQL returns it.
type conexion struct {
	TotalCount int
	PageInfo   struct {
		HasNextPage bool
		EndCursor   string
	}
	Edges []struct{ Node eventoGQL }
}

func (c conexion) tipos() []string {
	var out []string
	for _, e := range c.Edges {
		out = append(out, e.Node.Tipo)
	}
	return out
}

// auditoriaAPI is a server with authentication and a clock the test moves,
// whose access log the test reads.
type auditoriaAPI struct {
	t     *testing.T
	db    *database.DB
	c     *testkit.Client
	clock *clock.Fixed
	logs  *testkit.SyncBuffer
}

// enviar posts query as the bearer of token, sending corr as X-Request-ID
// when not empty, one minute after the previous request.
func (a auditoriaAPI) enviar(token, corr, query string, vars map[string]any) testkit.Response {
	a.t.Helper()
	a.clock.Advance(time.Minute)
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(a.t, err)
	req, err := http.NewRequest(http.MethodPost, a.c.URL()+"/graphql", bytes.NewReader(body))
	require.NoError(a.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	if corr != "" {
		req.Header.Set("X-Request-ID", corr)
	}
	return a.c.Send(req)
}

// data requires res succeeded and decodes its data.
func (a auditoriaAPI) data(res testkit.Response, dst any) {
	a.t.Helper()
	require.Empty(a.t, res.Errors, res.Raw)
	require.NoError(a.t, json.Unmarshal(res.Data, dst), res.Raw)
}

// TestAuditoriaPorGraphQL runs mutations through the API as different
// people and reads the trail back: each entity's own history
// (Cliente.eventos, Factura.eventos) in the order it happened, and the
// auditoria search across entities, newest first, by actor, request,
// correlation id, tipo, date range and entity, page by page; who may
// search; and the ids that tie an entry to its request.
func TestAuditoriaPorGraphQL(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		logs := &testkit.SyncBuffer{}
		cfg := testkit.WithAuth(testkit.Config(t))
		c, clk := testkit.Serve(t, db, testkit.ServeOptions{Config: &cfg,
			Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		a := auditoriaAPI{t: t, db: db, c: c, clock: clk.(*clock.Fixed), logs: logs}
		var (
			ana     = testkit.Token(t, "ana@banpro.cl", auth.Analista)
			rita    = testkit.Token(t, "rita@banpro.cl", auth.Riesgo)
			tere    = testkit.Token(t, "tere@banpro.cl", auth.Tesoreria)
			lector  = testkit.Token(t, "luis@banpro.cl", auth.Lector)
			auditor = testkit.Token(t, "auda@banpro.cl", auth.Auditor)
			admin   = testkit.Token(t, "adm@banpro.cl", auth.Admin)
		)

		// The story: ana registers a cliente and rita activates it, both
		// sending the same X-Request-ID; rita raises its line; ana
		// registers a factura and tere records its payment.
		in := testkit.ClienteInput("1000000")
		var creado struct{ CrearCliente struct{ ID string } }
		resCrear := a.enviar(ana, "flujo-1", `mutation($in: CrearClienteInput!) { crearCliente(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"rut": in.Rut, "razonSocial": in.RazonSocial, "email": in.Email, "lineaCredito": "1000000"}})
		a.data(resCrear, &creado)
		clienteID := creado.CrearCliente.ID
		resActivar := a.enviar(rita, "flujo-1", `mutation($id: ID!) { activarCliente(id: $id) { id } }`, map[string]any{"id": clienteID})
		a.data(resActivar, &struct{}{})
		tAjuste := a.clock.Now().Add(time.Minute)
		a.data(a.enviar(rita, "ajuste-7", `mutation($id: ID!) { ajustarLineaCredito(id: $id, lineaCredito: "9999999999999.99") { id } }`,
			map[string]any{"id": clienteID}), &struct{}{})
		f := testkit.FacturaInput(0, "1500.00", testkit.Vence(30))
		var registrada struct{ RegistrarFactura struct{ ID string } }
		a.data(a.enviar(ana, "", `mutation($in: RegistrarFacturaInput!) { registrarFactura(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"clienteId": clienteID, "numeroFactura": f.NumeroFactura, "rutDeudor": f.RutDeudor,
				"razonSocialDeudor": f.RazonSocialDeudor, "montoTotal": "1500.00",
				"fechaEmision": f.FechaEmision.Format(time.DateOnly), "fechaVencimiento": f.FechaVencimiento.Format(time.DateOnly)}}),
			&registrada)
		facturaID := registrada.RegistrarFactura.ID
		tPago := a.clock.Now().Add(time.Minute)
		a.data(a.enviar(tere, "", `mutation($id: ID!) { pagarFactura(id: $id) { id } }`, map[string]any{"id": facturaID}), &struct{}{})

		t.Run("cliente_eventos_en_orden_para_el_lector", func(t *testing.T) {
			var out struct{ Cliente struct{ Eventos conexion } }
			a.data(a.enviar(lector, "", `query($id: ID!) { cliente(id: $id) { eventos { totalCount edges { node { `+eventoFields+` } } } } }`,
				map[string]any{"id": clienteID}), &out)
			evs := out.Cliente.Eventos
			require.Equal(t, []string{"CLIENTE_CREADO", "CLIENTE_ACTIVADO", "CLIENTE_LINEA_AJUSTADA"}, evs.tipos())
			assert.Equal(t, 3, evs.TotalCount)
			creadoEv, activado, ajuste := evs.Edges[0].Node, evs.Edges[1].Node, evs.Edges[2].Node
			assert.Equal(t, "ana@banpro.cl", creadoEv.Actor)
			assert.Nil(t, creadoEv.EstadoAnterior)
			assert.Equal(t, "PENDIENTE", *creadoEv.EstadoNuevo)
			assert.Equal(t, "rita@banpro.cl", activado.Actor)
			assert.Equal(t, "PENDIENTE", *activado.EstadoAnterior)
			assert.Equal(t, "ACTIVO", *activado.EstadoNuevo)
			assert.True(t, creadoEv.Fecha.Before(activado.Fecha) && activado.Fecha.Before(ajuste.Fecha), "in the order it happened")
			assert.Equal(t, "CLIENTE", ajuste.Entidad)
			assert.Equal(t, clienteID, ajuste.EntidadID)

			// Two requests that sent one X-Request-ID: two request ids,
			// each the one its response carried, and one correlation id.
			assert.Equal(t, resCrear.Header.Get("X-Request-ID"), creadoEv.RequestID)
			assert.Equal(t, resActivar.Header.Get("X-Request-ID"), activado.RequestID)
			assert.NotEqual(t, creadoEv.RequestID, activado.RequestID)
			require.NotNil(t, creadoEv.CorrelationID)
			require.NotNil(t, activado.CorrelationID)
			assert.Equal(t, "flujo-1", *creadoEv.CorrelationID)
			assert.Equal(t, "flujo-1", *activado.CorrelationID)

			// The adjustment records both lines, old and new.
			assert.Nil(t, ajuste.EstadoAnterior, "the state did not change")
			assert.Nil(t, ajuste.EstadoNuevo)
			assert.Equal(t, map[string]any{
				"lineaCredito":    map[string]any{"anterior": "1000000.00", "nuevo": "9999999999999.99"},
				"lineaDisponible": map[string]any{"anterior": "1000000.00", "nuevo": "9999999999999.99"},
			}, ajuste.Detalle["cambios"])
		})

		t.Run("factura_eventos", func(t *testing.T) {
			var out struct{ Factura struct{ Eventos conexion } }
			a.data(a.enviar(lector, "", `query($id: ID!) { factura(id: $id) { eventos { edges { node { `+eventoFields+` } } } } }`,
				map[string]any{"id": facturaID}), &out)
			evs := out.Factura.Eventos
			require.Equal(t, []string{"FACTURA_REGISTRADA", "FACTURA_PAGADA"}, evs.tipos())
			assert.Equal(t, "ana@banpro.cl", evs.Edges[0].Node.Actor)
			assert.Nil(t, evs.Edges[0].Node.CorrelationID, "ana sent no X-Request-ID")
			assert.Equal(t, "tere@banpro.cl", evs.Edges[1].Node.Actor)
			assert.Equal(t, "DISPONIBLE", *evs.Edges[1].Node.EstadoAnterior)
			assert.Equal(t, "PAGADA", *evs.Edges[1].Node.EstadoNuevo)
		})

		buscar := func(t *testing.T, token string, vars map[string]any) conexion {
			t.Helper()
			var out struct{ Auditoria conexion }
			a.data(a.enviar(token, "", `query($where: EventoAuditoriaWhereInput, $first: Int, $after: Cursor) {
				auditoria(where: $where, first: $first, after: $after) {
					totalCount pageInfo { hasNextPage endCursor } edges { node { `+eventoFields+` } } } }`, vars), &out)
			return out.Auditoria
		}

		t.Run("auditoria_lo_mas_nuevo_primero_por_paginas", func(t *testing.T) {
			// The factura's first sight of its deudor's RUT created the
			// deudor, in the same request, just before the factura.
			p1 := buscar(t, auditor, map[string]any{"first": 2})
			assert.Equal(t, 6, p1.TotalCount)
			assert.Equal(t, []string{"FACTURA_PAGADA", "FACTURA_REGISTRADA"}, p1.tipos())
			require.True(t, p1.PageInfo.HasNextPage)
			p2 := buscar(t, auditor, map[string]any{"first": 2, "after": p1.PageInfo.EndCursor})
			assert.Equal(t, []string{"DEUDOR_CREADO", "CLIENTE_LINEA_AJUSTADA"}, p2.tipos())
			p3 := buscar(t, auditor, map[string]any{"first": 2, "after": p2.PageInfo.EndCursor})
			assert.Equal(t, []string{"CLIENTE_ACTIVADO", "CLIENTE_CREADO"}, p3.tipos())
			assert.False(t, p3.PageInfo.HasNextPage)
		})

		t.Run("auditoria_filtra", func(t *testing.T) {
			cases := map[string]struct {
				where map[string]any
				want  []string
			}{
				"por_actor":       {map[string]any{"actor": "rita@banpro.cl"}, []string{"CLIENTE_LINEA_AJUSTADA", "CLIENTE_ACTIVADO"}},
				"por_solicitud":   {map[string]any{"requestID": resActivar.Header.Get("X-Request-ID")}, []string{"CLIENTE_ACTIVADO"}},
				"por_correlacion": {map[string]any{"correlationID": "flujo-1"}, []string{"CLIENTE_ACTIVADO", "CLIENTE_CREADO"}},
				"por_tipo":        {map[string]any{"tipoIn": []string{"FACTURA_PAGADA", "CLIENTE_CREADO"}}, []string{"FACTURA_PAGADA", "CLIENTE_CREADO"}},
				"por_fechas": {map[string]any{"fechaGTE": tAjuste.Format(time.RFC3339Nano), "fechaLT": tPago.Format(time.RFC3339Nano)},
					[]string{"FACTURA_REGISTRADA", "DEUDOR_CREADO", "CLIENTE_LINEA_AJUSTADA"}},
				"por_entidad":         {map[string]any{"entidadID": facturaID}, []string{"FACTURA_PAGADA", "FACTURA_REGISTRADA"}},
				"por_tipo_de_entidad": {map[string]any{"entidad": "CLIENTE", "actor": "ana@banpro.cl"}, []string{"CLIENTE_CREADO"}},
				"nada":                {map[string]any{"actor": "nadie"}, nil},
			}
			for name, tc := range cases {
				t.Run(name, func(t *testing.T) {
					got := buscar(t, auditor, map[string]any{"where": tc.where})
					assert.Equal(t, tc.want, got.tipos())
					assert.Equal(t, len(tc.want), got.TotalCount)
				})
			}
		})

		t.Run("admin_tambien_busca", func(t *testing.T) {
			assert.Equal(t, 6, buscar(t, admin, nil).TotalCount)
		})

		t.Run("la_entrada_lleva_a_su_entidad", func(t *testing.T) {
			var out struct {
				Auditoria struct {
					Edges []struct {
						Node struct {
							Tipo    string
							Cliente *struct{ ID string }
							Factura *struct{ NumeroFactura string }
						}
					}
				}
			}
			a.data(a.enviar(auditor, "", `{ auditoria(where: {entidadIDIn: [`+quote(clienteID)+`, `+quote(facturaID)+`]}, first: 10) {
				edges { node { tipo cliente { id } factura { numeroFactura } } } } }`, nil), &out)
			require.Len(t, out.Auditoria.Edges, 5)
			for _, e := range out.Auditoria.Edges {
				if strings.HasPrefix(e.Node.Tipo, "CLIENTE_") {
					require.NotNil(t, e.Node.Cliente, e.Node.Tipo)
					assert.Equal(t, clienteID, e.Node.Cliente.ID)
					assert.Nil(t, e.Node.Factura)
				} else {
					require.NotNil(t, e.Node.Factura, e.Node.Tipo)
					assert.Equal(t, f.NumeroFactura, e.Node.Factura.NumeroFactura)
					assert.Nil(t, e.Node.Cliente)
				}
			}
		})

		t.Run("lector_y_analista_no_buscan", func(t *testing.T) {
			for name, token := range map[string]string{"lector": lector, "analista": ana, "tesoreria": tere} {
				t.Run(name, func(t *testing.T) {
					res := testkit.RequireNoSQL(t, db, func() testkit.Response {
						return a.enviar(token, "", `{ auditoria { totalCount } }`, nil)
					})
					requireForbidden(t, res, "auditoria")
					res = testkit.RequireNoSQL(t, db, func() testkit.Response {
						return a.enviar(token, "", `{ clientes { totalCount } auditoria { totalCount } }`, nil)
					})
					requireForbidden(t, res, "auditoria")
				})
			}
		})

		t.Run("pagina_acotada", func(t *testing.T) {
			res := a.enviar(auditor, "", `{ auditoria(first: 101) { totalCount } }`, nil)
			require.Len(t, res.Errors, 1, res.Raw)
			testkit.RequireGQLError(t, res, "VALIDATION_ERROR", "first")
			res = a.enviar(lector, "", `query($id: ID!) { cliente(id: $id) { eventos(first: 101) { totalCount } } }`, map[string]any{"id": clienteID})
			require.Len(t, res.Errors, 1, res.Raw)
			testkit.RequireGQLError(t, res, "VALIDATION_ERROR", "first")
		})

		t.Run("el_registro_de_acceso_de_una_mutacion_prohibida", func(t *testing.T) {
			res := a.enviar(lector, "intruso-1", `mutation Intrusa($id: ID!) { bloquearCliente(id: $id, motivo: "no") { id } }`,
				map[string]any{"id": clienteID})
			requireForbidden(t, res, "bloquearCliente")
			var line map[string]any
			require.Eventually(t, func() bool {
				for l := range strings.Lines(logs.String()) {
					var m map[string]any
					if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "solicitud" && m["correlation_id"] == "intruso-1" {
						line = m
						return true
					}
				}
				return false
			}, 5*time.Second, 10*time.Millisecond, logs.String())
			assert.Equal(t, "luis@banpro.cl", line["actor"])
			assert.Equal(t, "Intrusa", line["operation"])
			assert.Equal(t, []any{"FORBIDDEN"}, line["codes"])
			assert.Equal(t, float64(http.StatusForbidden), line["status"])
			assert.Equal(t, res.Header.Get("X-Request-ID"), line["request_id"])
			assert.Contains(t, line, "duration_ms")
		})

		testkit.RequireVerificado(t, db)
	})
}

func quote(s string) string { return `"` + s + `"` }
