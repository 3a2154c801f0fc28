package httpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/reqlog"
	"github.com/banpro/factoring/internal/requestid"
)

func jsonLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// apiError is the body of an error answered outside GraphQL.
type apiError struct {
	Errors []struct {
		Message    string `json:"message"`
		Extensions struct {
			Code      string `json:"code"`
			RequestID string `json:"requestId"`
		} `json:"extensions"`
	} `json:"errors"`
}

func decodeError(t *testing.T, rec *httptest.ResponseRecorder) apiError {
	t.Helper()
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	var body apiError
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
	require.Len(t, body.Errors, 1, rec.Body.String())
	return body
}

func TestWithRequestID(t *testing.T) {
	var seen, seenCorr string
	h := withRequestID(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		seen, seenCorr = requestid.FromContext(r.Context()), requestid.Correlation(r.Context())
	}))
	// serve sends headers and returns the response's X-Request-ID and
	// X-Correlation-ID, checking that the handler's context carried the
	// same.
	serve := func(headers map[string]string) (string, string) {
		req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		id, corr := rec.Header().Get(requestid.Header), rec.Header().Get(requestid.CorrelationHeader)
		assert.Equal(t, id, seen, "the response header and the request's context carry the same id")
		assert.Equal(t, corr, seenCorr, "and the same correlation id")
		_, err := uuid.Parse(id)
		require.NoError(t, err, "the request's id is always a new UUID, got %q", id)
		return id, corr
	}

	t.Run("el_id_del_llamador_es_la_correlacion", func(t *testing.T) {
		for _, sent := range []string{"abc-123", "req_1.2-3", strings.Repeat("a", 128), "A"} {
			id, corr := serve(map[string]string{requestid.Header: sent})
			assert.NotEqual(t, sent, id, "the caller's id never becomes the request's")
			assert.Equal(t, sent, corr)
		}
	})
	t.Run("x_correlation_id_gana", func(t *testing.T) {
		_, corr := serve(map[string]string{requestid.Header: "req-1", requestid.CorrelationHeader: "corr-1"})
		assert.Equal(t, "corr-1", corr)
		_, corr = serve(map[string]string{requestid.Header: "req-1", requestid.CorrelationHeader: "no vale"})
		assert.Equal(t, "req-1", corr, "an insane X-Correlation-ID is ignored")
	})
	for name, sent := range map[string]*string{
		"sin_encabezado":     nil,
		"vacio":              new(""),
		"de_129_caracteres":  new(strings.Repeat("a", 129)),
		"con_espacios":       new("mi id"),
		"con_unicode":        new("año-2026"),
		"con_salto_de_linea": new("a\nb"),
		"con_comillas":       new(`a"b`),
	} {
		t.Run("sin_correlacion_"+name, func(t *testing.T) {
			headers := map[string]string{}
			if sent != nil {
				headers[requestid.Header] = *sent
			}
			_, corr := serve(headers)
			assert.Empty(t, corr, "no X-Correlation-ID unless the caller sent a sane id")
		})
	}
	t.Run("cada_solicitud_tiene_su_propio_id", func(t *testing.T) {
		a, corrA := serve(map[string]string{requestid.Header: "mismo"})
		b, corrB := serve(map[string]string{requestid.Header: "mismo"})
		assert.NotEqual(t, a, b, "two requests never share an id, whatever they send")
		assert.Equal(t, corrA, corrB, "they share the correlation id they sent")
	})
}

func TestRecoverPanics(t *testing.T) {
	var logs bytes.Buffer
	log := jsonLogger(&logs)
	panicky := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom: secreto interno") })
	// The order New wraps them in.
	h := withRequestID(accessLog(recoverPanics(securityHeaders(panicky), log), log, nil))

	req := httptest.NewRequest(http.MethodGet, "/cualquiera", nil)
	req.Header.Set(requestid.Header, "panico-1")
	rec := httptest.NewRecorder()
	require.NotPanics(t, func() { h.ServeHTTP(rec, req) })

	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	body := decodeError(t, rec)
	id := rec.Header().Get(requestid.Header)
	assert.Equal(t, "INTERNAL_ERROR", body.Errors[0].Extensions.Code)
	assert.Equal(t, id, body.Errors[0].Extensions.RequestID)
	assert.NotContains(t, rec.Body.String(), "boom")
	assert.NotContains(t, rec.Body.String(), "goroutine")
	assert.Equal(t, "panico-1", rec.Header().Get(requestid.CorrelationHeader))
	assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"), "security headers survive a panic")

	out := logs.String()
	assert.Contains(t, out, "boom: secreto interno", "the panic goes to the log")
	assert.Contains(t, out, `"request_id":"`+id+`"`)
	assert.Contains(t, out, `"correlation_id":"panico-1"`)
	assert.Contains(t, out, `"status":500`, "the access log records the 500")
	assert.Contains(t, out, `"codes":["INTERNAL_ERROR"]`, "and its code")

	t.Run("deja_pasar_http_ErrAbortHandler", func(t *testing.T) {
		abort := recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }), log)
		assert.PanicsWithValue(t, http.ErrAbortHandler, func() {
			abort.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
		})
	})
}

func TestLimitBody(t *testing.T) {
	const limit = 16
	var called bool
	var got []byte
	h := withRequestID(limitBody(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		called = true
		got, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusNoContent)
	}), limit))
	serve := func(body io.Reader, contentLength int64) *httptest.ResponseRecorder {
		called, got = false, nil
		req := httptest.NewRequest(http.MethodPost, "/graphql", body)
		req.ContentLength = contentLength
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	t.Run("acepta_exactamente_el_limite", func(t *testing.T) {
		rec := serve(strings.NewReader(strings.Repeat("x", limit)), limit)
		assert.Equal(t, http.StatusNoContent, rec.Code)
		assert.Equal(t, strings.Repeat("x", limit), string(got), "the handler reads the whole body")
	})
	t.Run("rechaza_un_byte_de_mas_por_content_length", func(t *testing.T) {
		rec := serve(strings.NewReader(strings.Repeat("x", limit+1)), limit+1)
		assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
		assert.False(t, called, "nothing behind the limit runs")
		assert.NotEmpty(t, decodeError(t, rec).Errors[0].Extensions.RequestID)
	})
	t.Run("rechaza_un_byte_de_mas_sin_content_length", func(t *testing.T) {
		// A chunked body announces no length: it is cut while read.
		rec := serve(io.MultiReader(strings.NewReader(strings.Repeat("x", limit)), strings.NewReader("y")), -1)
		assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
		assert.False(t, called)
	})
	t.Run("rechaza_un_content_length_que_miente", func(t *testing.T) {
		rec := serve(strings.NewReader(strings.Repeat("x", limit+10)), 4)
		assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
		assert.False(t, called)
	})
	t.Run("sin_cuerpo_pasa", func(t *testing.T) {
		rec := serve(http.NoBody, 0)
		assert.Equal(t, http.StatusNoContent, rec.Code)
		assert.True(t, called)
	})
}

func TestSecurityHeaders(t *testing.T) {
	h := securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, apperror.Validationf("x"))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
	assert.Equal(t, "no-referrer", rec.Header().Get("Referrer-Policy"))
	assert.Equal(t, "DENY", rec.Header().Get("X-Frame-Options"))
}

func TestAccessLog(t *testing.T) {
	var logs bytes.Buffer
	var observed []reqlog.Summary
	h := withRequestID(accessLog(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqlog.SetOperation(r.Context(), "BuscarClientes")
		reqlog.SetOperationType(r.Context(), "query")
		reqlog.SetActor(r.Context(), "ana")
		reqlog.AddCode(r.Context(), "NOT_FOUND")
		reqlog.AddCode(r.Context(), "NOT_FOUND")
		reqlog.CountStatement(r.Context())
		reqlog.CountStatement(r.Context())
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte("hola"))
	}), jsonLogger(&logs), func(_ context.Context, s reqlog.Summary) { observed = append(observed, s) }))

	req := httptest.NewRequest(http.MethodPost, "/graphql?variables=secreto789",
		strings.NewReader(`{"query":"query BuscarClientes($q: String) { x }","variables":{"q":"secreto456"}}`))
	req.Header.Set("Authorization", "Bearer secreto123")
	req.Header.Set(requestid.Header, "log-1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	var line map[string]any
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(logs.String())), &line), logs.String())
	assert.Equal(t, rec.Header().Get(requestid.Header), line["request_id"])
	assert.Equal(t, "log-1", line["correlation_id"])
	assert.Equal(t, "POST", line["method"])
	assert.Equal(t, "/graphql", line["path"])
	assert.Equal(t, float64(http.StatusAccepted), line["status"])
	assert.Equal(t, "completed", line["outcome"])
	assert.Equal(t, "BuscarClientes", line["operation"])
	assert.Equal(t, "query", line["operation_type"])
	assert.Equal(t, "ana", line["actor"])
	assert.Equal(t, []any{"NOT_FOUND"}, line["codes"], "each code once")
	assert.Equal(t, float64(2), line["sql_statements"])
	assert.Equal(t, float64(4), line["bytes"])
	assert.Contains(t, line, "duration_ms")
	// The metrics are handed what the line says.
	require.Len(t, observed, 1)
	o := observed[0]
	assert.Equal(t, reqlog.Summary{
		Method: "POST", Path: "/graphql", Status: http.StatusAccepted, Outcome: "completed", Bytes: 4,
		Duration: o.Duration, Actor: "ana", Operation: "BuscarClientes", OperationType: "query",
		Codes: []string{"NOT_FOUND"}, Statements: 2,
	}, o)
	assert.Positive(t, o.Duration)
	for _, secret := range []string{"secreto123", "secreto456", "secreto789", "Bearer"} {
		assert.NotContains(t, logs.String(), secret, "the access log never has headers, the body or the query string")
	}

	// Ensure that a request whose client went away is logged as nginx logs
	// it, whatever the handler wrote; a request that only ran out of time
	// is not.
	t.Run("cliente_que_se_fue_499", func(t *testing.T) {
		for name, tc := range map[string]struct {
			end     func(context.Context) (context.Context, context.CancelFunc)
			status  float64
			outcome string
		}{
			"cancelada":     {context.WithCancel, 499, "cancelled"},
			"plazo_vencido": {func(ctx context.Context) (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, 0) }, 200, "completed"},
		} {
			t.Run(name, func(t *testing.T) {
				var logs bytes.Buffer
				h := withRequestID(accessLog(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					_, _ = w.Write([]byte("{}"))
				}), jsonLogger(&logs), nil))
				ctx, cancel := tc.end(context.Background())
				cancel()
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequestWithContext(ctx, http.MethodPost, "/graphql", nil))
				var line map[string]any
				require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(logs.String())), &line), logs.String())
				assert.Equal(t, tc.status, line["status"])
				assert.Equal(t, tc.outcome, line["outcome"])
			})
		}
	})

	t.Run("healthz_y_readyz_en_debug", func(t *testing.T) {
		var logs bytes.Buffer
		log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
		h := withRequestID(accessLog(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), log, nil))
		for _, p := range []string{"/healthz", "/readyz"} {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, p, nil))
		}
		assert.Empty(t, logs.String(), "probes do not flood the log at info level")
	})
}
