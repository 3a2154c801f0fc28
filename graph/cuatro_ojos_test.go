package graph_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/testkit"
)

// bearer is a GraphQL client of one server that sends one token.
type bearer struct {
	t      *testing.T
	client *testkit.Client
	token  string
}

func (b bearer) do(query string, vars map[string]any) testkit.Response {
	b.t.Helper()
	return b.client.DoAs(b.token, query, vars)
}

// id runs a mutation that must succeed and returns the id of what it
// returned.
func (b bearer) id(field, query string, vars map[string]any) string {
	b.t.Helper()
	res := b.do(query, vars)
	require.Empty(b.t, res.Errors, res.Raw)
	var out map[string]struct{ ID string }
	require.NoError(b.t, json.Unmarshal(res.Data, &out), res.Raw)
	require.NotEmpty(b.t, out[field].ID, res.Raw)
	return out[field].ID
}

// operacionDe has maker create and activate a cliente, register a factura
// and open an operación over it, all through GraphQL, and returns the
// operación's id.
func operacionDe(t *testing.T, maker bearer) string {
	t.Helper()
	in := testkit.ClienteInput("1000000")
	c := maker.id("crearCliente", gqlCrearCliente, map[string]any{"input": map[string]any{
		"rut": in.Rut, "razonSocial": in.RazonSocial, "email": in.Email, "lineaCredito": "1000000",
	}})
	maker.id("activarCliente", gqlActivar, map[string]any{"id": c})
	id, _, ok := gid.Decode(c)
	require.True(t, ok)
	f := testkit.FacturaInput(id, "300000.00", testkit.Vence(120))
	fid := maker.id("registrarFactura", gqlRegistrar, map[string]any{"input": map[string]any{
		"clienteId": c, "numeroFactura": f.NumeroFactura, "rutDeudor": f.RutDeudor, "razonSocialDeudor": f.RazonSocialDeudor,
		"montoTotal": "300000.00", "fechaEmision": f.FechaEmision.Format("2006-01-02"), "fechaVencimiento": f.FechaVencimiento.Format("2006-01-02"),
	}})
	return maker.id("crearOperacion", gqlCrearOperacion, map[string]any{"input": map[string]any{"clienteId": c, "facturaIds": []string{fid}}})
}

// TestCuatroOjos: whoever created an operación may not approve it, whatever
// their roles (admin included); someone else may. The refusal is FORBIDDEN
// with a message that names the rule, and changes nothing.
func TestCuatroOjos(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		cfg := testkit.WithAuth(testkit.Config(t))
		client, _ := testkit.Serve(t, db, testkit.ServeOptions{Config: &cfg})
		as := func(sub string, roles ...auth.Role) bearer {
			return bearer{t: t, client: client, token: testkit.Token(t, sub, roles...)}
		}
		ana := as("ana", auth.Analista, auth.Riesgo)
		o := operacionDe(t, ana)
		opID, _, ok := gid.Decode(o)
		require.True(t, ok)

		refused := func(t *testing.T, who bearer) {
			t.Helper()
			before := env.Snapshot(t)
			res := who.do(gqlAprobar, map[string]any{"id": o})
			e := testkit.RequireGQLError(t, res, apperror.Forbidden)
			assert.Contains(t, e.Message, "cuatro ojos", "the message names the rule")
			assert.Contains(t, e.Message, "usted mismo creó")
			assert.Equal(t, []any{"aprobarOperacion"}, e.Path)
			testkit.RequireNullData(t, res)
			assert.Equal(t, before, env.Snapshot(t), "a refused approval changes nothing")
			assert.Equal(t, estado.OperacionPendiente, env.Operacion(t, opID).Estado)
		}
		t.Run("el_creador_no_aprueba", func(t *testing.T) { refused(t, ana) })
		t.Run("ni_siendo_admin", func(t *testing.T) { refused(t, as("ana", auth.Admin)) })
		// The same person under another spelling of the subject (case,
		// full-width letters) is still the creator.
		t.Run("ni_en_mayusculas", func(t *testing.T) { refused(t, as("ANA", auth.Riesgo)) })
		t.Run("ni_en_ancho_completo", func(t *testing.T) { refused(t, as("ａｎａ", auth.Riesgo)) })
		t.Run("ni_con_todos_los_roles", func(t *testing.T) {
			refused(t, as("ana", auth.Lector, auth.Analista, auth.Riesgo, auth.Tesoreria, auth.Admin))
		})
		t.Run("otra_persona_aprueba", func(t *testing.T) {
			beto := as("beto", auth.Riesgo)
			res := beto.do(gqlAprobar, map[string]any{"id": o})
			require.Empty(t, res.Errors, res.Raw)
			assert.Equal(t, estado.OperacionAprobada, env.Operacion(t, opID).Estado)
			evs := env.Eventos(t, opID)
			require.Len(t, evs, 2)
			assert.Equal(t, "ana", evs[0].Actor)
			assert.Equal(t, "beto", evs[1].Actor)
		})

		// A subject named like the audit trail's placeholders (anonimo,
		// sistema) never gets in: the token is refused before anything
		// runs, so no change can be recorded under those names.
		t.Run("un_sujeto_reservado_no_entra", func(t *testing.T) {
			for _, sub := range []string{auth.Anonimo, auth.Sistema} {
				claims := jwt.MapClaims{"sub": sub, "roles": []string{"admin"}, "exp": time.Now().Add(time.Hour).Unix()}
				token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(testkit.Secret)
				require.NoError(t, err)
				before := env.Snapshot(t)
				res := bearer{t: t, client: client, token: token}.do(gqlAprobar, map[string]any{"id": o})
				assert.Equal(t, http.StatusUnauthorized, res.Status, res.Raw)
				require.Len(t, res.Errors, 1, res.Raw)
				assert.Equal(t, string(apperror.Unauthenticated), res.Errors[0].Extensions.Code)
				assert.Equal(t, before, env.Snapshot(t))
			}
		})

		// An operación created while authentication was off (actor
		// anonimo) may be approved by an authenticated person.
		t.Run("creada_sin_autenticacion", func(t *testing.T) {
			op, _ := env.MustOperacionPendiente(t, env.MustCrearClienteActivo(t, "1000000").ID, "1000.00")
			require.Equal(t, auth.Anonimo, env.Eventos(t, op.ID)[0].Actor)
			res := as("beto", auth.Riesgo).do(gqlAprobar, map[string]any{"id": gid.Encode(op.ID)})
			require.Empty(t, res.Errors, res.Raw)
		})
	})
}
