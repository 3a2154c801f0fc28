package httpserver

import (
	"net/http"
	"slices"
)

// cors lets the browsers of the listed origins call the API, and no one else:
// an explicit allow-list (FACTORING_CORS_ORIGINS), none by default. Bearer
// tokens travel in a header, so credentials (cookies) are never allowed.
func cors(next http.Handler, origins []string) http.Handler {
	if len(origins) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		h := w.Header()
		h.Add("Vary", "Origin")
		if origin == "" || !slices.Contains(origins, origin) {
			next.ServeHTTP(w, r)
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		// Idempotent-Replayed tells a browser client that a retried
		// mutation's answer is the one kept from its first run.
		h.Set("Access-Control-Expose-Headers", "X-Request-ID, X-Correlation-ID, Idempotent-Replayed, Retry-After")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			h.Set("Access-Control-Allow-Methods", "GET, POST")
			// traceparent and tracestate: a browser app that traces its
			// calls (W3C Trace Context) continues its trace here.
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, X-Request-ID, X-Correlation-ID, Idempotency-Key, traceparent, tracestate")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
