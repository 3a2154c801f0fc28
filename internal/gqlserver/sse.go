package gqlserver

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/mediatype"
	"github.com/banpro/factoring/internal/suscripciones"
)

// sseTransport serves a subscription over Server-Sent Events, as GraphQL
// over SSE's "distinct connections" mode has it: POST /graphql (or GET
// with the query string) with Accept: text/event-stream, one subscription
// per response, the token in the Authorization header as for any request.
//
// A request refused before it runs (a document that does not validate, a
// limit, a role, SUBSCRIPTION_LIMIT_EXCEEDED: HTTP 429) is answered with
// JSON and the status of its code, as on POST. Once accepted, the answer
// is text/event-stream: one "next" event per GraphQL response, a comment
// line every 15 s while nothing happens, and at the end "complete", or
// "error" when the server ended it (the token expired: UNAUTHENTICATED; a
// consumer too slow: SUBSCRIPTION_LIMIT_EXCEEDED; shutdown:
// SERVICE_UNAVAILABLE), whose data is {"errors": [...]}. A write the
// client does not take within 10 s ends the stream.
type sseTransport struct {
	streams   *streams
	presenter *presenter
}

var _ graphql.Transport = sseTransport{}

func (sseTransport) Supports(r *http.Request) bool {
	return (r.Method == http.MethodPost || r.Method == http.MethodGet) &&
		mediatype.AcceptsEventStream(r.Header.Get("Accept")) &&
		!mediatype.WebSocketUpgrade(r.Header.Get("Connection"), r.Header.Get("Upgrade"))
}

func (t sseTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := conStream(r.Context())
	contentType := responseContentType(r)
	read := readPOST
	if r.Method == http.MethodGet {
		read = readGET
	}
	params, appErr := read(r)
	if appErr != nil {
		refuse(ctx, w, exec, contentType, appErr)
		return
	}
	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs)
		writeResponse(w, contentType, refusedStatus(contentType, resp), resp)
		return
	}
	p, ok := auth.FromContext(ctx)
	if !ok {
		p = auth.Principal{Subject: auth.Anonimo}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ses := newSesion(p.Subject, 1, func(suscripciones.Cierre) { cancel() })
	if appErr := t.streams.abrir(ses); appErr != nil {
		refuse(ctx, w, exec, contentType, appErr)
		return
	}
	defer func() {
		t.streams.cerrar(ses)
		close(ses.hecha)
	}()
	ses.vencer(p.Vence)
	ctx = suscripciones.ConSesion(ctx, ses)

	out := &sseWriter{w: w, rc: http.NewResponseController(w)}
	// The server's read deadline is a request's: past it, net/http would
	// cancel a stream that is still being read.
	_ = out.rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set(contentTypeHeader, mediatype.EventStream+"; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	if out.write(":\n\n") != nil {
		return
	}

	vivo, detener := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(keepAlive)
		defer tick.Stop()
		for {
			select {
			case <-vivo.Done():
				return
			case <-tick.C:
				if out.write(": ping\n\n") != nil {
					cancel()
					return
				}
			}
		}
	})
	defer func() {
		detener()
		wg.Wait()
	}()

	responses, rctx := exec.DispatchOperation(ctx, opCtx)
	for {
		resp := responses(rctx)
		if resp == nil {
			break
		}
		b, err := json.Marshal(resp)
		if err != nil || out.event("next", b) != nil {
			cancel()
			return
		}
	}
	switch c := ses.motivo(); {
	case c != nil:
		// Presented under the request's own context: the stream's was
		// cancelled to end it.
		b, err := json.Marshal(map[string]gqlerror.List{"errors": {t.presenter.present(r.Context(), c.Err)}})
		if err == nil {
			_ = out.event("error", b)
		}
	case r.Context().Err() == nil:
		_ = out.event("complete", nil)
	}
}

// sseWriter writes a stream's events, one at a time, each flushed and
// given writeTimeout to leave.
type sseWriter struct {
	mu sync.Mutex
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (s *sseWriter) write(text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.rc.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := s.w.Write([]byte(text)); err != nil {
		return err
	}
	return s.rc.Flush()
}

// event writes one event; data is one line of JSON (nil: an empty data
// line, complete's).
func (s *sseWriter) event(name string, data []byte) error {
	return s.write("event: " + name + "\ndata: " + string(data) + "\n\n")
}
