package webhooks_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/webhooks"
)

// TestFirmarVectorStandardWebhooks checks the signature against the
// reference vector published with the Standard Webhooks libraries: an
// integrator verifying with any of them accepts our deliveries.
func TestFirmarVectorStandardWebhooks(t *testing.T) {
	const (
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		id     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		ts     = int64(1614265330)
		body   = `{"test": 2432232314}`
		want   = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	)
	got, err := webhooks.Firmar([]string{secret}, id, ts, []byte(body))
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.True(t, webhooks.Verificar(secret, got, id, ts, []byte(body)))
	assert.False(t, webhooks.Verificar(secret, got, id, ts+1, []byte(body)), "another timestamp")
	assert.False(t, webhooks.Verificar(secret, got, id, ts, []byte(body+" ")), "another body")
}

// TestFirmarRotacion: during a rotation both secrets sign, and a receiver
// holding either one verifies.
func TestFirmarRotacion(t *testing.T) {
	oldS, newS := webhooks.NuevoSecreto(), webhooks.NuevoSecreto()
	require.True(t, strings.HasPrefix(newS, "whsec_"))
	require.NotEqual(t, oldS, newS)
	body := []byte(`{"a":1}`)
	h, err := webhooks.Firmar([]string{newS, oldS}, "ev1", 100, body)
	require.NoError(t, err)
	assert.Len(t, strings.Fields(h), 2)
	assert.True(t, webhooks.Verificar(oldS, h, "ev1", 100, body))
	assert.True(t, webhooks.Verificar(newS, h, "ev1", 100, body))
	assert.False(t, webhooks.Verificar(webhooks.NuevoSecreto(), h, "ev1", 100, body))
}

func TestBoveda(t *testing.T) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	b, err := webhooks.NuevaBoveda(key)
	require.NoError(t, err)
	s := webhooks.NuevoSecreto()
	stored := b.Cerrar(s)
	assert.NotContains(t, stored, s)
	assert.True(t, strings.HasPrefix(stored, "enc1:"))
	got, err := b.Abrir(stored)
	require.NoError(t, err)
	assert.Equal(t, s, got)

	plain, _ := webhooks.NuevaBoveda(nil)
	_, err = plain.Abrir(stored)
	assert.ErrorContains(t, err, "FACTORING_WEBHOOK_SECRET_KEY")
	other := make([]byte, 32)
	ob, _ := webhooks.NuevaBoveda(other)
	_, err = ob.Abrir(stored)
	assert.Error(t, err, "another key cannot read it")
	_, err = webhooks.NuevaBoveda([]byte("corta"))
	assert.Error(t, err)
}

func TestProhibida(t *testing.T) {
	for _, s := range []string{
		"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0", "100.64.0.1",
		"224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
		"64:ff9b::a00:1", "198.18.0.1",
	} {
		assert.True(t, webhooks.Prohibida(netip.MustParseAddr(s)), s)
	}
	for _, s := range []string{"8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "200.1.2.3"} {
		assert.False(t, webhooks.Prohibida(netip.MustParseAddr(s)), s)
	}
}

// fakeResolver answers every hostname with fixed addresses.
type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	return nil, &netDNSNotFound{}
}

type netDNSNotFound struct{}

func (netDNSNotFound) Error() string { return "no such host" }

func TestValidarURL(t *testing.T) {
	pol := webhooks.Politica{Resolver: fakeResolver{
		"hooks.ejemplo.cl": {netip.MustParseAddr("200.1.2.3")},
		"interno.ejemplo":  {netip.MustParseAddr("200.1.2.3"), netip.MustParseAddr("10.0.0.7")},
	}}
	ctx := context.Background()
	ok := []string{"https://hooks.ejemplo.cl/factoring", "https://8.8.8.8:8443/x?y=1"}
	for _, u := range ok {
		assert.NoError(t, webhooks.ValidarURL(ctx, pol, u), u)
	}
	bad := map[string]string{
		"http://hooks.ejemplo.cl/x":                "https",
		"ftp://hooks.ejemplo.cl/x":                 "https",
		"https://127.0.0.1/x":                      "127.0.0.1",
		"https://[::1]/x":                          "::1",
		"https://169.254.169.254/latest/meta-data": "169.254.169.254",
		"https://interno.ejemplo/x":                "resuelve a una dirección privada",
		"https://no-existe.ejemplo/x":              "no se pudo resolver",
		"https://user:pw@hooks.ejemplo.cl/x":       "usuario",
		"hooks.ejemplo.cl/x":                       "absoluta",
		"":                                         "obligatoria",
		"https://hooks.ejemplo.cl/" + strings.Repeat("a", 10_240): "2048",
	}
	for u, want := range bad {
		err := webhooks.ValidarURL(ctx, pol, u)
		ae, isApp := apperror.As(err)
		if assert.True(t, isApp, "%q: %v", u, err) {
			assert.Equal(t, apperror.Validation, ae.Code)
			assert.Contains(t, strings.ToLower(ae.Fields["url"]), strings.ToLower(want), u)
		}
	}
	insecure := webhooks.Politica{PermitirInseguro: true}
	assert.NoError(t, webhooks.ValidarURL(ctx, insecure, "http://127.0.0.1:8080/x"))
}

// TestEmisorSSRF: without allow-insecure the sender refuses to connect to
// a loopback address, whether given as an IP or as a name resolving to it
// (the check is at dial time, after DNS), and never follows a redirect.
func TestEmisorSSRF(t *testing.T) {
	hits := 0
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer srv.Close()
	port := srv.Listener.Addr().(interface{ AddrPort() netip.AddrPort }).AddrPort().Port()
	e := webhooks.NuevoEmisor(webhooks.OpcionesEmisor{Timeout: 2 * time.Second, RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig})
	env := webhooks.Envio{Secretos: []string{webhooks.NuevoSecreto()}, EventoID: "e1", Cuerpo: []byte("{}")}
	for _, u := range []string{srv.URL, "https://localhost:" + strconv.Itoa(int(port))} {
		env.URL = u
		r := e.Enviar(context.Background(), env)
		var pe *webhooks.DireccionProhibidaError
		require.ErrorAs(t, r.Err, &pe, u)
		assert.True(t, pe.Addr.IsLoopback())
	}
	env.URL = strings.Replace(srv.URL, "https", "http", 1)
	assert.ErrorContains(t, e.Enviar(context.Background(), env).Err, "https")
	assert.Zero(t, hits, "no request reached the server")

	// Redirects are attempts that failed, never followed.
	target := 0
	dst := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { target++ }))
	defer dst.Close()
	redir := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, dst.URL, http.StatusTemporaryRedirect)
	}))
	defer redir.Close()
	insecure := webhooks.NuevoEmisor(webhooks.OpcionesEmisor{PermitirInseguro: true, Timeout: 2 * time.Second})
	env.URL = redir.URL
	r := insecure.Enviar(context.Background(), env)
	assert.Equal(t, http.StatusTemporaryRedirect, r.Status)
	assert.ErrorContains(t, r.Err, "redirecciones")
	assert.Zero(t, target)
}

// TestEmisorCabeceras: one attempt carries the Standard Webhooks headers,
// verifiable with the secret, and a 2xx is a delivery.
func TestEmisorCabeceras(t *testing.T) {
	secret := webhooks.NuevoSecreto()
	var verified bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := make([]byte, r.ContentLength)
		_, _ = r.Body.Read(body)
		ts, _ := strconv.ParseInt(r.Header.Get(webhooks.HeaderTimestamp), 10, 64)
		verified = r.Header.Get(webhooks.HeaderID) == "ev-9" &&
			webhooks.Verificar(secret, r.Header.Get(webhooks.HeaderSignature), "ev-9", ts, body) &&
			r.Header.Get("Content-Type") == "application/json"
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	fixed := time.Unix(1_800_000_000, 0)
	e := webhooks.NuevoEmisor(webhooks.OpcionesEmisor{PermitirInseguro: true, Now: func() time.Time { return fixed }})
	r := e.Enviar(context.Background(), webhooks.Envio{URL: srv.URL, Secretos: []string{secret}, EventoID: "ev-9", Cuerpo: []byte(`{"x":1}`)})
	require.NoError(t, r.Err)
	assert.Equal(t, http.StatusNoContent, r.Status)
	assert.True(t, verified)
}
