package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/rut"
)

// collector is a fake OpenTelemetry collector: it keeps the body of every
// OTLP/HTTP export it receives (protobuf, whose strings are their UTF-8
// bytes, so a scan for a text finds it).
type collector struct {
	mu      sync.Mutex
	exports [][]byte
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = gz
	}
	raw, _ := io.ReadAll(body)
	c.mu.Lock()
	if r.URL.Path == "/v1/traces" {
		c.exports = append(c.exports, raw)
	}
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK) // an empty ExportTraceServiceResponse
}

func (c *collector) all() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Join(c.exports, nil)
}

// Ensure that nothing secret leaves the server in its logs or its traces: a
// run of the real command, tracing every request to a collector and logging
// at debug level, with a valid token, a forged one, the signing secret,
// variables and query literals that look like credentials and a webhook
// signing secret among the variables, and errors of every kind; then the
// whole log and every exported span are scanned. The scan is shown to look
// at real output: the access lines, their trace ids and the spans are there.
func TestNingunSecretoEnLogsNiTrazas(t *testing.T) {
	otlp := &collector{}
	col := httptest.NewServer(otlp)
	defer col.Close()

	const (
		jwtSecret     = "jwt-firma-4f1c9e77b2a0d3e5c8f6a1b4d7e0c3f9"
		webhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		apiKey        = "sk_live_51HvX2pQ8rT6yU3wE9oI1aS4dF7gH0jK"
		password      = "Contraseña-Ultra-Secreta-8842"
		literal       = "pwd-literal-en-la-consulta-77aa"
		forged        = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtYWxvIn0.firma-falsa-3c3c3c3c"
	)
	c := sqliteCLI(t)
	c.env["FACTORING_AUTH"] = "required"
	c.env["FACTORING_JWT_SECRET"] = jwtSecret
	c.env["FACTORING_LOG_LEVEL"] = "debug"
	c.env["OTEL_EXPORTER_OTLP_ENDPOINT"] = col.URL
	c.env["OTEL_TRACES_SAMPLER"] = "always_on"
	base, logs, stop := c.serveCapturando("--seed")

	valid, err := auth.IssueHS256([]byte(jwtSecret), "ana", []auth.Role{auth.Analista}, time.Hour, "", "", time.Now())
	require.NoError(t, err)
	lector, err := auth.IssueHS256([]byte(jwtSecret), "luis", []auth.Role{auth.Lector}, time.Hour, "", "", time.Now())
	require.NoError(t, err)
	post := func(tok, query string, vars map[string]any) int {
		t.Helper()
		body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
		require.NoError(t, err)
		req, err := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	rutNuevo := rut.Format(41_234_567, rut.CheckDigit(41_234_567)) // not among the demo data's
	crear := `mutation CrearCliente($input: CrearClienteInput!) { crearCliente(input: $input) { id } }`
	input := func(razon, email string) map[string]any {
		return map[string]any{"input": map[string]any{
			"rut": rutNuevo, "razonSocial": razon, "email": email, "lineaCredito": "1000000",
			"giro": apiKey, "direccion": password,
		}}
	}
	// Succeeds: the values are stored, never logged or traced.
	assert.Equal(t, http.StatusOK, post(valid, crear, input("Comercial Secreta SpA", "pagos@secreta.cl")))
	// Refused by the domain (the RUT exists now), by its input and by role.
	assert.Equal(t, http.StatusOK, post(valid, crear, input("Otra "+apiKey, "pagos@secreta.cl")))
	assert.Equal(t, http.StatusOK, post(valid, crear, input("Sin correo", webhookSecret)))
	assert.Equal(t, http.StatusForbidden, post(lector, crear, input(password, "x@y.cl")))
	// A variable the schema does not have, carrying a webhook secret.
	assert.Less(t, post(valid, crear, map[string]any{"input": map[string]any{"secreto": webhookSecret}}), 500)
	// A literal in the document itself, and a document that does not parse.
	assert.Equal(t, http.StatusOK, post(lector, `query Buscar { clientes(where: {razonSocialContains: "`+literal+`"}) { totalCount } }`, nil))
	assert.Less(t, post(lector, `query { clientes(where: {razonSocial: "`+literal+`"`, nil), 500)
	// A forged token.
	assert.Equal(t, http.StatusUnauthorized, post(forged, `{ clientes { totalCount } }`, nil))
	require.NoError(t, stop(), "serve stops and flushes its spans")

	out := logs.String()
	spans := otlp.all()
	// The scan looks at real output.
	assert.GreaterOrEqual(t, strings.Count(out, `"msg":"solicitud"`), 8, out)
	assert.Contains(t, out, `"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"`)
	assert.Contains(t, out, `"actor":"ana"`)
	assert.Contains(t, out, "token rechazado")
	require.NotEmpty(t, spans, "the collector received the spans")
	for _, name := range []string{"POST /graphql", "mutation CrearCliente", "INSERT clientes", "query Buscar"} {
		assert.True(t, bytes.Contains(spans, []byte(name)), "the exported spans have %q", name)
	}

	for name, secret := range map[string]string{
		"the signing secret": jwtSecret, "a valid token": valid, "another valid token": lector,
		"a forged token": forged, "the forged token's signature": "firma-falsa-3c3c3c3c",
		"a webhook secret": webhookSecret, "an API key in variables": apiKey, "a password in variables": password,
		"a literal of the query": literal, "a stored value": "Comercial Secreta", "an e-mail in variables": "pagos@secreta.cl",
		"a RUT in variables": rutNuevo,
	} {
		assert.False(t, strings.Contains(out, secret), "%s in the log", name)
		assert.False(t, bytes.Contains(spans, []byte(secret)), "%s in a span", name)
	}
	assert.NotContains(t, out, "Bearer")
}
