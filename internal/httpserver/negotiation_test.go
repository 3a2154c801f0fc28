package httpserver_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/httpserver"
)

// noToken is a verifier that accepts no token.
type noToken struct{}

func (noToken) Verify(string) (auth.Principal, error) { return auth.Principal{}, errors.New("no") }

// Ensure that the errors the HTTP shell answers itself (401 before
// /graphql, 404 for an unknown path, 413 for a body too large) come in the
// media type /graphql would answer with: application/graphql-response+json
// when the client accepts it, so that a GraphQL client library (Apollo's
// reads a non-2xx body as GraphQL only then) sees extensions.code; else
// application/json. Either way the body is the API's error format.
func TestErroresDelServidorNegocianElTipo(t *testing.T) {
	srv, err := httpserver.New(httpserver.Config{GraphQL: stubGraphQL, SDL: stubSDL, Logger: discard(), Verifier: noToken{}})
	require.NoError(t, err)
	h := srv.Handler()
	requests := map[string]func() *http.Request{
		"401_graphql": func() *http.Request {
			return httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader([]byte(`{"query":"{ __typename }"}`)))
		},
		"401_schema": func() *http.Request { return httptest.NewRequest(http.MethodGet, "/schema.graphql", nil) },
		"404":        func() *http.Request { return httptest.NewRequest(http.MethodGet, "/no-existe", nil) },
		"413": func() *http.Request {
			return httptest.NewRequest(http.MethodPost, "/no-existe", bytes.NewReader(make([]byte, httpserver.MaxBodyBytes+1)))
		},
	}
	codes := map[string]string{"401_graphql": "UNAUTHENTICATED", "401_schema": "UNAUTHENTICATED", "404": "NOT_FOUND", "413": "PAYLOAD_TOO_LARGE"}
	for name, build := range requests {
		for accept, want := range map[string]string{
			"application/graphql-response+json, application/json": "application/graphql-response+json",
			"application/json": "application/json",
			"":                 "application/json",
			"text/html, */*":   "application/json",
		} {
			t.Run(name+"_"+accept, func(t *testing.T) {
				req := build()
				if accept != "" {
					req.Header.Set("Accept", accept)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				assert.Equal(t, want, rec.Header().Get("Content-Type"))
				assert.Equal(t, codes[name], errorBody(t, rec.Body.Bytes()).Extensions.Code)
				assert.NotContains(t, rec.Body.String(), `"data"`, "refused before GraphQL: no data key")
			})
		}
	}
}
