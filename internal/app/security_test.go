// Package app_test specifies the API's security end to end (issue
// "Security", acceptance): real servers built by app.NewServer, driven
// through HTTP and GraphQL only, over real databases.
package app_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/config"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/testkit"
)

// servir serves the API over db with authentication required (HS256 with
// testkit.Secret), as edit leaves the configuration, logging into log when
// not nil.
func servir(t *testing.T, db *database.DB, edit func(*config.Config), log io.Writer) *testkit.Client {
	t.Helper()
	cfg := testkit.WithAuth(testkit.Config(t))
	if edit != nil {
		edit(&cfg)
	}
	opts := testkit.ServeOptions{Config: &cfg}
	if log != nil {
		opts.Logger = slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	c, _ := testkit.Serve(t, db, opts)
	return c
}

// como posts query as the bearer of token ("" sends no Authorization).
func como(t *testing.T, c *testkit.Client, token, query string, vars map[string]any) testkit.Response {
	t.Helper()
	res := c.DoAs(token, query, vars)
	testkit.RequireNoLeaks(t, res)
	return res
}

// requireUnico asserts res carries exactly one error, of code, with a
// request id, and no data.
func requireUnico(t *testing.T, res testkit.Response, code apperror.Code) testkit.GQLError {
	t.Helper()
	e := testkit.RequireGQLError(t, res, code)
	testkit.RequireNullData(t, res)
	return e
}

// requireForbidden asserts an operation refused for the caller's roles
// before anything ran: 403, FORBIDDEN naming the refused fields.
func requireForbidden(t *testing.T, res testkit.Response, fields ...string) {
	t.Helper()
	require.Equal(t, http.StatusForbidden, res.Status, res.Raw)
	e := requireUnico(t, res, "FORBIDDEN")
	for _, f := range fields {
		assert.Contains(t, e.Message, f, res.Raw)
	}
	assert.Contains(t, res.Extensions, "cost", "a refused operation still reports its cost: %s", res.Raw)
}

// rol is a token's set of roles, by the name its subtests carry.
type rol struct {
	name  string
	roles []auth.Role
}

var roles = []rol{
	{"lector", []auth.Role{auth.Lector}},
	{"analista", []auth.Role{auth.Analista}},
	{"riesgo", []auth.Role{auth.Riesgo}},
	{"tesoreria", []auth.Role{auth.Tesoreria}},
	{"auditor", []auth.Role{auth.Auditor}},
	{"admin", []auth.Role{auth.Admin}},
	{"sin_roles", nil},
	{"rol_desconocido", []auth.Role{"superusuario"}},
}

// permitidas is the role table of the issue: every role reads; each adds
// its own mutations (roles do not include one another); admin does all.
var permitidas = map[string][]string{
	"analista": {"crearCliente", "actualizarCliente", "registrarFactura", "registrarAcuseFactura", "crearOperacion"},
	"riesgo": {"activarCliente", "suspenderCliente", "bloquearCliente", "ajustarLineaCredito", "fijarConcentracionMaxima",
		"aprobarOperacion", "rechazarOperacion", "actualizarDeudor", "fijarLineaExposicion", "bloquearDeudor", "activarDeudor"},
	"tesoreria": {"desembolsarOperacion", "pagarFactura", "anularFactura", "finalizarOperacion"},
}

// mutacion is one mutation of the API, ready to succeed: prepara lays out
// fresh rows on which it succeeds and returns its variables; want is a
// fragment of its data on success.
type mutacion struct {
	name    string
	query   string
	prepara func(t *testing.T, env *testkit.Env) map[string]any
	want    string
}

func ids(id int) string { return gid.Encode(id) }

var mutaciones = []mutacion{
	{"crearCliente", `mutation($input: CrearClienteInput!) { crearCliente(input: $input) { id estado } }`,
		func(t *testing.T, env *testkit.Env) map[string]any {
			return map[string]any{"input": map[string]any{
				"rut": testkit.NewRUT(), "razonSocial": "Nueva Empresa SpA", "email": "finanzas@nueva.cl", "lineaCredito": "1000000",
			}}
		}, `"estado":"PENDIENTE"`},
	{"actualizarCliente", `mutation($id: ID!, $input: ActualizarClienteInput!) { actualizarCliente(id: $id, input: $input) { id razonSocial } }`,
		func(t *testing.T, env *testkit.Env) map[string]any {
			return map[string]any{"id": ids(env.MustCrearCliente(t, "1000000").ID), "input": map[string]any{"razonSocial": "Razón Nueva SpA"}}
		}, `"razonSocial":"Razón Nueva SpA"`},
	{"ajustarLineaCredito", `mutation($id: ID!) { ajustarLineaCredito(id: $id, lineaCredito: "2500000") { id lineaCredito } }`,
		func(t *testing.T, env *testkit.Env) map[string]any {
			return map[string]any{"id": ids(env.MustCrearClienteActivo(t, "1000000").ID)}
		}, `"lineaCredito":"2500000.00"`},
	{"activarCliente", `mutation($id: ID!) { activarCliente(id: $id) { id estado } }`,
		func(t *testing.T, env *testkit.Env) map[string]any {
			return map[string]any{"id": ids(env.MustCrearCliente(t, "1000000").ID)}
		}, `"estado":"ACTIVO"`},
	{"suspenderCliente", `mutation($id: ID!) { suspenderCliente(id: $id, motivo: "Revisión de antecedentes") { id estado } }`,
		func(t *testing.T, env *testkit.Env) map[string]any {
			return map[string]any{"id": ids(env.MustCrearClienteActivo(t, "1000000").ID)}
		}, `"estado":"SUSPENDIDO"`},
	{"bloquearCliente", `mutation($id: ID!) { bloquearCliente(id: $id, motivo: "Fraude comprobado") { id estado } }`,
		func(t *testing.T, env *testkit.Env) map[string]any {
			return map[string]any{"id": ids(env.MustCrearClienteActivo(t, "1000000").ID)}
		}, `"estado":"BLOQUEADO"`},
	{"registrarFactura", `mutation($input: RegistrarFacturaInput!) { registrarFactura(input: $input) { id estado } }`,
		func(t *testing.T, env *testkit.Env) map[string]any {
			in := testkit.FacturaInput(env.MustCrearClienteActivo(t, "1000000").ID, "300000.00", testkit.Vence(90))
			return map[string]any{"input": map[string]any{
				"clienteId": ids(in.ClienteID), "numeroFactura": in.NumeroFactura, "rutDeudor": in.RutDeudor,
				"razonSocialDeudor": in.RazonSocialDeudor, "montoTotal": in.MontoTotal.StringFixed(2),
				"fechaEmision": in.FechaEmision.Format(time.DateOnly), "fechaVencimiento": in.FechaVencimiento.Format(time.DateOnly),
			}}
		}, `"estado":"DISPONIBLE"`},
	{"pagarFactura", `mutation($id: ID!) { pagarFactura(id: $id) { id estado } }`,
		func(t *testing.T, env *testkit.Env) map[string]any {
			c := env.MustCrearClienteActivo(t, "1000000")
			return map[string]any{"id": ids(env.MustRegistrarFactura(t, c.ID, "1000.00", testkit.Vence(30)).ID)}
		}, `"estado":"PAGADA"`},
	{"anularFactura", `mutation($id: ID!) { anularFactura(id: $id, motivo: "Emitida por error") { id estado } }`,
		func(t *testing.T, env *testkit.Env) map[string]any {
			c := env.MustCrearClienteActivo(t, "1000000")
			return map[string]any{"id": ids(env.MustRegistrarFactura(t, c.ID, "1000.00", testkit.Vence(30)).ID)}
		}, `"estado":"ANULADA"`},
	{"crearOperacion", `mutation($input: CrearOperacionInput!) { crearOperacion(input: $input) { id estado } }`,
		func(t *testing.T, env *testkit.Env) map[string]any {
			c := env.MustCrearClienteActivo(t, "1000000")
			f := env.MustRegistrarFactura(t, c.ID, "1000.00", testkit.Vence(30))
			return map[string]any{"input": map[string]any{"clienteId": ids(c.ID), "facturaIds": []string{ids(f.ID)}}}
		}, `"estado":"PENDIENTE"`},
	{"aprobarOperacion", `mutation($id: ID!) { aprobarOperacion(id: $id) { id estado } }`,
		func(t *testing.T, env *testkit.Env) map[string]any {
			op, _ := env.MustOperacionPendiente(t, env.MustCrearClienteActivo(t, "1000000").ID, "1000.00")
			return map[string]any{"id": ids(op.ID)}
		}, `"estado":"APROBADA"`},
	{"rechazarOperacion", `mutation($id: ID!) { rechazarOperacion(id: $id, motivo: "Deudor con mora") { id estado } }`,
		func(t *testing.T, env *testkit.Env) map[string]any {
			op, _ := env.MustOperacionPendiente(t, env.MustCrearClienteActivo(t, "1000000").ID, "1000.00")
			return map[string]any{"id": ids(op.ID)}
		}, `"estado":"RECHAZADA"`},
	{"desembolsarOperacion", `mutation($id: ID!) { desembolsarOperacion(id: $id) { id estado } }`,
		func(t *testing.T, env *testkit.Env) map[string]any {
			op, _ := aprobada(t, env)
			return map[string]any{"id": ids(op.ID)}
		}, `"estado":"DESEMBOLSADA"`},
	{"finalizarOperacion", `mutation($id: ID!) { finalizarOperacion(id: $id) { id estado } }`,
		func(t *testing.T, env *testkit.Env) map[string]any {
			op, fs := aprobada(t, env)
			env.MustPagarTodas(t, fs...)
			return map[string]any{"id": ids(op.ID)}
		}, `"estado":"FINALIZADA"`},
	{"fijarConcentracionMaxima", `mutation($id: ID!) { fijarConcentracionMaxima(clienteId: $id, porcentaje: "30") { id concentracionMaxima } }`,
		func(t *testing.T, env *testkit.Env) map[string]any {
			return map[string]any{"id": ids(env.MustCrearClienteActivo(t, "1000000").ID)}
		}, `"concentracionMaxima":"30.00"`},
	{"registrarAcuseFactura", `mutation($id: ID!) { registrarAcuseFactura(id: $id, estado: ACEPTADA) { id estadoAcuse } }`,
		func(t *testing.T, env *testkit.Env) map[string]any {
			c := env.MustCrearClienteActivo(t, "1000000")
			return map[string]any{"id": ids(env.MustRegistrarFactura(t, c.ID, "1000.00", testkit.Vence(30)).ID)}
		}, `"estadoAcuse":"ACEPTADA"`},
	{"actualizarDeudor", `mutation($id: ID!) { actualizarDeudor(id: $id, input: {razonSocial: "Deudor Nuevo SpA"}) { id razonSocial } }`,
		func(t *testing.T, env *testkit.Env) map[string]any {
			return map[string]any{"id": ids(env.MustCrearDeudor(t).ID)}
		}, `"razonSocial":"Deudor Nuevo SpA"`},
	{"fijarLineaExposicion", `mutation($id: ID!) { fijarLineaExposicion(id: $id, lineaExposicion: "5000000") { id lineaExposicion } }`,
		func(t *testing.T, env *testkit.Env) map[string]any {
			return map[string]any{"id": ids(env.MustCrearDeudor(t).ID)}
		}, `"lineaExposicion":"5000000.00"`},
	{"bloquearDeudor", `mutation($id: ID!) { bloquearDeudor(id: $id, motivo: "Quiebra") { id estado } }`,
		func(t *testing.T, env *testkit.Env) map[string]any {
			return map[string]any{"id": ids(env.MustCrearDeudor(t).ID)}
		}, `"estado":"BLOQUEADO"`},
	{"activarDeudor", `mutation($id: ID!) { activarDeudor(id: $id) { id estado } }`,
		func(t *testing.T, env *testkit.Env) map[string]any {
			d := env.MustCrearDeudor(t)
			_, err := env.Svc.Deudores.Bloquear(env.Ctx, d.ID, "Quiebra")
			require.NoError(t, err)
			return map[string]any{"id": ids(d.ID)}
		}, `"estado":"ACTIVO"`},
}

// aprobada lays out an APROBADA operación: created by env's subject,
// approved by another one (the four-eyes rule).
func aprobada(t *testing.T, env *testkit.Env) (*ent.Operacion, []int) {
	t.Helper()
	op, fs := env.MustOperacionPendiente(t, env.MustCrearClienteActivo(t, "1000000").ID, "1000.00")
	op, err := env.Svc.Operaciones.Aprobar(auth.NewContext(context.Background(), auth.Principal{Subject: "aprobador"}), op.ID)
	require.NoError(t, err)
	return op, fs
}

// preparador is the subject the preconditions are laid out as: the
// operaciones the matrix approves were created by someone else than any
// token of the matrix.
const preparador = "preparador"

// TestMatrizDeRolesPorMutacion calls every mutation with every role, each
// on fresh rows where the call can succeed: the roles the table allows
// succeed; every other one is refused with 403 FORBIDDEN before anything
// runs (no SQL statement) and nothing changes.
func TestMatrizDeRolesPorMutacion(t *testing.T) {
	require.Len(t, mutaciones, 20, "every mutation of the API")
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		env.Ctx = auth.NewContext(context.Background(), auth.Principal{Subject: preparador})
		c := servir(t, db, nil, nil)
		for _, m := range mutaciones {
			t.Run(m.name, func(t *testing.T) {
				for _, r := range roles {
					t.Run(r.name, func(t *testing.T) {
						vars := m.prepara(t, env)
						token := testkit.Token(t, "usuario-"+r.name, r.roles...)
						allowed := r.name == "admin" || slices.Contains(permitidas[r.name], m.name)
						before := env.Snapshot(t)
						if allowed {
							res := como(t, c, token, m.query, vars)
							require.Equal(t, http.StatusOK, res.Status, res.Raw)
							require.Empty(t, res.Errors, res.Raw)
							assert.Contains(t, string(res.Data), m.want, res.Raw)
							return
						}
						res := testkit.RequireNoSQL(t, db, func() testkit.Response { return como(t, c, token, m.query, vars) })
						requireForbidden(t, res, m.name)
						assert.Equal(t, before, env.Snapshot(t), "a refused mutation changes nothing")
					})
				}
			})
		}
	})
}

// TestConsultasRequierenLector: every query (node and nodes included)
// needs a role; every role reads; no role, or only unknown ones, is
// FORBIDDEN before anything runs.
func TestConsultasRequierenLector(t *testing.T) {
	db := testkit.SQLite(t)
	env := testkit.NewEnv(t, db)
	cl := env.MustCrearClienteActivo(t, "1000000")
	op, fs := env.MustOperacionPendiente(t, cl.ID, "1000.00")
	c := servir(t, db, nil, nil)
	vars := map[string]any{"c": ids(cl.ID), "f": ids(fs[0]), "o": ids(op.ID)}
	consultas := map[string]string{
		"clientes":          `{ clientes { totalCount } }`,
		"cliente":           `query($c: ID!) { cliente(id: $c) { id } }`,
		"clientePorRut":     `query { clientePorRut(rut: "` + cl.Rut + `") { id } }`,
		"node":              `query($c: ID!) { node(id: $c) { id } }`,
		"nodes":             `query($c: ID!, $f: ID!, $o: ID!) { nodes(ids: [$c, $f, $o]) { id } }`,
		"factura":           `query($f: ID!) { factura(id: $f) { id } }`,
		"facturas":          `{ facturas { totalCount } }`,
		"operacion":         `query($o: ID!) { operacion(id: $o) { id } }`,
		"operaciones":       `{ operaciones { totalCount } }`,
		"deudores":          `{ deudores { totalCount edges { node { exposicion } } } }`,
		"deudorPorRut":      `query { deudorPorRut(rut: "` + env.DeudorDe(t, fs[0]).Rut + `") { id } }`,
		"conteoClientes":    `{ conteoClientes { valor exacto } }`,
		"conteoFacturas":    `{ conteoFacturas(where: { estado: EN_PROCESO }) { valor exacto } }`,
		"conteoOperaciones": `{ conteoOperaciones(hasta: 10) { valor exacto } }`,
		"conteoDeudores":    `{ conteoDeudores { valor exacto } }`,
		"en_fragmento":      "{ ...Q }\nfragment Q on Query { clientes { totalCount } }",
		"en_linea":          `{ ... on Query { clientes { totalCount } } }`,
		"introspeccion":     `{ __schema { queryType { name } } }`,
	}
	for name, q := range consultas {
		t.Run(name, func(t *testing.T) {
			used := map[string]any{}
			for k, v := range vars {
				if strings.Contains(q, "$"+k) {
					used[k] = v
				}
			}
			for _, r := range roles {
				token := testkit.Token(t, "usuario-"+r.name, r.roles...)
				if r.name == "sin_roles" || r.name == "rol_desconocido" {
					res := testkit.RequireNoSQL(t, db, func() testkit.Response { return como(t, c, token, q, used) })
					requireForbidden(t, res)
					continue
				}
				res := como(t, c, token, q, used)
				require.Equal(t, http.StatusOK, res.Status, "%s: %s", r.name, res.Raw)
				require.Empty(t, res.Errors, "%s: %s", r.name, res.Raw)
			}
		})
	}
	t.Run("__typename_no_revela_nada_y_no_pide_rol", func(t *testing.T) {
		res := como(t, c, testkit.Token(t, "nadie"), `{ __typename }`, nil)
		require.Empty(t, res.Errors, res.Raw)
		assert.JSONEq(t, `{"__typename":"Query"}`, string(res.Data))
	})
}

// TestUnaOperacionSeRechazaEntera: one root field the caller may not use
// refuses the whole document, so nothing runs halfway; however the
// mutation is reached (fragments, several roles).
func TestUnaOperacionSeRechazaEntera(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		env.Ctx = auth.NewContext(context.Background(), auth.Principal{Subject: preparador})
		c := servir(t, db, nil, nil)
		analista := testkit.Token(t, "ana", auth.Analista)
		crear := map[string]any{"rut": testkit.NewRUT(), "razonSocial": "Mitad SpA", "email": "a@mitad.cl", "lineaCredito": "1000"}

		t.Run("una_permitida_y_otra_no", func(t *testing.T) {
			op, _ := env.MustOperacionPendiente(t, env.MustCrearClienteActivo(t, "1000000").ID, "1000.00")
			before := env.Snapshot(t)
			q := `mutation($in: CrearClienteInput!, $o: ID!) { crearCliente(input: $in) { id } aprobarOperacion(id: $o) { id } }`
			res := testkit.RequireNoSQL(t, db, func() testkit.Response {
				return como(t, c, analista, q, map[string]any{"in": crear, "o": ids(op.ID)})
			})
			requireForbidden(t, res, "aprobarOperacion")
			assert.NotContains(t, res.Errors[0].Message, "crearCliente", "only the refused field is named")
			assert.Equal(t, before, env.Snapshot(t))
		})
		t.Run("mutacion_en_un_fragmento", func(t *testing.T) {
			q := "mutation($in: CrearClienteInput!) { ...M }\nfragment M on Mutation { crearCliente(input: $in) { id } }"
			res := testkit.RequireNoSQL(t, db, func() testkit.Response {
				return como(t, c, testkit.Token(t, "luis", auth.Lector), q, map[string]any{"in": crear})
			})
			requireForbidden(t, res, "crearCliente")
		})
		t.Run("varios_roles_suman", func(t *testing.T) {
			both := testkit.Token(t, "multi", auth.Analista, auth.Tesoreria)
			cl := env.MustCrearClienteActivo(t, "1000000")
			f := env.MustRegistrarFactura(t, cl.ID, "1000.00", testkit.Vence(30))
			q := `mutation($in: CrearClienteInput!, $f: ID!) { crearCliente(input: $in) { id } pagarFactura(id: $f) { estado } }`
			res := como(t, c, both, q, map[string]any{"in": crear, "f": ids(f.ID)})
			require.Empty(t, res.Errors, res.Raw)
			op, _ := env.MustOperacionPendiente(t, cl.ID, "1000.00")
			res = testkit.RequireNoSQL(t, db, func() testkit.Response {
				return como(t, c, both, `mutation($o: ID!) { aprobarOperacion(id: $o) { id } }`, map[string]any{"o": ids(op.ID)})
			})
			requireForbidden(t, res, "aprobarOperacion")
		})
	})
}

// claims are the claims of the tokens these tests sign by hand.
type claims struct {
	jwt.RegisteredClaims
	Roles []string `json:"roles"`
}

// firmar signs c with method and key.
func firmar(t *testing.T, method jwt.SigningMethod, key any, c claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, c).SignedString(key)
	require.NoError(t, err)
	return s
}

// escribirPEM writes the PKIX PEM of a public key to a temp file and
// returns its path and bytes.
func escribirPEM(t *testing.T, pub any) (string, []byte) {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	b := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	path := filepath.Join(t.TempDir(), "clave.pem")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return path, b
}

const (
	emisor    = "https://idp.banpro.cl"
	audiencia = "factoring-api"
)

// TestJWTPorHTTP sends every kind of bad credential to /graphql: each is
// answered 401 UNAUTHENTICATED with WWW-Authenticate: Bearer before any
// SQL runs; good RS256, ES256 and HS256 tokens are accepted; no token ever
// reaches the log.
func TestJWTPorHTTP(t *testing.T) {
	db := testkit.SQLite(t)
	testkit.NewEnv(t, db).MustCrearClienteActivo(t, "1000000")
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	otraRSA, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	rsaPath, rsaPEM := escribirPEM(t, &rsaKey.PublicKey)
	ecPath, _ := escribirPEM(t, &ecKey.PublicKey)
	rsaDER, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	require.NoError(t, err)

	var logs testkit.SyncBuffer
	hs := servir(t, db, func(cfg *config.Config) {
		cfg.JWTIssuer, cfg.JWTAudience = emisor, audiencia
	}, &logs)
	soloRS := servir(t, db, func(cfg *config.Config) {
		cfg.JWTSecret, cfg.JWTPublicKeyFile = nil, rsaPath
	}, &logs)
	soloES := servir(t, db, func(cfg *config.Config) {
		cfg.JWTSecret, cfg.JWTPublicKeyFile = nil, ecPath
	}, &logs)

	ambos := servir(t, db, func(cfg *config.Config) { cfg.JWTPublicKeyFile = rsaPath }, &logs)

	now := time.Now()
	valid := func(edit func(*claims)) claims {
		c := claims{
			RegisteredClaims: jwt.RegisteredClaims{
				Subject:   "ana",
				Issuer:    emisor,
				Audience:  jwt.ClaimStrings{audiencia},
				IssuedAt:  jwt.NewNumericDate(now.Add(-time.Minute)),
				ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
			},
			Roles: []string{"lector"},
		}
		if edit != nil {
			edit(&c)
		}
		return c
	}
	hs256 := func(edit func(*claims)) string { return firmar(t, jwt.SigningMethodHS256, testkit.Secret, valid(edit)) }
	const query = `{ clientes { totalCount } }`
	var used []string // every token sent, to look for in the log

	rechazos := []struct {
		name   string
		srv    *testkit.Client
		header string // the whole Authorization header; "" sends none
	}{
		{"sin_cabecera", hs, ""},
		{"esquema_basic", hs, "Basic YW5hOnNlY3JldG8="},
		{"bearer_vacio", hs, "Bearer "},
		{"token_sin_esquema", hs, hs256(nil)},
		{"alg_none", hs, "Bearer " + firmar(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid(nil))},
		{"firma_incorrecta", hs, "Bearer " + firmar(t, jwt.SigningMethodHS256, []byte("otro-secreto-de-32-bytes-exactos"), valid(nil))},
		{"firma_alterada", hs, "Bearer " + hs256(nil)[:len(hs256(nil))-4] + "AAAA"},
		{"iss_incorrecto", hs, "Bearer " + hs256(func(c *claims) { c.Issuer = "https://otro.idp" })},
		{"sin_iss", hs, "Bearer " + hs256(func(c *claims) { c.Issuer = "" })},
		{"aud_incorrecta", hs, "Bearer " + hs256(func(c *claims) { c.Audience = jwt.ClaimStrings{"otra-api"} })},
		{"sin_aud", hs, "Bearer " + hs256(func(c *claims) { c.Audience = nil })},
		{"sin_exp", hs, "Bearer " + hs256(func(c *claims) { c.ExpiresAt = nil })},
		{"exp_vencido_mas_alla_de_la_tolerancia", hs, "Bearer " + hs256(func(c *claims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-2 * time.Minute)) })},
		{"nbf_futuro", hs, "Bearer " + hs256(func(c *claims) { c.NotBefore = jwt.NewNumericDate(now.Add(2 * time.Minute)) })},
		{"iat_futuro", hs, "Bearer " + hs256(func(c *claims) { c.IssuedAt = jwt.NewNumericDate(now.Add(time.Hour)) })},
		{"sin_sub", hs, "Bearer " + hs256(func(c *claims) { c.Subject = "" })},
		{"basura", hs, "Bearer esto-no-es-un-jwt-7f3a9c"},
		{"tres_segmentos_basura", hs, "Bearer aGVsbG8.d29ybGQ.Zm9v"},
		{"rs256_sin_clave_publica", hs, "Bearer " + firmar(t, jwt.SigningMethodRS256, rsaKey, valid(nil))},
		// Algorithm confusion: HS256 signed with the public key, as a
		// verifier that trusts the token's alg would check it.
		{"hs256_con_la_clave_publica_pem", soloRS, "Bearer " + firmar(t, jwt.SigningMethodHS256, rsaPEM, valid(nil))},
		{"hs256_con_la_clave_publica_der", soloRS, "Bearer " + firmar(t, jwt.SigningMethodHS256, rsaDER, valid(nil))},
		{"hs256_cuando_solo_hay_rs256", soloRS, "Bearer " + hs256(nil)},
		{"rs256_de_otra_clave", soloRS, "Bearer " + firmar(t, jwt.SigningMethodRS256, otraRSA, valid(nil))},
		{"es256_cuando_solo_hay_rs256", soloRS, "Bearer " + firmar(t, jwt.SigningMethodES256, ecKey, valid(nil))},
		{"rs256_cuando_solo_hay_es256", soloES, "Bearer " + firmar(t, jwt.SigningMethodRS256, rsaKey, valid(nil))},
		{"ps256_misma_clave_rsa", soloRS, "Bearer " + firmar(t, jwt.SigningMethodPS256, rsaKey, valid(nil))},
		// With a secret and a public key, HS256 is checked with the secret
		// only, never with the public key.
		{"hs256_con_la_clave_publica_habiendo_secreto", ambos, "Bearer " + firmar(t, jwt.SigningMethodHS256, rsaPEM, valid(nil))},
	}
	for _, tc := range rechazos {
		t.Run(tc.name, func(t *testing.T) {
			if tok, ok := strings.CutPrefix(tc.header, "Bearer "); ok && len(tok) > 10 {
				used = append(used, tok)
			} else if strings.Count(tc.header, ".") == 2 && !strings.Contains(tc.header, " ") {
				used = append(used, tc.header) // a token sent without its scheme
			}
			for _, method := range []string{http.MethodPost, http.MethodGet} {
				var req *http.Request
				if method == http.MethodPost {
					req, err = http.NewRequest(method, tc.srv.URL()+"/graphql", strings.NewReader(`{"query":"`+query+`"}`))
					require.NoError(t, err)
					req.Header.Set("Content-Type", "application/json")
				} else {
					req, err = http.NewRequest(method, tc.srv.URL()+"/graphql?query="+strings.ReplaceAll(query, " ", "+"), nil)
					require.NoError(t, err)
				}
				if tc.header != "" {
					req.Header.Set("Authorization", tc.header)
				}
				res := testkit.RequireNoSQL(t, db, func() testkit.Response { return tc.srv.Send(req) })
				require.Equal(t, http.StatusUnauthorized, res.Status, "%s: %s", method, res.Raw)
				assert.True(t, strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer"), res.Header.Get("WWW-Authenticate"))
				e := requireUnico(t, res, "UNAUTHENTICATED")
				testkit.RequireNoLeaks(t, res)
				if tok, ok := strings.CutPrefix(tc.header, "Bearer "); ok && tok != "" {
					assert.NotContains(t, res.Raw, tok)
				}
				assert.NotEmpty(t, e.Message)
			}
		})
	}

	aceptados := []struct {
		name  string
		srv   *testkit.Client
		token string
	}{
		{"hs256", hs, hs256(nil)},
		{"hs256_exp_dentro_de_la_tolerancia", hs, hs256(func(c *claims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-10 * time.Second)) })},
		{"hs256_nbf_dentro_de_la_tolerancia", hs, hs256(func(c *claims) { c.NotBefore = jwt.NewNumericDate(now.Add(10 * time.Second)) })},
		{"rs256", soloRS, firmar(t, jwt.SigningMethodRS256, rsaKey, valid(nil))},
		{"es256", soloES, firmar(t, jwt.SigningMethodES256, ecKey, valid(nil))},
		{"hs256_habiendo_tambien_clave_publica", ambos, hs256(nil)},
		{"rs256_habiendo_tambien_secreto", ambos, firmar(t, jwt.SigningMethodRS256, rsaKey, valid(nil))},
	}
	for _, tc := range aceptados {
		t.Run("acepta_"+tc.name, func(t *testing.T) {
			used = append(used, tc.token)
			res := como(t, tc.srv, tc.token, query, nil)
			require.Equal(t, http.StatusOK, res.Status, res.Raw)
			require.Empty(t, res.Errors, res.Raw)
			assert.JSONEq(t, `{"clientes":{"totalCount":1}}`, string(res.Data))
		})
	}
	t.Run("esquema_en_minusculas", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodPost, hs.URL()+"/graphql", strings.NewReader(`{"query":"`+query+`"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "bearer "+hs256(nil))
		res := hs.Send(req)
		require.Equal(t, http.StatusOK, res.Status, res.Raw)
	})

	t.Run("ningun_token_llega_al_log", func(t *testing.T) {
		out := logs.String()
		require.Contains(t, out, "token rechazado", "rejections are logged, for whoever runs the server")
		for _, tok := range used {
			assert.NotContains(t, out, tok)
			parts := strings.Split(tok, ".")
			if sig := parts[len(parts)-1]; len(sig) > 8 {
				assert.NotContains(t, out, sig, "a token's signature in the log")
			}
		}
		assert.NotContains(t, out, "YW5hOnNlY3JldG8=")
		assert.NotContains(t, out, "esto-no-es-un-jwt-7f3a9c")
	})
}

// TestRutasAbiertasYCerradas: /healthz, /readyz and the playground (page
// and assets) answer without a token; /graphql and /schema.graphql do not,
// however the path is spelled.
func TestRutasAbiertasYCerradas(t *testing.T) {
	db := testkit.SQLite(t)
	c := servir(t, db, nil, nil)
	get := func(path, token string) testkit.Response {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, c.URL()+path, nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return c.Send(req)
	}
	for path, want := range map[string]string{
		"/healthz":                            `"ok"`,
		"/readyz":                             `"ok"`,
		"/playground":                         "<html",
		"/playground/assets/graphiql.min.css": "graphiql",
	} {
		t.Run("abierta"+path, func(t *testing.T) {
			res, err := http.Get(c.URL() + path)
			require.NoError(t, err)
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, res.StatusCode, path)
			assert.Contains(t, strings.ToLower(string(body)), strings.ToLower(want))
		})
	}
	t.Run("raiz_lleva_al_playground", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodGet, c.URL()+"/", nil)
		require.NoError(t, err)
		res, err := http.DefaultTransport.RoundTrip(req)
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, http.StatusFound, res.StatusCode)
		assert.Equal(t, "/playground", res.Header.Get("Location"))
	})
	for _, path := range []string{"/graphql", "/schema.graphql", "/graphql?query=%7B__typename%7D", "/%67raphql?query=%7B__typename%7D", "/schema%2Egraphql"} {
		t.Run("cerrada"+path, func(t *testing.T) {
			res := testkit.RequireNoSQL(t, db, func() testkit.Response { return get(path, "") })
			require.Equal(t, http.StatusUnauthorized, res.Status, res.Raw)
			requireUnico(t, res, "UNAUTHENTICATED")
			assert.NotContains(t, res.Raw, "type Cliente")
		})
	}
	t.Run("schema.graphql_con_token", func(t *testing.T) {
		res := get("/schema.graphql", testkit.Token(t, "luis", auth.Lector))
		require.Equal(t, http.StatusOK, res.Status)
		assert.Contains(t, res.Raw, "type Cliente")
	})
	t.Run("otras_grafias_no_sirven_graphql", func(t *testing.T) {
		for _, path := range []string{"/graphql/", "/GRAPHQL", "/graphql/x"} {
			res := get(path+"?query=%7B__typename%7D", "")
			assert.NotEqual(t, http.StatusOK, res.Status, path)
			assert.NotContains(t, res.Raw, `"__typename"`, path)
		}
	})
	t.Run("options_no_ejecuta_nada", func(t *testing.T) {
		// OPTIONS passes without a token (CORS preflights carry none):
		// it must never run what its body asks for.
		body := `{"query":"mutation { crearCliente(input: {rut: \"76.086.428-5\", razonSocial: \"X\", email: \"x@x.cl\", lineaCredito: \"1\"}) { id } }"}`
		req, err := http.NewRequest(http.MethodOptions, c.URL()+"/graphql", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		res := testkit.RequireNoSQL(t, db, func() testkit.Response { return c.Send(req) })
		assert.Less(t, res.Status, 300, res.Raw)
		assert.NotContains(t, res.Raw, "crearCliente")
	})
	t.Run("head_en_graphql", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodHead, c.URL()+"/graphql?query=%7B__typename%7D", nil)
		require.NoError(t, err)
		res := c.Send(req)
		assert.Equal(t, http.StatusUnauthorized, res.Status)
	})
}

// TestActorDeLosEventos: with authentication the events record the token's
// subject as the actor; with authentication disabled, anonimo.
func TestActorDeLosEventos(t *testing.T) {
	const eventos = `query($o: ID!) { operacion(id: $o) { eventos { edges { node { tipo actor } } } } }`
	type evs struct {
		Operacion struct {
			Eventos struct {
				Edges []struct{ Node struct{ Tipo, Actor string } }
			}
		}
	}
	actores := func(t *testing.T, res testkit.Response) []string {
		t.Helper()
		require.Empty(t, res.Errors, res.Raw)
		var out evs
		require.NoError(t, json.Unmarshal(res.Data, &out))
		var got []string
		for _, e := range out.Operacion.Eventos.Edges {
			got = append(got, e.Node.Tipo+":"+e.Node.Actor)
		}
		return got
	}
	crear := `mutation($in: CrearOperacionInput!) { crearOperacion(input: $in) { id } }`
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		preparar := func() map[string]any {
			cl := env.MustCrearClienteActivo(t, "1000000")
			f := env.MustRegistrarFactura(t, cl.ID, "1000.00", testkit.Vence(30))
			return map[string]any{"in": map[string]any{"clienteId": ids(cl.ID), "facturaIds": []string{ids(f.ID)}}}
		}
		opID := func(res testkit.Response) string {
			require.Empty(t, res.Errors, res.Raw)
			var out struct{ CrearOperacion struct{ ID string } }
			require.NoError(t, json.Unmarshal(res.Data, &out))
			return out.CrearOperacion.ID
		}

		t.Run("con_autenticacion_el_sujeto", func(t *testing.T) {
			c := servir(t, db, nil, nil)
			ana := testkit.Token(t, "ana.perez@banpro.cl", auth.Analista)
			beto := testkit.Token(t, "beto", auth.Riesgo)
			o := opID(como(t, c, ana, crear, preparar()))
			res := como(t, c, beto, `mutation($o: ID!) { aprobarOperacion(id: $o) { id } }`, map[string]any{"o": o})
			require.Empty(t, res.Errors, res.Raw)
			got := actores(t, como(t, c, beto, eventos, map[string]any{"o": o}))
			assert.Equal(t, []string{"CREADA:ana.perez@banpro.cl", "APROBADA:beto"}, got)
		})
		t.Run("sin_autenticacion_anonimo", func(t *testing.T) {
			c, _ := testkit.Serve(t, db, testkit.ServeOptions{}) // testkit's default: auth off
			o := opID(como(t, c, "", crear, preparar()))
			res := como(t, c, "", `mutation($o: ID!) { aprobarOperacion(id: $o) { id } }`, map[string]any{"o": o})
			require.Empty(t, res.Errors, res.Raw)
			got := actores(t, como(t, c, "", eventos, map[string]any{"o": o}))
			assert.Equal(t, []string{"CREADA:anonimo", "APROBADA:anonimo"}, got)
		})
	})
}

// TestLimitesDesdeElEntorno: the FACTORING_MAX_* variables reach the
// server: each configured limit passes at its value and refuses one more,
// with its code. A value that would mean "no limit" is refused at start.
func TestLimitesDesdeElEntorno(t *testing.T) {
	db := testkit.SQLite(t)
	env := map[string]string{
		"FACTORING_MAX_DEPTH":      "4",
		"FACTORING_MAX_COMPLEXITY": "120",
		"FACTORING_MAX_ALIASES":    "2",
		"FACTORING_MAX_TOKENS":     "100",
		"FACTORING_INTROSPECTION":  "false",
	}
	cfg, err := config.Load(func(name string) (string, bool) { v, ok := env[name]; return v, ok })
	require.NoError(t, err)
	cfg = testkit.WithAuth(cfg)
	c, _ := testkit.Serve(t, db, testkit.ServeOptions{Config: &cfg})
	tok := testkit.Token(t, "luis", auth.Lector)

	pasa := func(q string) {
		t.Helper()
		res := como(t, c, tok, q, nil)
		require.Empty(t, res.Errors, res.Raw)
	}
	rechaza := func(q string, code apperror.Code) {
		t.Helper()
		res := testkit.RequireNoSQL(t, db, func() testkit.Response { return como(t, c, tok, q, nil) })
		requireUnico(t, res, code)
	}
	pasa(`{ clientes(first: 1) { edges { node { id } } } }`)                                                 // depth 4
	rechaza(`{ clientes(first: 1) { edges { node { facturas { totalCount } } } } }`, "DEPTH_LIMIT_EXCEEDED") // 5
	pasa(`{ a: clientes(first: 60) { totalCount } b: clientes(first: 60) { totalCount } }`)                  // 120, 2 aliases
	rechaza(`{ a: clientes(first: 60) { totalCount } b: clientes(first: 61) { totalCount } }`, "COMPLEXITY_LIMIT_EXCEEDED")
	rechaza(`{ a: __typename b: __typename c: __typename }`, "ALIAS_LIMIT_EXCEEDED")
	pasa("{ " + strings.Repeat("__typename ", 98) + "}")
	rechaza("{ "+strings.Repeat("__typename ", 99)+"}", "TOKEN_LIMIT_EXCEEDED")
	rechaza(`{ __schema { queryType { name } } }`, "INTROSPECTION_DISABLED")

	for name, value := range map[string]string{"FACTORING_MAX_ALIASES": "0", "FACTORING_MAX_DEPTH": "0", "FACTORING_MAX_COMPLEXITY": "0", "FACTORING_MAX_TOKENS": "0"} {
		_, err := config.Load(func(n string) (string, bool) { return value, n == name })
		if assert.Error(t, err, "%s=0 would silently mean the default limit", name) {
			assert.Contains(t, err.Error(), name)
		}
	}
}
