package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Ensure that `factoring healthcheck` succeeds against a live server, found
// at FACTORING_HTTP_ADDR as the server itself reads it (":PORT" means the
// loopback), and fails, without hanging, when nothing answers there.
func TestHealthcheck(t *testing.T) {
	c := sqliteCLI(t)
	base, stop := c.serve()
	defer stop()
	hostPort := strings.TrimPrefix(base, "http://")
	_, port, err := net.SplitHostPort(hostPort)
	require.NoError(t, err)

	t.Run("con_addr", func(t *testing.T) {
		out := c.mustRun("healthcheck", "--addr", hostPort)
		assert.Equal(t, "ok: http://"+hostPort+"/healthz\n", out)
	})
	t.Run("desde_FACTORING_HTTP_ADDR_sin_host", func(t *testing.T) {
		hc := sqliteCLI(t)
		hc.env["FACTORING_HTTP_ADDR"] = ":" + port
		assert.Equal(t, "ok: http://127.0.0.1:"+port+"/healthz\n", hc.mustRun("healthcheck"))
		hc.env["FACTORING_HTTP_ADDR"] = "0.0.0.0:" + port
		assert.Equal(t, "ok: http://127.0.0.1:"+port+"/healthz\n", hc.mustRun("healthcheck"))
	})
	t.Run("sin_servidor_falla", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		closed := l.Addr().String()
		require.NoError(t, l.Close())
		_, _, err = c.run("healthcheck", "--addr", closed, "--timeout", "2s")
		require.Error(t, err)
		assert.NotErrorIs(t, err, errUsage)
		assert.Contains(t, err.Error(), "no responde")
	})
	t.Run("respuesta_distinta_de_200_falla", func(t *testing.T) {
		enfermo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			assert.Equal(t, "/healthz", r.URL.Path)
			w.WriteHeader(http.StatusServiceUnavailable)
		}))
		defer enfermo.Close()
		_, _, err := c.run("healthcheck", "--addr", strings.TrimPrefix(enfermo.URL, "http://"))
		require.Error(t, err)
		assert.NotErrorIs(t, err, errUsage)
		assert.Contains(t, err.Error(), "respondió 503")
	})
	t.Run("direccion_invalida", func(t *testing.T) {
		for _, addr := range []string{"localhost", "127.0.0.1:" + port + "/no", "127.0.0.1:http", ":0"} {
			_, errOut, err := c.run("healthcheck", "--addr", addr)
			require.ErrorIs(t, err, errUsage, addr)
			assert.Contains(t, errOut, "dirección inválida", addr)
		}
	})
}
