package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/auth"
)

// secreto is the HS256 secret of these tests (32 bytes).
const secreto = "secreto-de-la-cli-de-32-bytes!!!"

// conSecreto is a CLI whose environment signs and verifies with secreto.
func conSecreto(t *testing.T) *cli {
	c := sqliteCLI(t)
	c.env["FACTORING_JWT_SECRET"] = secreto
	c.env["FACTORING_JWT_ISSUER"] = "https://idp.banpro.cl"
	c.env["FACTORING_JWT_AUDIENCE"] = "factoring-api"
	return c
}

func TestToken(t *testing.T) {
	t.Run("imprime_un_token_que_el_verificador_acepta", func(t *testing.T) {
		c := conSecreto(t)
		out := c.mustRun("token", "--sub", "ana", "--roles", "analista,riesgo", "--ttl", "1h")
		require.Equal(t, 1, strings.Count(out, "\n"), "one line: %q", out)
		tok := strings.TrimSpace(out)

		v, err := auth.NewVerifier(auth.VerifierConfig{
			Secret: []byte(secreto), Issuer: "https://idp.banpro.cl", Audience: "factoring-api",
			Now: func() time.Time { return ahora.Add(59 * time.Minute) },
		})
		require.NoError(t, err)
		p, err := v.Verify(tok)
		require.NoError(t, err)
		assert.Equal(t, "ana", p.Subject)
		assert.Equal(t, []auth.Role{auth.Analista, auth.Riesgo}, p.Roles)

		var claims jwt.RegisteredClaims
		_, _, err = jwt.NewParser().ParseUnverified(tok, &claims)
		require.NoError(t, err)
		assert.Equal(t, ahora.Add(time.Hour).Unix(), claims.ExpiresAt.Unix(), "--ttl 1h from the command's clock")
		assert.Equal(t, ahora.Unix(), claims.IssuedAt.Unix())

		expired, err := auth.NewVerifier(auth.VerifierConfig{
			Secret: []byte(secreto), Now: func() time.Time { return ahora.Add(time.Hour + time.Minute) },
		})
		require.NoError(t, err)
		_, err = expired.Verify(tok)
		assert.ErrorIs(t, err, auth.ErrToken, "an hour later it has expired")
	})
	t.Run("ttl_por_omision_8h_y_sin_roles", func(t *testing.T) {
		tok := strings.TrimSpace(conSecreto(t).mustRun("token", "--sub", "sistema-externo"))
		var claims struct {
			jwt.RegisteredClaims
			Roles []string `json:"roles"`
		}
		_, _, err := jwt.NewParser().ParseUnverified(tok, &claims)
		require.NoError(t, err)
		assert.Equal(t, 8*time.Hour, claims.ExpiresAt.Sub(claims.IssuedAt.Time))
		assert.Empty(t, claims.Roles)
		assert.Equal(t, "sistema-externo", claims.Subject)
	})
	t.Run("sin_secreto", func(t *testing.T) {
		out, _, err := sqliteCLI(t).run("token", "--sub", "ana", "--roles", "lector")
		require.Error(t, err)
		assert.NotErrorIs(t, err, errUsage)
		assert.Contains(t, err.Error(), "FACTORING_JWT_SECRET")
		assert.NotContains(t, err.Error(), "\n")
		assert.Empty(t, out)
	})
	t.Run("secreto_corto", func(t *testing.T) {
		c := sqliteCLI(t)
		c.env["FACTORING_JWT_SECRET"] = "corto"
		out, _, err := c.run("token", "--sub", "ana")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "FACTORING_JWT_SECRET")
		assert.Contains(t, err.Error(), "32")
		assert.Empty(t, out)
	})
	t.Run("rol_desconocido", func(t *testing.T) {
		out, errOut, err := conSecreto(t).run("token", "--sub", "ana", "--roles", "analista,superusuario")
		require.ErrorIs(t, err, errUsage)
		assert.Contains(t, errOut, `"superusuario"`)
		assert.Contains(t, errOut, "lector, analista, riesgo, tesoreria")
		assert.Empty(t, out)
	})
	t.Run("falta_sub", func(t *testing.T) {
		out, errOut, err := conSecreto(t).run("token", "--roles", "lector")
		require.ErrorIs(t, err, errUsage)
		assert.Contains(t, errOut, "--sub")
		assert.Empty(t, out)
	})
	t.Run("ttl_fuera_de_rango", func(t *testing.T) {
		for _, ttl := range []string{"0s", "-1h", "721h", "mañana"} {
			out, _, err := conSecreto(t).run("token", "--sub", "ana", "--ttl", ttl)
			require.ErrorIs(t, err, errUsage, ttl)
			assert.Empty(t, out, ttl)
		}
	})
}

// serveCapturando starts `factoring serve args...` and returns the base URL
// it listens on, its log (stderr), and a stop function that cancels it and
// returns Run's error (run at cleanup too).
func (c *cli) serveCapturando(args ...string) (string, *syncBuffer, func() error) {
	c.t.Helper()
	ctx, cancel := context.WithCancel(c.t.Context())
	ready := make(chan string, 1)
	var out, errOut syncBuffer
	m := c.main(&out, &errOut)
	m.Ready = ready
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, append([]string{"serve"}, args...)) }()
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(30 * time.Second):
				stopErr = errors.New("serve did not stop within 30 s of the cancellation")
			}
		})
		return stopErr
	}
	c.t.Cleanup(func() { _ = stop() })
	select {
	case addr := <-ready:
		return "http://" + addr, &errOut, stop
	case err := <-done:
		c.t.Fatalf("serve ended before listening: %v\nstderr: %s", err, errOut.String())
	case <-time.After(30 * time.Second):
		c.t.Fatalf("serve did not listen within 30 s\nstderr: %s", errOut.String())
	}
	return "", nil, nil
}

// consultar posts a query with an optional bearer token and returns the
// status and body.
func consultar(t *testing.T, base, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(`{"query":"{ clientes { totalCount } }"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(body)
}

func TestServeAutenticacion(t *testing.T) {
	t.Run("requerida_por_omision_sin_clave_no_arranca", func(t *testing.T) {
		for _, modo := range []string{"", "required", "REQUIRED"} {
			c := sqliteCLI(t)
			if modo == "" {
				delete(c.env, "FACTORING_AUTH")
			} else {
				c.env["FACTORING_AUTH"] = modo
			}
			_, _, err := c.run("serve")
			require.Error(t, err, "FACTORING_AUTH=%q", modo)
			assert.NotErrorIs(t, err, errUsage)
			assert.Contains(t, err.Error(), "FACTORING_JWT_SECRET")
			assert.Contains(t, err.Error(), "FACTORING_JWT_PUBLIC_KEY_FILE")
			assert.NotContains(t, err.Error(), "\n", "one line")
		}
	})
	t.Run("clave_publica_ilegible", func(t *testing.T) {
		c := sqliteCLI(t)
		c.env["FACTORING_AUTH"] = "required"
		c.env["FACTORING_JWT_PUBLIC_KEY_FILE"] = "/no/existe/clave.pem"
		_, _, err := c.run("serve")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "FACTORING_JWT_PUBLIC_KEY_FILE")
		assert.NotContains(t, err.Error(), "\n")
	})
	t.Run("requerida_con_secreto_y_el_token_de_la_cli", func(t *testing.T) {
		c := conSecreto(t)
		c.env["FACTORING_AUTH"] = "required"
		base, stop := c.serve()
		status, body := consultar(t, base, "")
		assert.Equal(t, http.StatusUnauthorized, status, body)
		assert.Contains(t, body, "UNAUTHENTICATED")

		// The command's clock is fixed in these tests; the server checks
		// exp against the real one, so the token is signed for now.
		tok := strings.TrimSpace(c.mustRunNow("token", "--sub", "ana", "--roles", "lector"))
		status, body = consultar(t, base, tok)
		assert.Equal(t, http.StatusOK, status, body)
		assert.JSONEq(t, `{"data":{"clientes":{"totalCount":0}},"extensions":{"cost":{"requested":50,"limit":150000}}}`, body)
		require.NoError(t, stop())
	})
	t.Run("deshabilitada_avisa_fuerte", func(t *testing.T) {
		c := sqliteCLI(t) // FACTORING_AUTH=disabled
		c.env["FACTORING_ADMIN_ADDR"] = "localhost:0"
		c.env["FACTORING_LOG_LEVEL"] = "info" // the admin listener names its address at info
		base, logs, stop := c.serveCapturando()
		status, body := consultar(t, base, "")
		assert.Equal(t, http.StatusOK, status, body)

		var warned, adminAddr string
		for line := range strings.SplitSeq(logs.String(), "\n") {
			var entry struct{ Level, Msg, Addr string }
			if json.Unmarshal([]byte(line), &entry) != nil {
				continue
			}
			if strings.Contains(entry.Msg, "AUTENTICACIÓN DESHABILITADA") {
				warned = entry.Level
				assert.Contains(t, entry.Msg, "FACTORING_AUTH=disabled")
				assert.Contains(t, entry.Msg, "anonimo")
			}
			if strings.Contains(entry.Msg, "administración") {
				adminAddr = entry.Addr
			}
		}
		assert.Equal(t, "WARN", warned, "a loud warning at start: %s", logs.String())

		// The admin listener of FACTORING_ADMIN_ADDR, on its own address.
		require.NotEmpty(t, adminAddr, logs.String())
		res, err := http.Get("http://" + adminAddr + "/metrics")
		require.NoError(t, err)
		metrics, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		res.Body.Close()
		assert.Regexp(t, `(?m)^factoring_sql_statements_total [1-9]`, string(metrics), "the query above ran SQL")
		assert.Contains(t, string(metrics), `factoring_graphql_requests_total{code="OK",operation_name="anonymous",operation_type="query"} 1`)
		for _, path := range []string{"/debug/pprof/", "/metrics"} {
			res, err = http.Get(base + path)
			require.NoError(t, err)
			res.Body.Close()
			assert.Equal(t, http.StatusNotFound, res.StatusCode, "%s is never on the API's address", path)
		}
		require.NoError(t, stop())
	})
}

// mustRunNow runs one command with the system clock.
func (c *cli) mustRunNow(args ...string) string {
	c.t.Helper()
	var out, errOut syncBuffer
	m := c.main(&out, &errOut)
	m.Clock = nil
	require.NoError(c.t, m.Run(c.t.Context(), args), "stderr: %s", errOut.String())
	return out.String()
}
