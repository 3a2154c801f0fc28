package gqlserver_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/graph"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/config"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/gqlserver"
	"github.com/banpro/factoring/internal/requestid"
	"github.com/banpro/factoring/internal/suscripciones"
	"github.com/banpro/factoring/internal/testkit"
)

const subEventos = `subscription($tipos: [String!], $c: ID, $o: ID) {
  eventos(tipos: $tipos, clienteId: $c, operacionId: $o) {
    id tipo sujeto fecha requestId datos
    nodo { id ... on Cliente { razonSocial lineaCredito } }
  }
}`

// evento is Subscription.eventos as these tests select it.
type evento struct {
	ID        string         `json:"id"`
	Tipo      string         `json:"tipo"`
	Sujeto    string         `json:"sujeto"`
	Fecha     time.Time      `json:"fecha"`
	RequestID string         `json:"requestId"`
	Datos     map[string]any `json:"datos"`
	Nodo      *struct {
		ID           string `json:"id"`
		RazonSocial  string `json:"razonSocial"`
		LineaCredito string `json:"lineaCredito"`
	} `json:"nodo"`
}

func eventoDe(t *testing.T, r testkit.Response) evento {
	t.Helper()
	require.Empty(t, r.Errors, r.Raw)
	var out struct{ Eventos evento }
	require.NoError(t, json.Unmarshal(r.Data, &out), r.Raw)
	return out.Eventos
}

// streamsAPI is a served API with authentication, and the tokens of its
// people.
type streamsAPI struct {
	c                   *testkit.Client
	lector, ana, riesgo string
}

func newStreamsAPI(t *testing.T, db *database.DB, ajustar func(*config.Config)) streamsAPI {
	t.Helper()
	cfg := testkit.WithAuth(testkit.Config(t))
	if ajustar != nil {
		ajustar(&cfg)
	}
	c, _ := testkit.Serve(t, db, testkit.ServeOptions{Config: &cfg})
	return streamsAPI{c: c,
		lector: testkit.Token(t, "luis", auth.Lector),
		ana:    testkit.Token(t, "ana", auth.Analista),
		riesgo: testkit.Token(t, "rita", auth.Riesgo),
	}
}

// crearCliente registers a cliente through the API as ana and returns its
// id and the request's id.
func (a streamsAPI) crearCliente(t *testing.T) (id, requestID string) {
	t.Helper()
	in := testkit.ClienteInput("1000000")
	res := a.c.DoAs(a.ana, `mutation($in: CrearClienteInput!) { crearCliente(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"rut": in.Rut, "razonSocial": in.RazonSocial, "email": in.Email, "lineaCredito": "1000000"}})
	require.Empty(t, res.Errors, res.Raw)
	var out struct{ CrearCliente struct{ ID string } }
	require.NoError(t, json.Unmarshal(res.Data, &out))
	return out.CrearCliente.ID, res.Header.Get("X-Request-ID")
}

func (a streamsAPI) activar(t *testing.T, id string) {
	t.Helper()
	res := a.c.DoAs(a.riesgo, `mutation($id: ID!) { activarCliente(id: $id) { id } }`, map[string]any{"id": id})
	require.Empty(t, res.Errors, res.Raw)
}

// ws opens a WebSocket and sends connection_init with token (none when
// empty), requiring the ack.
func (a streamsAPI) ws(t *testing.T, token string) *testkit.WS {
	t.Helper()
	w, _, err := testkit.DialWS(t, a.c.URL(), testkit.WSOptions{})
	require.NoError(t, err)
	var payload map[string]any
	if token != "" {
		payload = map[string]any{"Authorization": "Bearer " + token}
	}
	require.True(t, w.Init(payload), "connection_ack")
	return w
}

// next waits for the next message of id, skipping none.
func next(t *testing.T, w *testkit.WS, typ, id string) testkit.WSMessage {
	t.Helper()
	m, ok := w.Next(10 * time.Second)
	require.True(t, ok, "a %s message", typ)
	require.Equal(t, typ, m.Type, string(m.Payload))
	require.Equal(t, id, m.ID)
	return m
}

// Ensure that a subscriber over WebSocket (graphql-transport-ws) receives
// the events of mutations made after it subscribed, with the envelope's
// fields and the entity (nodo), filtered by tipo and by cliente; that a
// token in the upgrade request's header works as well as in
// connection_init; and that "complete" from the client ends a
// subscription.
func TestSuscripcionPorWebSocket(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		a := newStreamsAPI(t, db, nil)
		w := a.ws(t, a.lector)
		w.Subscribe("todos", subEventos, nil)
		w.Subscribe("activados", subEventos, map[string]any{"tipos": []string{"cliente.activado"}})

		hdr, _, err := testkit.DialWS(t, a.c.URL(), testkit.WSOptions{Header: http.Header{"Authorization": {"Bearer " + a.lector}}})
		require.NoError(t, err)
		require.True(t, hdr.Init(nil), "the upgrade's Authorization header")
		hdr.Subscribe("h", subEventos, nil)
		time.Sleep(200 * time.Millisecond) // nothing tells when a subscribe is in place; the next test waits on the metric

		id, reqID := a.crearCliente(t)
		m := next(t, w, "next", "todos")
		e := eventoDe(t, m.Response())
		assert.Equal(t, "cliente.creado", e.Tipo)
		assert.Equal(t, id, e.Sujeto)
		assert.Equal(t, reqID, e.RequestID, "the request that made it")
		assert.NotEmpty(t, e.ID)
		assert.Equal(t, id, e.Datos["cliente_id"])
		assert.Equal(t, "1000000.00", e.Datos["linea_credito"])
		require.NotNil(t, e.Nodo)
		assert.Equal(t, id, e.Nodo.ID)
		assert.Equal(t, "1000000.00", e.Nodo.LineaCredito)
		assert.Equal(t, "cliente.creado", eventoDe(t, next(t, hdr, "next", "h").Response()).Tipo)

		w.Subscribe("delCliente", subEventos, map[string]any{"c": id})
		time.Sleep(200 * time.Millisecond)
		a.activar(t, id)
		got := map[string]string{}
		for range 3 {
			m, ok := w.Next(10 * time.Second)
			require.True(t, ok)
			require.Equal(t, "next", m.Type, string(m.Payload))
			got[m.ID] = eventoDe(t, m.Response()).Tipo
		}
		assert.Equal(t, map[string]string{"todos": "cliente.activado", "activados": "cliente.activado", "delCliente": "cliente.activado"}, got)

		assert.Equal(t, "cliente.activado", eventoDe(t, next(t, hdr, "next", "h").Response()).Tipo)
		require.NoError(t, w.Send(testkit.WSMessage{Type: "complete", ID: "todos"}))
		next(t, w, "complete", "todos") // gqlgen confirms it
		otro, _ := a.crearCliente(t)
		assert.Equal(t, otro, eventoDe(t, next(t, hdr, "next", "h").Response()).Sujeto)
		m, ok := w.Next(500 * time.Millisecond)
		assert.False(t, ok, "nothing for the completed subscription nor the filtered ones: %+v", m)
	})
}

// Ensure that a WebSocket connection without a valid token is closed with
// 4401 and a reason in Spanish (none, forged, expired), as is one whose
// token expires while it is open; that a token whose roles may not read
// gets FORBIDDEN for its subscription; and that a connection that never
// sends connection_init is closed with 4408.
func TestWebSocketAutenticacion(t *testing.T) {
	defer gqlserver.SetStreamTimes(300*time.Millisecond, 15*time.Second, 10*time.Second)()
	db := testkit.SQLite(t)
	a := newStreamsAPI(t, db, func(c *config.Config) { c.JWTLeeway = 0 })
	cerrada := func(t *testing.T, w *testkit.WS, code int, reason string) {
		t.Helper()
		got, why := w.Closed(10 * time.Second)
		assert.Equal(t, code, got, why)
		assert.Contains(t, why, reason)
	}
	t.Run("sin_token", func(t *testing.T) {
		w, _, err := testkit.DialWS(t, a.c.URL(), testkit.WSOptions{})
		require.NoError(t, err, "the upgrade needs no token: browsers cannot send one")
		assert.False(t, w.Init(nil))
		cerrada(t, w, suscripciones.CodigoNoAutenticado, "Falta el token")
	})
	t.Run("token_falso", func(t *testing.T) {
		w, _, err := testkit.DialWS(t, a.c.URL(), testkit.WSOptions{})
		require.NoError(t, err)
		assert.False(t, w.Init(map[string]any{"Authorization": "Bearer " + a.lector + "x"}))
		cerrada(t, w, suscripciones.CodigoNoAutenticado, "Token inválido")
	})
	t.Run("token_vencido", func(t *testing.T) {
		tok, err := auth.IssueHS256(testkit.Secret, "luis", []auth.Role{auth.Lector}, time.Minute, "", "", time.Now().Add(-2*time.Minute))
		require.NoError(t, err)
		w, _, err := testkit.DialWS(t, a.c.URL(), testkit.WSOptions{})
		require.NoError(t, err)
		assert.False(t, w.Init(map[string]any{"Authorization": "Bearer " + tok}))
		cerrada(t, w, suscripciones.CodigoNoAutenticado, "El token venció")
	})
	t.Run("vence_durante_la_conexion", func(t *testing.T) {
		tok, err := auth.IssueHS256(testkit.Secret, "luis", []auth.Role{auth.Lector}, 2*time.Second, "", "", time.Now())
		require.NoError(t, err)
		w := a.ws(t, tok)
		w.Subscribe("1", subEventos, nil)
		cerrada(t, w, suscripciones.CodigoNoAutenticado, "El token venció")
	})
	t.Run("rol_que_no_lee", func(t *testing.T) {
		w := a.ws(t, testkit.Token(t, "visita", "invitado"))
		w.Subscribe("1", subEventos, nil)
		m := next(t, w, "error", "1")
		var errs []testkit.GQLError
		require.NoError(t, json.Unmarshal(m.Payload, &errs), string(m.Payload))
		require.Len(t, errs, 1)
		assert.Equal(t, "FORBIDDEN", errs[0].Extensions.Code)
		assert.Contains(t, errs[0].Message, "eventos")
	})
	t.Run("connection_init_ilegible", func(t *testing.T) {
		w, _, err := testkit.DialWS(t, a.c.URL(), testkit.WSOptions{})
		require.NoError(t, err)
		require.NoError(t, w.Send(testkit.WSMessage{Type: "connection_init", Payload: json.RawMessage(`"Bearer x"`)}))
		cerrada(t, w, suscripciones.CodigoSolicitudInvalida, "objeto JSON")
	})
	t.Run("mensaje_que_no_es_del_protocolo", func(t *testing.T) {
		w := a.ws(t, a.lector)
		require.NoError(t, w.Send(testkit.WSMessage{Type: "start", ID: "1"}))
		cerrada(t, w, suscripciones.CodigoSolicitudInvalida, "graphql-transport-ws")
	})
	t.Run("sin_connection_init", func(t *testing.T) {
		w, _, err := testkit.DialWS(t, a.c.URL(), testkit.WSOptions{})
		require.NoError(t, err)
		cerrada(t, w, suscripciones.CodigoInicioVencido, "connection_init")
	})
}

// Ensure that a browser at a foreign origin cannot open a WebSocket (403
// before the upgrade), one at the server's own origin or at a CORS origin
// can, and that a client that does not speak graphql-transport-ws is
// refused.
func TestWebSocketOrigenYSubprotocolo(t *testing.T) {
	db := testkit.SQLite(t)
	a := newStreamsAPI(t, db, func(c *config.Config) { c.CORSOrigins = []string{"https://app.banpro.cl"} })
	for origin, ok := range map[string]bool{
		"https://evil.example":  false,
		"https://app.banpro.cl": true,
		a.c.URL():               true,
		"":                      true,
	} {
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		w, res, err := testkit.DialWS(t, a.c.URL(), testkit.WSOptions{Header: h})
		if ok {
			require.NoError(t, err, origin)
			assert.True(t, w.Init(map[string]any{"Authorization": "Bearer " + a.lector}), origin)
			continue
		}
		require.Error(t, err, origin)
		require.NotNil(t, res)
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
		body, _ := io.ReadAll(res.Body)
		assert.Contains(t, string(body), `"FORBIDDEN"`)
		assert.Contains(t, string(body), "FACTORING_CORS_ORIGINS")
	}
	_, res, err := testkit.DialWS(t, a.c.URL(), testkit.WSOptions{Subprotocols: []string{"graphql-ws"}})
	require.Error(t, err, "subscriptions-transport-ws is not served")
	require.NotNil(t, res)
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	body, _ := io.ReadAll(res.Body)
	assert.Contains(t, string(body), "graphql-transport-ws")
}

// Ensure the caps: a connection holds SubscriptionsPerConnection
// subscriptions (one more fails with SUBSCRIPTION_LIMIT_EXCEEDED, the
// others go on), a subject ConnectionsPerSubject streams (one more
// WebSocket is closed with 4429, one more SSE is HTTP 429), and a slot
// comes back when its stream ends.
func TestLimitesDeStreams(t *testing.T) {
	db := testkit.SQLite(t)
	a := newStreamsAPI(t, db, func(c *config.Config) {
		c.SubscriptionsPerConnection = 2
		c.SubscriptionConnectionsPerSubject = 1
	})
	w := a.ws(t, a.lector)
	w.Subscribe("1", subEventos, nil)
	w.Subscribe("2", subEventos, nil)
	time.Sleep(200 * time.Millisecond)
	w.Subscribe("3", subEventos, nil)
	m := next(t, w, "next", "3")
	r := m.Response()
	require.Len(t, r.Errors, 1, r.Raw)
	assert.Equal(t, "SUBSCRIPTION_LIMIT_EXCEEDED", r.Errors[0].Extensions.Code)
	assert.Contains(t, r.Errors[0].Message, "2 suscripciones")
	next(t, w, "complete", "3")

	segunda, _, err := testkit.DialWS(t, a.c.URL(), testkit.WSOptions{})
	require.NoError(t, err)
	assert.False(t, segunda.Init(map[string]any{"Authorization": "Bearer " + a.lector}))
	code, reason := segunda.Closed(10 * time.Second)
	assert.Equal(t, suscripciones.CodigoDemasiadasConexiones, code)
	assert.Contains(t, reason, "conexiones de suscripción")

	sse := testkit.SubscribeSSE(t, a.c.URL(), a.lector, subEventos, nil)
	assert.Equal(t, http.StatusTooManyRequests, sse.Res.StatusCode)
	body, _ := io.ReadAll(sse.Res.Body)
	assert.Contains(t, string(body), "SUBSCRIPTION_LIMIT_EXCEEDED")
	assert.Contains(t, string(body), `"retryable":true`)

	otro := a.ws(t, a.ana)
	otro.Subscribe("1", subEventos, nil)
	time.Sleep(200 * time.Millisecond)
	a.crearCliente(t)
	ids := map[string]bool{}
	for range 2 { // each subscription of a connection runs on its own: any order
		m, ok := w.Next(10 * time.Second)
		require.True(t, ok)
		require.Equal(t, "next", m.Type, string(m.Payload))
		ids[m.ID] = true
	}
	assert.Equal(t, map[string]bool{"1": true, "2": true}, ids)
	next(t, otro, "next", "1")

	w.Close()
	require.Eventually(t, func() bool {
		s, _, err := testkit.DialWS(t, a.c.URL(), testkit.WSOptions{})
		if err != nil {
			return false
		}
		defer s.Close()
		return s.Init(map[string]any{"Authorization": "Bearer " + a.lector})
	}, 10*time.Second, 100*time.Millisecond, "the slot comes back")
}

// Ensure that each kind of operation takes its own way: a query or a
// mutation over a stream, or a subscription over plain POST or GET, is
// refused before it runs with VALIDATION_ERROR saying which way to take.
func TestCadaOperacionPorSuCamino(t *testing.T) {
	db := testkit.SQLite(t)
	a := newStreamsAPI(t, db, nil)
	w := a.ws(t, a.lector)
	w.Subscribe("q", `{ clientes { totalCount } }`, nil)
	m := next(t, w, "error", "q")
	assert.Contains(t, string(m.Payload), "VALIDATION_ERROR")
	assert.Contains(t, string(m.Payload), "POST /graphql")

	res := a.c.DoAs(a.lector, subEventos, nil)
	testkit.RequireGQLError(t, res, "VALIDATION_ERROR")
	assert.Contains(t, res.Errors[0].Message, "graphql-transport-ws")
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status)
	assert.NotContains(t, res.Raw, `"data"`)

	req, err := http.NewRequest(http.MethodGet, a.c.URL()+"/graphql?query="+strings.ReplaceAll(`subscription{eventos{id}}`, " ", ""), nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+a.lector)
	res = a.c.Send(req)
	testkit.RequireGQLError(t, res, "VALIDATION_ERROR")
	assert.Contains(t, res.Errors[0].Message, "text/event-stream")

	sse := testkit.SubscribeSSE(t, a.c.URL(), a.lector, `{ clientes { totalCount } }`, nil)
	assert.Equal(t, http.StatusUnprocessableEntity, sse.Res.StatusCode)
}

// Ensure that a subscription's arguments are checked: an unknown tipo or
// an id of the wrong kind is a VALIDATION_ERROR naming the argument, over
// either transport; and that the query limits hold for subscriptions too.
func TestSuscripcionArgumentosYLimites(t *testing.T) {
	db := testkit.SQLite(t)
	a := newStreamsAPI(t, db, nil)
	id, _ := a.crearCliente(t)
	w := a.ws(t, a.lector)
	w.Subscribe("1", subEventos, map[string]any{"tipos": []string{"cliente.creado", "cliente.borrado"}})
	r := next(t, w, "next", "1").Response()
	testkit.RequireGQLError(t, r, "VALIDATION_ERROR", "tipos")
	assert.Contains(t, r.Errors[0].Extensions.Fields["tipos"], `"cliente.borrado"`)
	next(t, w, "complete", "1")
	w.Subscribe("2", subEventos, map[string]any{"o": id})
	testkit.RequireGQLError(t, next(t, w, "next", "2").Response(), "VALIDATION_ERROR", "operacionId")
	next(t, w, "complete", "2")

	sse := testkit.SubscribeSSE(t, a.c.URL(), a.lector, subEventos, map[string]any{"tipos": []string{"x"}})
	require.Equal(t, http.StatusOK, sse.Res.StatusCode)
	e, ok := sse.Next(10 * time.Second)
	require.True(t, ok)
	assert.Equal(t, "next", e.Event)
	testkit.RequireGQLError(t, e.Response(), "VALIDATION_ERROR", "tipos")
	e, ok = sse.Next(10 * time.Second)
	require.True(t, ok)
	assert.Equal(t, "complete", e.Event)

	hondo := `subscription { eventos { nodo { ... on Cliente { facturas { edges { node { cliente { facturas { edges { node {
	  cliente { facturas { edges { node { cliente { facturas { edges { node { id } } } } } } } } } } } } } } } } } } }`
	w.Subscribe("3", hondo, nil)
	assert.Contains(t, string(next(t, w, "error", "3").Payload), "DEPTH_LIMIT_EXCEEDED")
	sse = testkit.SubscribeSSE(t, a.c.URL(), a.lector, hondo, nil)
	assert.Equal(t, http.StatusUnprocessableEntity, sse.Res.StatusCode)
	body, _ := io.ReadAll(sse.Res.Body)
	assert.Contains(t, string(body), "DEPTH_LIMIT_EXCEEDED")
}

// Ensure that a subscriber over SSE (POST with Accept: text/event-stream)
// receives the events as "next" events; that a request without a token is
// refused with 401 before any stream; and that a token that expires ends
// the stream with an "error" event (UNAUTHENTICATED).
func TestSuscripcionPorSSE(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		a := newStreamsAPI(t, db, func(c *config.Config) { c.JWTLeeway = 0 })
		sse := testkit.SubscribeSSE(t, a.c.URL(), a.lector, subEventos, map[string]any{"tipos": []string{"cliente.creado"}})
		require.Equal(t, http.StatusOK, sse.Res.StatusCode)
		assert.Equal(t, "text/event-stream; charset=utf-8", sse.Res.Header.Get("Content-Type"))
		assert.Equal(t, "no-cache", sse.Res.Header.Get("Cache-Control"))
		time.Sleep(200 * time.Millisecond)
		id, reqID := a.crearCliente(t)
		a.activar(t, id)
		otro, _ := a.crearCliente(t)
		for _, want := range []string{id, otro} {
			e, ok := sse.Next(10 * time.Second)
			require.True(t, ok)
			require.Equal(t, "next", e.Event, e.Data)
			ev := eventoDe(t, e.Response())
			assert.Equal(t, "cliente.creado", ev.Tipo)
			assert.Equal(t, want, ev.Sujeto)
			if want == id {
				assert.Equal(t, reqID, ev.RequestID)
			}
		}

		sin := testkit.SubscribeSSE(t, a.c.URL(), "", subEventos, nil)
		assert.Equal(t, http.StatusUnauthorized, sin.Res.StatusCode)
		assert.Nil(t, sin.Events)

		tok, err := auth.IssueHS256(testkit.Secret, "luis", []auth.Role{auth.Lector}, 2*time.Second, "", "", time.Now())
		require.NoError(t, err)
		corta := testkit.SubscribeSSE(t, a.c.URL(), tok, subEventos, nil)
		require.Equal(t, http.StatusOK, corta.Res.StatusCode)
		e, ok := corta.Next(10 * time.Second)
		require.True(t, ok)
		assert.Equal(t, "error", e.Event)
		r := e.Response()
		testkit.RequireGQLError(t, r, "UNAUTHENTICATED")
		assert.Contains(t, r.Errors[0].Message, "El token venció")
		_, ok = corta.Next(5 * time.Second)
		assert.False(t, ok, "the stream ends after its error")
	})
}

// Ensure that shutting down ends every stream: WebSocket connections are
// closed with 1001, SSE streams end with an error event
// (SERVICE_UNAVAILABLE), and no new stream is accepted.
func TestApagadoTerminaLosStreams(t *testing.T) {
	db := testkit.SQLite(t)
	hub := suscripciones.New(db, suscripciones.Config{})
	t.Cleanup(hub.Cerrar)
	svc, _ := testkit.Services(t, db)
	svc.Suscripciones = hub
	ep := gqlserver.New(gqlserver.Config{Schema: graph.NewSchema(db.Client, svc)})
	c := testkit.NewClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := requestid.New()
		w.Header().Set(requestid.Header, id)
		ep.ServeHTTP(w, r.WithContext(requestid.NewContext(r.Context(), id)))
	}))
	w, _, err := testkit.DialWS(t, c.URL(), testkit.WSOptions{})
	require.NoError(t, err)
	require.True(t, w.Init(nil))
	w.Subscribe("1", subEventos, nil)
	sse := testkit.SubscribeSSE(t, c.URL(), "", subEventos, nil)
	require.Equal(t, http.StatusOK, sse.Res.StatusCode)
	time.Sleep(200 * time.Millisecond)

	ep.CloseStreams(5 * time.Second)
	code, reason := w.Closed(10 * time.Second)
	assert.Equal(t, suscripciones.CodigoApagado, code)
	assert.Contains(t, reason, "apagando")
	e, ok := sse.Next(10 * time.Second)
	require.True(t, ok)
	assert.Equal(t, "error", e.Event)
	testkit.RequireGQLError(t, e.Response(), "SERVICE_UNAVAILABLE")

	nueva, _, err := testkit.DialWS(t, c.URL(), testkit.WSOptions{})
	require.NoError(t, err)
	assert.False(t, nueva.Init(nil))
	code, _ = nueva.Closed(10 * time.Second)
	assert.Equal(t, suscripciones.CodigoApagado, code)
}

// Ensure that a close reason never exceeds what a WebSocket close frame
// carries (123 bytes), cut at a character.
func TestRazonDeCierre(t *testing.T) {
	assert.Equal(t, "corta", gqlserver.Razon("corta"))
	larga := strings.Repeat("á", 100) // 200 bytes
	r := gqlserver.Razon(larga)
	assert.LessOrEqual(t, len(r), 123)
	assert.True(t, strings.HasSuffix(r, "…"))
	assert.True(t, strings.HasPrefix(larga, strings.TrimSuffix(r, "…")), "cut at a character")
}
