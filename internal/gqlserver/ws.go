package gqlserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/mediatype"
	"github.com/banpro/factoring/internal/reqlog"
	"github.com/banpro/factoring/internal/requestid"
	"github.com/banpro/factoring/internal/suscripciones"
)

// subprotocol is the one WebSocket subprotocol served: graphql-ws's
// graphql-transport-ws. The older subscriptions-transport-ws ("graphql-ws")
// is not.
const subprotocol = "graphql-transport-ws"

// wsTransport serves subscriptions over WebSocket (GET /graphql with an
// upgrade): gqlgen's transport, with the API's policy around it.
//
//   - The browser's origin, when it sends one, must be the server's own or
//     one of the CORS allow-list (FACTORING_CORS_ORIGINS): else 403 before
//     the upgrade.
//   - The token comes in connection_init's payload ({"Authorization":
//     "Bearer …"}, what graphql-ws's connectionParams send) or in the
//     upgrade request's Authorization header. None, an invalid or an
//     expired one: closed with 4401. No connection_init within 10 s: 4408.
//     The token's expiry closes the connection with 4401.
//   - Its subject may hold ConnectionsPerSubject connections (else 4429),
//     each SubscriptionsPerConnection subscriptions (else that
//     subscription fails with SUBSCRIPTION_LIMIT_EXCEEDED).
//   - The server pings every 15 s; a client that does not answer with a
//     pong within two intervals, or does not take a message within 10 s,
//     is disconnected. A subscription whose buffer fills up closes the
//     connection with 4413 (suscripciones.ConsumidorLento).
//   - The HTTP server's read and write deadlines, meant for requests, are
//     lifted from the connection once it is upgraded.
type wsTransport struct {
	inner    transport.Websocket
	streams  *streams
	verifier TokenVerifier
	origins  []string
	log      *slog.Logger
}

func newWSTransport(s *streams, v TokenVerifier, origins []string, log *slog.Logger) *wsTransport {
	t := &wsTransport{streams: s, verifier: v, origins: origins, log: log}
	t.inner = transport.Websocket{
		Implementation:   wsImplementation{},
		InitFunc:         t.iniciar,
		PingPongInterval: keepAlive,
		ErrorFunc: func(ctx context.Context, err error) {
			if !errors.Is(err, context.Canceled) {
				log.DebugContext(ctx, "websocket", "request_id", requestid.FromContext(ctx), "error", err.Error())
			}
		},
	}
	return t
}

var _ graphql.Transport = (*wsTransport)(nil)

func (t *wsTransport) Supports(r *http.Request) bool {
	return r.Method == http.MethodGet && mediatype.WebSocketUpgrade(r.Header.Get("Connection"), r.Header.Get("Upgrade"))
}

func (t *wsTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	contentType := responseContentType(r)
	if origin := r.Header.Get("Origin"); !origenPermitido(origin, r.Host, t.origins) {
		refuse(ctx, w, exec, contentType, apperror.Forbiddenf(
			"Este origen no puede abrir WebSockets con la API: agréguelo a FACTORING_CORS_ORIGINS."))
		return
	}
	if !ofrece(r.Header.Values("Sec-WebSocket-Protocol"), subprotocol) {
		refuse(ctx, w, exec, contentType, apperror.Validationf(
			"Use el subprotocolo graphql-transport-ws (el de la biblioteca graphql-ws)."))
		return
	}
	// The server's deadlines are a request's; a connection lives longer.
	// (After the upgrade the connection keeps the deadlines it had.)
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	con := &wsConexion{t: t, header: r.Header.Get("Authorization")}
	ctx = conStream(context.WithValue(ctx, wsConexionKey{}, con))
	t.inner.Do(w, r.WithContext(ctx), exec)
	con.fin()
}

// origenPermitido reports whether a browser at origin may open a
// WebSocket with the server at host: no origin (not a browser), the
// server's own, or one of the CORS allow-list.
func origenPermitido(origin, host string, allowed []string) bool {
	if origin == "" || slices.Contains(allowed, origin) {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, host)
}

// ofrece reports whether the client's Sec-WebSocket-Protocol headers list p.
func ofrece(headers []string, p string) bool {
	for _, h := range headers {
		for token := range strings.SplitSeq(h, ",") {
			if strings.TrimSpace(token) == p {
				return true
			}
		}
	}
	return false
}

type wsConexionKey struct{}

// wsConexion is one WebSocket connection: its socket once accepted, and
// its session once initialised.
type wsConexion struct {
	t      *wsTransport
	header string // the upgrade request's Authorization

	mu        sync.Mutex
	ws        *wsConn
	ses       *sesion
	initTimer *time.Timer
}

// aceptada records the socket and gives the client initTimeout to send
// connection_init.
func (c *wsConexion) aceptada(ws *wsConn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ws = ws
	c.initTimer = time.AfterFunc(initTimeout, func() {
		c.mu.Lock()
		iniciada := c.ses != nil
		c.mu.Unlock()
		if !iniciada {
			ws.cerrar(suscripciones.CodigoInicioVencido, "No llegó connection_init a tiempo.")
		}
	})
}

// terminar ends the connection with cierre's code and message.
func (c *wsConexion) terminar(cierre suscripciones.Cierre) {
	c.mu.Lock()
	ws := c.ws
	c.mu.Unlock()
	if ws != nil {
		ws.cerrar(cierre.Codigo, cierre.Err.Message)
	}
}

// fin runs once gqlgen is done with the connection: its read loop ended.
// Unless the server closed it already (cerrar), the client closed it or
// it was lost, and then this close reaches no one; or the client sent
// what gqlgen could not take: a message that is not of the protocol, or a
// connection_init whose payload is no JSON object (both dropped without a
// word by gqlgen): 4400.
func (c *wsConexion) fin() {
	c.mu.Lock()
	if c.initTimer != nil {
		c.initTimer.Stop()
	}
	ses, ws := c.ses, c.ws
	c.mu.Unlock()
	if ses != nil {
		c.t.streams.cerrar(ses)
		close(ses.hecha)
	}
	if ws != nil {
		if ses == nil {
			ws.cerrar(suscripciones.CodigoSolicitudInvalida, "connection_init ilegible: su payload debe ser un objeto JSON.")
		} else {
			ws.cerrar(suscripciones.CodigoSolicitudInvalida, "Mensaje inválido del protocolo graphql-transport-ws.")
		}
		_ = ws.Close()
	}
}

// iniciar is gqlgen's InitFunc: it authenticates connection_init and
// registers the connection's session.
func (t *wsTransport) iniciar(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	con, _ := ctx.Value(wsConexionKey{}).(*wsConexion)
	if con == nil {
		return ctx, nil, errors.New("conexión WebSocket sin estado")
	}
	cerrar := func(c suscripciones.Cierre) (context.Context, *transport.InitPayload, error) {
		reqlog.AddCode(ctx, string(c.Err.Code))
		return transport.AppendCloseReason(transport.WithWebsocketCloseCode(ctx, c.Codigo), razon(c.Err.Message)), nil, c.Err
	}
	p := auth.Principal{Subject: auth.Anonimo}
	if t.verifier != nil {
		raw := payload.Authorization()
		if raw == "" {
			raw = con.header
		}
		scheme, token, _ := strings.Cut(raw, " ")
		token = strings.TrimSpace(token)
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			return cerrar(suscripciones.Cierre{Codigo: suscripciones.CodigoNoAutenticado, Err: apperror.Unauthenticatedf(
				`Falta el token: envíe {"Authorization": "Bearer <token>"} en connection_init.`)})
		}
		var err error
		if p, err = t.verifier.Verify(token); err != nil {
			t.log.InfoContext(ctx, "token rechazado", "request_id", requestid.FromContext(ctx), "motivo", err.Error())
			return cerrar(suscripciones.Cierre{Codigo: suscripciones.CodigoNoAutenticado,
				Err: apperror.Unauthenticatedf("%s", auth.ClientMessage(err))})
		}
		ctx = auth.NewContext(ctx, p)
	}
	reqlog.SetActor(ctx, p.Subject)
	ses := newSesion(p.Subject, t.streams.limits.SubscriptionsPerConnection, con.terminar)
	if err := t.streams.abrir(ses); err != nil {
		codigo := suscripciones.CodigoDemasiadasConexiones
		if err.Code == apperror.Unavailable {
			codigo = suscripciones.CodigoApagado
		}
		return cerrar(suscripciones.Cierre{Codigo: codigo, Err: err})
	}
	con.mu.Lock()
	con.ses = ses
	if con.initTimer != nil {
		con.initTimer.Stop()
	}
	con.mu.Unlock()
	ses.vencer(p.Vence)
	return suscripciones.ConSesion(ctx, ses), nil, nil
}

// wsImplementation accepts the connection with coder/websocket (gqlgen's
// default library), offering graphql-transport-ws only; the origin was
// checked before.
type wsImplementation struct{}

func (wsImplementation) Accept(w http.ResponseWriter, r *http.Request, _ transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	conn, err := coderws.Accept(w, r, &coderws.AcceptOptions{
		Subprotocols:       []string{subprotocol},
		InsecureSkipVerify: true, // origenPermitido, in Do
	})
	if err != nil {
		return nil, err
	}
	ws := &wsConn{conn: conn}
	if con, _ := r.Context().Value(wsConexionKey{}).(*wsConexion); con != nil {
		con.aceptada(ws)
	}
	return ws, nil
}

// wsConn adapts a coder/websocket connection to gqlgen's transport, as
// gqlgen's own adapter does, with two differences: every write has a
// deadline (writeTimeout: a client that stops reading loses its
// connection, it never holds a goroutine and its memory forever), and the
// close reason is the API's (cerrar).
type wsConn struct {
	conn *coderws.Conn

	mu        sync.Mutex
	readTimer *time.Timer
	cerrando  bool
}

var (
	_ transport.WebsocketConn          = (*wsConn)(nil)
	_ transport.WebsocketReadLimiter   = (*wsConn)(nil)
	_ transport.WebsocketReadDeadliner = (*wsConn)(nil)
)

func (c *wsConn) NextReader() (int, io.Reader, error) {
	typ, data, err := c.conn.Read(context.Background())
	if err != nil {
		switch coderws.CloseStatus(err) {
		case coderws.StatusNormalClosure, coderws.StatusNoStatusRcvd:
			return int(typ), nil, transport.ErrWebsocketClosed
		}
		return int(typ), nil, err
	}
	return int(typ), bytes.NewReader(data), nil
}

func (c *wsConn) WriteJSON(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	return c.conn.Write(ctx, coderws.MessageText, data)
}

// WriteClose is gqlgen's way to close: the first close wins, ours
// (cerrar) included. gqlgen's protocol errors (1002: a message it cannot
// read, or not expected) become 4400 with a reason in Spanish. Its normal
// closure (1000) only follows the end of its read loop, which a client's
// close, a lost connection or a message that is not of the protocol ends:
// wsConexion.fin, which runs then, tells them apart.
func (c *wsConn) WriteClose(code int, message string) error {
	switch code {
	case transport.WebsocketCloseNormalClosure:
		return nil
	case transport.WebsocketCloseProtocolError:
		code, message = suscripciones.CodigoSolicitudInvalida, "Mensaje inválido del protocolo graphql-transport-ws."
	}
	c.cerrar(code, message)
	return nil
}

// cerrar starts the close handshake with code and message (cut to a close
// reason's size), unless one started already. The handshake waits for
// the peer (up to 5 s each way), so it runs on its own.
func (c *wsConn) cerrar(code int, message string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopReadTimer()
	if c.cerrando {
		return
	}
	c.cerrando = true
	go func() { _ = c.conn.Close(coderws.StatusCode(code), razon(message)) }()
}

func (c *wsConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopReadTimer()
	if c.cerrando {
		return nil // the handshake closes the socket when it ends
	}
	return c.conn.CloseNow()
}

func (c *wsConn) Subprotocol() string { return c.conn.Subprotocol() }

func (c *wsConn) SetReadLimit(limit int64) { c.conn.SetReadLimit(limit) }

// SetReadDeadline closes the connection at t unless it is called again
// first (gqlgen's pong check).
func (c *wsConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopReadTimer()
	if !t.IsZero() {
		c.readTimer = time.AfterFunc(time.Until(t), func() { _ = c.conn.CloseNow() })
	}
	return nil
}

func (c *wsConn) stopReadTimer() {
	if c.readTimer != nil {
		c.readTimer.Stop()
		c.readTimer = nil
	}
}
