package gqlserver_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/graph"
	"github.com/banpro/factoring/internal/gqlserver"
	"github.com/banpro/factoring/internal/testkit"
)

// Ensure that a request whose context ended before its operation ran (gqlgen
// then hands back no response at all) is answered by how it ended: nothing
// for a client that went away, TIMEOUT (504) when the deadline passed; never
// a panic, never an error in the log.
func TestContextoTerminadoAntesDeEjecutar(t *testing.T) {
	serve := func(t *testing.T, ctx context.Context) (*httptest.ResponseRecorder, string) {
		t.Helper()
		var logs testkit.SyncBuffer
		h := gqlserver.New(gqlserver.Config{
			Schema: graph.NewSchema(nil, graph.Services{}),
			Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		})
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ __typename }"}`))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		require.NotPanics(t, func() { h.ServeHTTP(rec, req) })
		assert.NotContains(t, logs.String(), `"level":"ERROR"`)
		return rec, logs.String()
	}

	t.Run("el_cliente_se_fue", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		rec, _ := serve(t, ctx)
		assert.Empty(t, rec.Body.String(), "no one is there to read an answer")
	})
	t.Run("vencio_el_plazo", func(t *testing.T) {
		ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
		defer cancel()
		rec, _ := serve(t, ctx)
		assert.Equal(t, http.StatusGatewayTimeout, rec.Code, rec.Body.String())
		var res testkit.Response
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &res), rec.Body.String())
		require.Len(t, res.Errors, 1, rec.Body.String())
		assert.Equal(t, "TIMEOUT", res.Errors[0].Extensions.Code)
		assert.Contains(t, res.Errors[0].Message, "tiempo máximo")
	})
}
