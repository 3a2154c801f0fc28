package httpserver

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/reqlog"
	"github.com/banpro/factoring/internal/requestid"
)

// TokenVerifier checks a bearer token (auth.Verifier in production).
type TokenVerifier interface {
	Verify(token string) (auth.Principal, error)
}

// authenticate requires a valid bearer token on the API's paths (/graphql and
// /schema.graphql): without one the request is answered 401 before anything
// reads it. /healthz, /readyz and the playground page stay open. With no
// verifier (FACTORING_AUTH=disabled) every request passes, anonymous.
// Either way the access log learns who is calling.
//
// A WebSocket upgrade on /graphql passes without a token: a browser cannot
// set headers on it, so its token comes in the connection's first message
// (connection_init), which the GraphQL endpoint checks before anything
// runs and answers by closing the connection (4401).
func authenticate(next http.Handler, v TokenVerifier, log *slog.Logger) http.Handler {
	if v == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reqlog.SetActor(r.Context(), auth.Anonimo)
			next.ServeHTTP(w, r)
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions || (r.URL.Path != "/graphql" && r.URL.Path != "/schema.graphql") ||
			(r.URL.Path == "/graphql" && r.Method == http.MethodGet && isWebSocket(r)) {
			next.ServeHTTP(w, r)
			return
		}
		scheme, token, found := strings.Cut(r.Header.Get("Authorization"), " ")
		token = strings.TrimSpace(token)
		if !found || !strings.EqualFold(scheme, "Bearer") || token == "" {
			unauthorized(w, r, "Falta el token: envíe Authorization: Bearer <token>.")
			return
		}
		p, err := v.Verify(token)
		if err != nil {
			// Why the token failed helps whoever runs the server; the caller
			// only learns that it did. The token itself is never logged.
			log.InfoContext(r.Context(), "token rechazado",
				"request_id", requestid.FromContext(r.Context()), "motivo", err.Error())
			unauthorized(w, r, auth.ClientMessage(err))
			return
		}
		reqlog.SetActor(r.Context(), p.Subject)
		next.ServeHTTP(w, r.WithContext(auth.NewContext(r.Context(), p)))
	})
}

func unauthorized(w http.ResponseWriter, r *http.Request, message string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="factoring"`)
	writeError(w, r, apperror.Unauthenticatedf("%s", message))
}
