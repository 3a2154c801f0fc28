package httpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/mediatype"
	"github.com/banpro/factoring/internal/reqlog"
	"github.com/banpro/factoring/internal/requestid"
)

// withRequestID gives every request its own id, a new UUID whatever the
// caller sent, so that no two requests share one; a caller's sane id
// (X-Correlation-ID, else X-Request-ID) is kept beside it as the
// correlation id. Both go in the context and in the response headers
// (X-Request-ID, X-Correlation-ID).
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := requestid.New()
		ctx := requestid.NewContext(r.Context(), id)
		w.Header().Set(requestid.Header, id)
		if corr := requestid.CorrelationFrom(r.Header.Get(requestid.CorrelationHeader), r.Header.Get(requestid.Header)); corr != "" {
			ctx = requestid.WithCorrelation(ctx, corr)
			w.Header().Set(requestid.CorrelationHeader, corr)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// accessLog writes one structured line per request: its id and the caller's correlation id, the trace id
// (added by the log handler of internal/telemetry when the request carries
// a trace), who made it (actor: the authenticated subject, "anonimo" with
// authentication off, empty when no valid token came), method, path, the
// GraphQL operation's type and name, status, the codes of the errors it
// answered with (none when it succeeded), outcome, size, the SQL statements
// it ran and its duration. Never the query's variables, the body or
// headers such as Authorization. observe, when not nil, is handed the same
// summary (the metrics).
//
// A request whose client went away before the answer (net/http cancels the
// request's context when its connection closes) is logged as nginx logs
// it: status 499, outcome "cancelled", whatever the handler wrote to the
// closed connection. Any other request's outcome is "completed".
func accessLog(next http.Handler, log *slog.Logger, observe func(context.Context, reqlog.Summary)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, entry := reqlog.NewContext(r.Context())
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r.WithContext(ctx))
		s := entry.Summarize()
		s.Method, s.Path, s.Bytes, s.Duration = r.Method, r.URL.Path, rec.bytes, time.Since(start)
		s.Status, s.Outcome = rec.status, "completed"
		// A stream of subscriptions ends when its client leaves: that is
		// how it completes, not a cancelled request.
		if errors.Is(ctx.Err(), context.Canceled) && s.OperationType != "subscription" {
			s.Status, s.Outcome = apperror.Cancelled.HTTPStatus(), "cancelled"
		}
		level := slog.LevelInfo
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			level = slog.LevelDebug
		}
		log.LogAttrs(ctx, level, "solicitud",
			slog.String("request_id", requestid.FromContext(ctx)),
			slog.String("correlation_id", requestid.Correlation(r.Context())),
			slog.String("actor", s.Actor),
			slog.String("method", s.Method),
			slog.String("path", s.Path),
			slog.String("operation_type", s.OperationType),
			slog.String("operation", s.Operation),
			slog.Int("status", s.Status),
			slog.Any("codes", s.Codes),
			slog.String("outcome", s.Outcome),
			slog.Int("bytes", s.Bytes),
			slog.Int64("sql_statements", s.Statements),
			slog.Float64("duration_ms", float64(s.Duration.Microseconds())/1000),
		)
		if observe != nil {
			observe(ctx, s)
		}
	})
}

// recoverPanics turns a panic outside the GraphQL executor (which has its
// own recovery) into a 500 with the API's error format, logging the stack.
func recoverPanics(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.ErrorContext(r.Context(), "panic en el servidor HTTP",
					"request_id", requestid.FromContext(r.Context()),
					"panic", p, "stack", string(debug.Stack()))
				writeError(w, r, apperror.InternalError(fmt.Errorf("panic: %v", p)))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// securityHeaders sets the headers every response carries. The API answers
// JSON, which needs no script, style or frame: its Content-Security-Policy
// allows nothing. The playground page replaces it with its own.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// withDeadline bounds every request; the deadline travels in the context
// down to the database, which cancels the query when it passes. A
// subscription stream (a WebSocket upgrade, a request for
// text/event-stream) lasts as long as its client wants: the GraphQL
// endpoint runs only subscriptions on streams, and bounds them otherwise
// (caps, the token's expiry, write deadlines).
func withDeadline(next http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isStream(r) {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// isStream reports whether r asks for a subscription stream: a WebSocket
// upgrade, or Server-Sent Events.
func isStream(r *http.Request) bool {
	return isWebSocket(r) || mediatype.AcceptsEventStream(r.Header.Get("Accept"))
}

func isWebSocket(r *http.Request) bool {
	return mediatype.WebSocketUpgrade(r.Header.Get("Connection"), r.Header.Get("Upgrade"))
}

// limitBody refuses a body over limit bytes with 413, before anything reads
// it, and hands the rest a body already in memory.
func limitBody(next http.Handler, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		tooLarge := func() {
			writeError(w, r, apperror.Errorf(apperror.PayloadTooLarge,
				"El cuerpo de la solicitud supera el máximo de 1 MiB."))
		}
		if r.ContentLength > limit {
			tooLarge()
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
		if err != nil {
			var maxErr *http.MaxBytesError
			if errors.As(err, &maxErr) {
				tooLarge()
				return
			}
			writeError(w, r, apperror.Validationf("No se pudo leer el cuerpo de la solicitud."))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status      int
	bytes       int
	wroteHeader bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wroteHeader {
		s.status, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wroteHeader = true
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// writeError answers outside GraphQL in the API's error format, with the
// status of the error's code, in the media type /graphql would answer the
// same request with: a GraphQL client (Apollo's, say) then reads a 401's
// extensions.code as it reads any other error's.
func writeError(w http.ResponseWriter, r *http.Request, err *apperror.Error) {
	if s := err.Code.RetryAfterSeconds(); s > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(s))
	}
	reqlog.AddCode(r.Context(), string(err.Code))
	writeJSONAs(w, mediatype.Negotiate(r.Header.Get("Accept")), err.Code.HTTPStatus(), map[string]any{"errors": []map[string]any{{
		"message":    err.Message,
		"extensions": err.Extensions(requestid.FromContext(r.Context())),
	}}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	writeJSONAs(w, mediatype.JSON, status, v)
}

func writeJSONAs(w http.ResponseWriter, contentType string, status int, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
