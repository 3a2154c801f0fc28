package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/auth"
)

var (
	secret = []byte("0123456789abcdef0123456789abcdef") // 32 bytes
	now    = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
)

type tokenClaims struct {
	jwt.RegisteredClaims
	Roles []string `json:"roles"`
}

func validClaims() tokenClaims {
	return tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   "ana",
			Issuer:    "banpro",
			Audience:  jwt.ClaimStrings{"factoring-api"},
			IssuedAt:  jwt.NewNumericDate(now.Add(-time.Minute)),
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		},
		Roles: []string{"riesgo"},
	}
}

func sign(t *testing.T, m jwt.SigningMethod, key any, c tokenClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(key)
	require.NoError(t, err)
	return s
}

func verifier(t *testing.T, cfg auth.VerifierConfig) *auth.Verifier {
	t.Helper()
	cfg.Now = func() time.Time { return now }
	cfg.Leeway = 30 * time.Second
	v, err := auth.NewVerifier(cfg)
	require.NoError(t, err)
	return v
}

func TestVerifyAceptaTokensValidos(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)

	t.Run("hs256", func(t *testing.T) {
		v := verifier(t, auth.VerifierConfig{Secret: secret, Issuer: "banpro", Audience: "factoring-api"})
		p, err := v.Verify(sign(t, jwt.SigningMethodHS256, secret, validClaims()))
		require.NoError(t, err)
		assert.Equal(t, "ana", p.Subject)
		assert.Equal(t, []auth.Role{auth.Riesgo}, p.Roles)
	})
	t.Run("rs256", func(t *testing.T) {
		v := verifier(t, auth.VerifierConfig{PublicKey: &rsaKey.PublicKey})
		_, err := v.Verify(sign(t, jwt.SigningMethodRS256, rsaKey, validClaims()))
		require.NoError(t, err)
	})
	t.Run("es256", func(t *testing.T) {
		v := verifier(t, auth.VerifierConfig{PublicKey: &ecKey.PublicKey})
		_, err := v.Verify(sign(t, jwt.SigningMethodES256, ecKey, validClaims()))
		require.NoError(t, err)
	})
	t.Run("exp_dentro_de_la_tolerancia", func(t *testing.T) {
		c := validClaims()
		c.ExpiresAt = jwt.NewNumericDate(now.Add(-10 * time.Second))
		_, err := verifier(t, auth.VerifierConfig{Secret: secret}).Verify(sign(t, jwt.SigningMethodHS256, secret, c))
		require.NoError(t, err)
	})
	t.Run("emitido_por_IssueHS256", func(t *testing.T) {
		tok, err := auth.IssueHS256(secret, "luis", []auth.Role{auth.Lector, auth.Tesoreria}, time.Hour, "banpro", "factoring-api", now)
		require.NoError(t, err)
		p, err := verifier(t, auth.VerifierConfig{Secret: secret, Issuer: "banpro", Audience: "factoring-api"}).Verify(tok)
		require.NoError(t, err)
		assert.Equal(t, auth.Principal{Subject: "luis", Roles: []auth.Role{auth.Lector, auth.Tesoreria},
			Vence: now.Add(time.Hour + 30*time.Second)}, p, "Vence: exp plus the leeway, when the token stops being accepted")
	})
}

func TestVerifyRechaza(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	hsOnly := verifier(t, auth.VerifierConfig{Secret: secret, Issuer: "banpro", Audience: "factoring-api"})
	rsOnly := verifier(t, auth.VerifierConfig{PublicKey: &rsaKey.PublicKey})
	otherSecret := []byte("ffffffffffffffffffffffffffffffff")

	with := func(edit func(*tokenClaims)) tokenClaims {
		c := validClaims()
		edit(&c)
		return c
	}
	cases := []struct {
		name  string
		v     *auth.Verifier
		token string
	}{
		{"alg_none", hsOnly, sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, validClaims())},
		// The classic confusion: the RSA public key used as an HMAC secret.
		{"hs256_cuando_solo_se_configuro_rs256", rsOnly, sign(t, jwt.SigningMethodHS256, x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey), validClaims())},
		{"firma_incorrecta", hsOnly, sign(t, jwt.SigningMethodHS256, otherSecret, validClaims())},
		{"iss_incorrecto", hsOnly, sign(t, jwt.SigningMethodHS256, secret, with(func(c *tokenClaims) { c.Issuer = "otro" }))},
		{"aud_incorrecta", hsOnly, sign(t, jwt.SigningMethodHS256, secret, with(func(c *tokenClaims) { c.Audience = jwt.ClaimStrings{"otra-api"} }))},
		{"sin_exp", hsOnly, sign(t, jwt.SigningMethodHS256, secret, with(func(c *tokenClaims) { c.ExpiresAt = nil }))},
		{"exp_vencido", hsOnly, sign(t, jwt.SigningMethodHS256, secret, with(func(c *tokenClaims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute)) }))},
		{"nbf_futuro", hsOnly, sign(t, jwt.SigningMethodHS256, secret, with(func(c *tokenClaims) { c.NotBefore = jwt.NewNumericDate(now.Add(time.Minute)) }))},
		{"iat_futuro", hsOnly, sign(t, jwt.SigningMethodHS256, secret, with(func(c *tokenClaims) { c.IssuedAt = jwt.NewNumericDate(now.Add(time.Hour)) }))},
		{"sin_sub", hsOnly, sign(t, jwt.SigningMethodHS256, secret, with(func(c *tokenClaims) { c.Subject = "" }))},
		// The audit trail's own actor names: a token claiming them would
		// record its changes as the system's, or as nobody's.
		{"sub_reservado_sistema", hsOnly, sign(t, jwt.SigningMethodHS256, secret, with(func(c *tokenClaims) { c.Subject = "sistema" }))},
		{"sub_reservado_anonimo", hsOnly, sign(t, jwt.SigningMethodHS256, secret, with(func(c *tokenClaims) { c.Subject = "Anonimo" }))},
		{"sub_reservado_con_espacio", hsOnly, sign(t, jwt.SigningMethodHS256, secret, with(func(c *tokenClaims) { c.Subject = "sistema " }))},
		{"sub_reservado_ancho_completo", hsOnly, sign(t, jwt.SigningMethodHS256, secret, with(func(c *tokenClaims) { c.Subject = "ｓｉｓｔｅｍａ" }))},
		{"sub_reservado_en_cirilico", hsOnly, sign(t, jwt.SigningMethodHS256, secret, with(func(c *tokenClaims) { c.Subject = "ѕіѕтема" }))},
		{"sub_alfabetos_mezclados", hsOnly, sign(t, jwt.SigningMethodHS256, secret, with(func(c *tokenClaims) { c.Subject = "аna" }))},
		{"sub_con_control", hsOnly, sign(t, jwt.SigningMethodHS256, secret, with(func(c *tokenClaims) { c.Subject = "ana\u0000" }))},
		{"sub_con_invisible", hsOnly, sign(t, jwt.SigningMethodHS256, secret, with(func(c *tokenClaims) { c.Subject = "a\u200bna" }))},
		{"sub_mas_largo_que_la_columna", hsOnly, sign(t, jwt.SigningMethodHS256, secret, with(func(c *tokenClaims) { c.Subject = strings.Repeat("a", auth.MaxSubjectLen+1) }))},
		{"basura", hsOnly, "esto.no.es-un-jwt"},
		{"vacio", hsOnly, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.v.Verify(tc.token)
			require.Error(t, err)
			assert.True(t, errors.Is(err, auth.ErrToken))
			assert.Equal(t, tc.name == "exp_vencido", errors.Is(err, auth.ErrTokenExpired),
				"only a token that expired is reported as expired")
		})
	}
}

func TestClientMessageDistingueVencidoDeInvalido(t *testing.T) {
	v := verifier(t, auth.VerifierConfig{Secret: secret, Issuer: "banpro", Audience: "factoring-api"})
	expired := validClaims()
	expired.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute))
	_, errExpired := v.Verify(sign(t, jwt.SigningMethodHS256, secret, expired))
	_, errForged := v.Verify(sign(t, jwt.SigningMethodHS256, []byte("ffffffffffffffffffffffffffffffff"), expired))
	assert.Contains(t, auth.ClientMessage(errExpired), "venció")
	assert.NotContains(t, auth.ClientMessage(errForged), "venció",
		"a forged token is never said to be merely expired")
}

func TestVerifyNormalizaElSujeto(t *testing.T) {
	v := verifier(t, auth.VerifierConfig{Secret: secret, Issuer: "banpro", Audience: "factoring-api"})
	for _, sub := range []string{"ana", "ANA", "Ana", "ａｎａ"} {
		c := validClaims()
		c.Subject = sub
		p, err := v.Verify(sign(t, jwt.SigningMethodHS256, secret, c))
		require.NoError(t, err, sub)
		assert.Equal(t, "ana", p.Subject, "%q is the same person as ana", sub)
	}
	c := validClaims()
	c.Subject = strings.Repeat("a", auth.MaxSubjectLen)
	p, err := v.Verify(sign(t, jwt.SigningMethodHS256, secret, c))
	require.NoError(t, err, "a subject of exactly the maximum length is accepted")
	assert.Len(t, p.Subject, auth.MaxSubjectLen)
	c.Subject = strings.Repeat("á", auth.MaxSubjectLen)
	_, err = v.Verify(sign(t, jwt.SigningMethodHS256, secret, c))
	require.Error(t, err, "128 two-byte characters do not fit the audit column's 255 bytes")
}

func TestNormalizeSubject(t *testing.T) {
	ok := map[string]string{
		"ana@banpro.cl":      "ana@banpro.cl",
		"auth0|5f1e":         "auth0|5f1e",
		"José.Pérez":         "josé.pérez",
		"ＪＯＳＥ":               "jose",
		"1234567890":         "1234567890",
		"иван":               "иван",
		"analista-riesgo_01": "analista-riesgo_01",
		"ΣΟΦΙΑ":              "σοφια",
	}
	for in, want := range ok {
		got, err := auth.NormalizeSubject(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", " ana", "ana ", "an a", "ana\t", "ana\u00a0", "a\u200dna", "pаypal", "\xff"} {
		_, err := auth.NormalizeSubject(bad)
		assert.Error(t, err, "%q", bad)
	}
}

func TestSameSubject(t *testing.T) {
	assert.True(t, auth.SameSubject("ANA", "ana"))
	assert.True(t, auth.SameSubject("ana", "ａｎａ"))
	assert.False(t, auth.SameSubject("ana", "anabel"))
	assert.False(t, auth.SameSubject("ana", "аna"), "a Cyrillic look-alike is not ana")
}

func TestIssueHS256RechazaSujetosReservados(t *testing.T) {
	for _, sub := range []string{"sistema", "anonimo", "SISTEMA", "ѕіѕтема", "ａｎｏｎｉｍｏ"} {
		_, err := auth.IssueHS256(secret, sub, nil, time.Hour, "", "", now)
		require.Error(t, err, sub)
	}
}

func TestNewVerifier(t *testing.T) {
	t.Run("rechaza_secreto_corto", func(t *testing.T) {
		_, err := auth.NewVerifier(auth.VerifierConfig{Secret: []byte("corto")})
		require.Error(t, err)
	})
	t.Run("exige_alguna_clave", func(t *testing.T) {
		_, err := auth.NewVerifier(auth.VerifierConfig{})
		require.Error(t, err)
	})
	t.Run("rechaza_curva_distinta_de_p256", func(t *testing.T) {
		k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		require.NoError(t, err)
		_, err = auth.NewVerifier(auth.VerifierConfig{PublicKey: &k.PublicKey})
		require.Error(t, err)
	})
	t.Run("solo_los_algoritmos_configurados", func(t *testing.T) {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		v, err := auth.NewVerifier(auth.VerifierConfig{Secret: secret, PublicKey: &k.PublicKey})
		require.NoError(t, err)
		assert.Equal(t, []string{"HS256", "RS256"}, v.Methods())
	})
}

func TestLoadPublicKey(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "pub.pem")
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600))
	got, err := auth.LoadPublicKey(path)
	require.NoError(t, err)
	assert.True(t, k.PublicKey.Equal(got))

	require.NoError(t, os.WriteFile(path, []byte("no es PEM"), 0o600))
	_, err = auth.LoadPublicKey(path)
	require.Error(t, err)
}

func TestPermisos(t *testing.T) {
	// Ensure that the role table is the README's: every role reads, each adds
	// its own actions, admin does everything, unknown roles grant nothing.
	mutations := map[auth.Role][]auth.Permission{
		auth.Analista:  {"crearCliente", "actualizarCliente", "registrarFactura", "crearOperacion"},
		auth.Riesgo:    {"activarCliente", "suspenderCliente", "bloquearCliente", "ajustarLineaCredito", "aprobarOperacion", "rechazarOperacion"},
		auth.Tesoreria: {"desembolsarOperacion", "pagarFactura", "anularFactura", "finalizarOperacion"},
	}
	var all []auth.Permission
	for _, ms := range mutations {
		all = append(all, ms...)
	}
	require.Len(t, all, 14, "the 14 mutations of docs/api.md")
	for _, role := range auth.Roles() {
		p := auth.Principal{Subject: "x", Roles: []auth.Role{role}}
		assert.True(t, p.Can(auth.Consultar), "%s reads", role)
		for _, m := range all {
			want := role == auth.Admin
			for _, own := range mutations[role] {
				want = want || own == m
			}
			assert.Equal(t, want, p.Can(m), "%s %s", role, m)
		}
		// Searching the audit trail across entities is the auditor's (and
		// admin's) alone.
		assert.Equal(t, role == auth.Auditor || role == auth.Admin, p.Can(auth.ConsultarAuditoria), "%s auditoria", role)
	}
	assert.Equal(t, auth.ConsultarAuditoria, auth.QueryPermission("auditoria"))
	assert.Equal(t, auth.Consultar, auth.QueryPermission("clientes"))
	assert.False(t, auth.Principal{Subject: "x", Roles: []auth.Role{"superusuario"}}.Can(auth.Consultar))
	assert.False(t, auth.Principal{Subject: "x"}.Can(auth.Consultar))
	both := auth.Principal{Subject: "x", Roles: []auth.Role{auth.Analista, auth.Riesgo}}
	assert.True(t, both.Can("crearOperacion"))
	assert.True(t, both.Can("aprobarOperacion"))
}
