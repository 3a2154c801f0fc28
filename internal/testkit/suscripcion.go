// The subscription clients of the integration tests: a graphql-transport-ws
// client over a real WebSocket (coder/websocket, the library gqlgen serves
// with) and a GraphQL-over-SSE client over a real HTTP response, both
// against a real server.

package testkit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
)

// WSMessage is one graphql-transport-ws message.
type WSMessage struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
	// header is the upgrade response's: its X-Request-ID is the
	// connection's request id.
	header http.Header
}

// Response decodes a next message's payload (a GraphQL response), with
// the headers of the connection's upgrade.
func (m WSMessage) Response() Response {
	var r Response
	_ = json.Unmarshal(m.Payload, &r)
	r.Raw = string(m.Payload)
	r.Header = m.header
	return r
}

// WS is a graphql-transport-ws connection. It answers the server's pings
// by itself (unless paused) and queues every other message.
type WS struct {
	t    testing.TB
	conn *coderws.Conn
	// Messages receives every message but pings and pongs, in order; it
	// is closed when the connection ends.
	Messages chan WSMessage
	cancel   context.CancelFunc

	header http.Header

	mu       sync.Mutex
	closeErr error
	pausa    chan struct{} // closed: reading; nil: reading
	leyendo  chan struct{}
	done     chan struct{}
}

// WSOptions adjust DialWS.
type WSOptions struct {
	// Header is sent with the upgrade request (Authorization, Origin).
	Header http.Header
	// Subprotocols offered; graphql-transport-ws when nil.
	Subprotocols []string
	// Buffer is Messages' capacity; 10,000 when zero.
	Buffer int
}

// DialWS opens a WebSocket to baseURL's /graphql (http:// or https://).
// The error is the refused upgrade's, with its response.
func DialWS(t testing.TB, baseURL string, o WSOptions) (*WS, *http.Response, error) {
	t.Helper()
	if o.Subprotocols == nil {
		o.Subprotocols = []string{"graphql-transport-ws"}
	}
	if o.Buffer == 0 {
		o.Buffer = 10_000
	}
	u := "ws" + strings.TrimPrefix(baseURL, "http") + "/graphql"
	ctx, cancel := context.WithCancel(context.Background())
	dialCtx, dialCancel := context.WithTimeout(ctx, 10*time.Second)
	defer dialCancel()
	conn, res, err := coderws.Dial(dialCtx, u, &coderws.DialOptions{HTTPHeader: o.Header, Subprotocols: o.Subprotocols})
	if err != nil {
		cancel()
		return nil, res, err
	}
	conn.SetReadLimit(16 << 20)
	w := &WS{t: t, conn: conn, Messages: make(chan WSMessage, o.Buffer), cancel: cancel,
		leyendo: make(chan struct{}), done: make(chan struct{}), header: res.Header}
	close(w.leyendo)
	go w.read(ctx)
	t.Cleanup(w.Close)
	return w, res, nil
}

func (w *WS) read(ctx context.Context) {
	defer close(w.done)
	defer close(w.Messages)
	for {
		w.mu.Lock()
		leyendo := w.leyendo
		w.mu.Unlock()
		select {
		case <-leyendo:
		case <-ctx.Done():
			return
		}
		_, data, err := w.conn.Read(ctx)
		if err != nil {
			w.mu.Lock()
			w.closeErr = err
			w.mu.Unlock()
			return
		}
		m := WSMessage{header: w.header}
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		switch m.Type {
		case "ping":
			_ = w.Send(WSMessage{Type: "pong"})
		case "pong":
		default:
			select {
			case w.Messages <- m:
			default: // a test that stopped looking: drop
			}
		}
	}
}

// Pause stops reading the socket (a stalled consumer: the server's
// writes pile up in the kernel's buffers, then block); Resume reads again.
func (w *WS) Pause() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.leyendo = make(chan struct{})
}

// Resume reads the socket again after Pause.
func (w *WS) Resume() {
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case <-w.leyendo:
	default:
		close(w.leyendo)
	}
}

// Send writes one message.
func (w *WS) Send(m WSMessage) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return w.conn.Write(ctx, coderws.MessageText, b)
}

// Init sends connection_init with payload (nil: none) and returns the
// server's answer: connection_ack, or ok false when it closed instead.
func (w *WS) Init(payload map[string]any) (ack bool) {
	w.t.Helper()
	m := WSMessage{Type: "connection_init"}
	if payload != nil {
		b, _ := json.Marshal(payload)
		m.Payload = b
	}
	if err := w.Send(m); err != nil {
		return false
	}
	r, ok := w.Next(10 * time.Second)
	return ok && r.Type == "connection_ack"
}

// Subscribe sends a subscribe message.
func (w *WS) Subscribe(id, query string, variables map[string]any) {
	w.t.Helper()
	b, _ := json.Marshal(map[string]any{"query": query, "variables": variables})
	if err := w.Send(WSMessage{Type: "subscribe", ID: id, Payload: b}); err != nil {
		w.t.Fatalf("subscribe %s: %v", id, err)
	}
}

// Next waits up to timeout for the next message; ok is false when none
// came or the connection ended.
func (w *WS) Next(timeout time.Duration) (WSMessage, bool) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case m, ok := <-w.Messages:
		return m, ok
	case <-t.C:
		return WSMessage{}, false
	}
}

// Closed waits up to timeout for the connection to end and returns the
// close code and reason the server sent (-1 when it ended without a close
// frame, 0 when it did not end).
func (w *WS) Closed(timeout time.Duration) (code int, reason string) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case _, ok := <-w.Messages:
			if ok {
				continue
			}
		case <-t.C:
			return 0, ""
		}
		<-w.done
		w.mu.Lock()
		err := w.closeErr
		w.mu.Unlock()
		var ce coderws.CloseError
		if errors.As(err, &ce) {
			return int(ce.Code), ce.Reason
		}
		return -1, ""
	}
}

// Close closes the connection normally.
func (w *WS) Close() {
	_ = w.conn.Close(coderws.StatusNormalClosure, "")
	w.cancel()
}

// SSEEvent is one Server-Sent Event.
type SSEEvent struct {
	Event  string
	Data   string
	header http.Header
}

// Response decodes a next event's data (a GraphQL response), or an error
// event's ({"errors": [...]}), with the stream's response headers.
func (e SSEEvent) Response() Response {
	var r Response
	_ = json.Unmarshal([]byte(e.Data), &r)
	r.Raw = e.Data
	r.Header = e.header
	return r
}

// SSE is a subscription over Server-Sent Events.
type SSE struct {
	// Res is the server's answer (a refusal's body is left unread).
	Res    *http.Response
	Events chan SSEEvent
	cancel context.CancelFunc
}

// SubscribeSSE posts a subscription with Accept: text/event-stream as the
// bearer of token (none when empty). A response that is not a stream
// comes back with Events nil.
func SubscribeSSE(t testing.TB, baseURL, token, query string, variables map[string]any) *SSE {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": variables})
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/graphql", bytes.NewReader(body))
	if err != nil {
		cancel()
		t.Fatalf("sse: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("sse: %v", err)
	}
	s := &SSE{Res: res, cancel: cancel}
	t.Cleanup(s.Close)
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		return s
	}
	s.Events = make(chan SSEEvent, 10_000)
	go func() {
		defer close(s.Events)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		ev := SSEEvent{header: res.Header}
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Event != "" || ev.Data != "" {
					s.Events <- ev
				}
				ev = SSEEvent{header: res.Header}
			case strings.HasPrefix(line, ":"):
			case strings.HasPrefix(line, "event:"):
				ev.Event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			case strings.HasPrefix(line, "data:"):
				ev.Data += strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " ")
			}
		}
	}()
	return s
}

// Next waits up to timeout for the next event; ok is false when none came
// or the stream ended.
func (s *SSE) Next(timeout time.Duration) (SSEEvent, bool) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case e, ok := <-s.Events:
		return e, ok
	case <-t.C:
		return SSEEvent{}, false
	}
}

// Close ends the stream from the client's side.
func (s *SSE) Close() {
	s.cancel()
	_ = s.Res.Body.Close()
}
