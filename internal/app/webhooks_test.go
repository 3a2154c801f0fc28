package app_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/entrega"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/eventos"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/testkit"
)

const webhookFields = `id url tipos descripcion activo creadoEn
	entregas(first: 10) { totalCount edges { node { id eventoId tipo intento estado statusHttp error duracionMs proximoIntento fecha } } }`

type entregaGQL struct {
	ID             string
	EventoID       string
	Tipo           string
	Intento        int
	Estado         string
	StatusHTTP     *int `json:"statusHttp"`
	Error          *string
	DuracionMs     *int
	ProximoIntento *string
	Fecha          string
}

type webhookGQL struct {
	ID          string
	URL         string
	Tipos       []string
	Descripcion *string
	Activo      bool
	Entregas    testkit.Conn[entregaGQL]
}

// TestWebhooksPorGraphQL: the admin manages webhooks through GraphQL, the
// signing secret shows once and never reaches the log; every other role is
// refused every webhook mutation, the webhooks list and a webhook or a
// delivery read through node or nodes, before any SQL statement runs; a
// bad URL or type is a VALIDATION_ERROR naming its field.
func TestWebhooksPorGraphQL(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		ctx := t.Context()
		logs := &testkit.SyncBuffer{}
		cfg := testkit.WithAuth(testkit.Config(t))
		c, _ := testkit.Serve(t, db, testkit.ServeOptions{Config: &cfg,
			Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		admin := testkit.Token(t, "adm@banpro.cl", auth.Admin)

		crear := `mutation($in: CrearWebhookInput!) { crearWebhook(input: $in) { secreto webhook { ` + webhookFields + ` } } }`
		res := como(t, c, admin, crear, map[string]any{"in": map[string]any{
			"url": "https://8.8.8.8/hooks/factoring", "tipos": []string{"operacion.aprobada", "cliente.creado"}, "descripcion": "ERP"}})
		var creado struct {
			CrearWebhook struct {
				Secreto string
				Webhook webhookGQL
			}
		}
		require.Empty(t, res.Errors, res.Raw)
		require.NoError(t, json.Unmarshal(res.Data, &creado))
		secreto, w := creado.CrearWebhook.Secreto, creado.CrearWebhook.Webhook
		assert.True(t, strings.HasPrefix(secreto, "whsec_"), secreto)
		assert.Equal(t, "https://8.8.8.8/hooks/factoring", w.URL)
		assert.Equal(t, []string{"operacion.aprobada", "cliente.creado"}, w.Tipos)
		assert.Equal(t, "ERP", *w.Descripcion)
		assert.True(t, w.Activo)
		assert.Zero(t, w.Entregas.TotalCount)
		webhookID, _, ok := gid.Decode(w.ID)
		require.True(t, ok)

		// A delivery to list, retry and refuse.
		require.NoError(t, db.WithTx(ctx, func(tx *ent.Tx) error {
			return eventos.Enqueue(ctx, tx, eventos.Event{Tipo: eventos.ClienteCreado, Sujeto: gid.Encode(1), Datos: map[string]any{}})
		}))
		ev := db.Client.OutboxEvento.Query().OnlyX(ctx)
		e := db.Client.Entrega.Create().SetEventoSeq(ev.ID).SetEventoID(ev.EventoID).SetTipo(ev.Tipo).SetSujeto(ev.Sujeto).
			SetCanal(entrega.CanalWEBHOOK).SetWebhookID(webhookID).SetDestino("webhook:1").SetEstado(entrega.EstadoFALLIDA).
			SetIntento(9).SetStatusHTTP(500).SetError("HTTP 500: caído").SetDuracionMs(12).
			SetFecha(testkit.Hoy).SetReintentosDesde(testkit.Hoy).SaveX(ctx)
		entregaID := gid.Encode(e.ID)

		t.Run("el_admin_lista_sin_secretos", func(t *testing.T) {
			res := como(t, c, admin, `{ webhooks { totalCount edges { node { `+webhookFields+` } } } }`, nil)
			require.Empty(t, res.Errors, res.Raw)
			assert.NotContains(t, res.Raw, secreto)
			assert.NotContains(t, res.Raw, "whsec_")
			var out struct{ Webhooks testkit.Conn[webhookGQL] }
			require.NoError(t, json.Unmarshal(res.Data, &out))
			require.Equal(t, 1, out.Webhooks.TotalCount)
			got := out.Webhooks.Nodes()[0]
			require.Equal(t, 1, got.Entregas.TotalCount)
			d := got.Entregas.Nodes()[0]
			assert.Equal(t, entregaID, d.ID)
			assert.Equal(t, ev.EventoID, d.EventoID)
			assert.Equal(t, "cliente.creado", d.Tipo)
			assert.Equal(t, "FALLIDA", d.Estado)
			assert.Equal(t, 9, d.Intento)
			assert.Equal(t, 500, *d.StatusHTTP)
			assert.Equal(t, "HTTP 500: caído", *d.Error)
			assert.Equal(t, 12, *d.DuracionMs)
			assert.Nil(t, d.ProximoIntento)

			// The deliveries to replay, by state; and by node.
			res = como(t, c, admin, `query($id: ID!) { node(id: $id) { ... on Webhook { entregas(where: {estado: PENDIENTE}) { totalCount } } } }`,
				map[string]any{"id": w.ID})
			require.Empty(t, res.Errors, res.Raw)
			assert.JSONEq(t, `{"node": {"entregas": {"totalCount": 0}}}`, string(res.Data))
		})

		t.Run("otros_roles_no_pueden_nada_ni_gastan_sql", func(t *testing.T) {
			ops := []struct {
				query string
				vars  map[string]any
				field string
			}{
				{crear, map[string]any{"in": map[string]any{"url": "https://8.8.8.8/x", "tipos": []string{"*"}}}, "crearWebhook"},
				{`mutation($id: ID!) { actualizarWebhook(id: $id, input: {activo: false}) { id } }`, map[string]any{"id": w.ID}, "actualizarWebhook"},
				{`mutation($id: ID!) { eliminarWebhook(id: $id) { id } }`, map[string]any{"id": w.ID}, "eliminarWebhook"},
				{`mutation($id: ID!) { rotarSecretoWebhook(id: $id) { secreto } }`, map[string]any{"id": w.ID}, "rotarSecretoWebhook"},
				{`mutation($id: ID!) { reenviarEntrega(id: $id) { id } }`, map[string]any{"id": entregaID}, "reenviarEntrega"},
				{`{ webhooks { totalCount } }`, nil, "webhooks"},
				{`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": w.ID}, "node"},
				{`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []string{gid.Encode(1), entregaID}}, "nodes"},
				{`{ nodes(ids: ["` + entregaID + `"]) { id } }`, nil, "nodes"},
			}
			for _, r := range []auth.Role{auth.Lector, auth.Analista, auth.Riesgo, auth.Tesoreria, auth.Auditor} {
				tok := testkit.Token(t, "x@banpro.cl", r)
				for _, op := range ops {
					res := testkit.RequireNoSQL(t, db, func() testkit.Response { return como(t, c, tok, op.query, op.vars) })
					requireForbidden(t, res, op.field)
				}
			}
			// A node of another kind is still everyone's to read.
			lector := testkit.Token(t, "luis@banpro.cl", auth.Lector)
			res := como(t, c, lector, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": gid.Encode(1)})
			testkit.RequireGQLError(t, res, apperror.NotFound)
		})

		t.Run("entradas_invalidas", func(t *testing.T) {
			cases := map[string]struct {
				url    string
				tipos  []string
				fields []string
			}{
				"http":               {"http://hooks.ejemplo.cl/x", []string{"*"}, []string{"url"}},
				"loopback":           {"https://127.0.0.1:8443/x", []string{"*"}, []string{"url"}},
				"privada":            {"https://10.1.2.3/x", []string{"*"}, []string{"url"}},
				"link_local":         {"https://169.254.169.254/latest/meta-data", []string{"*"}, []string{"url"}},
				"ipv6_loopback":      {"https://[::1]/x", []string{"*"}, []string{"url"}},
				"resuelve_a_una":     {"https://localhost/x", []string{"*"}, []string{"url"}},
				"tipo_desconocido":   {"https://8.8.8.8/x", []string{"operacion.inventada"}, []string{"tipos"}},
				"sin_tipos":          {"https://8.8.8.8/x", []string{}, []string{"tipos"}},
				"url_de_10_kb":       {"https://8.8.8.8/" + strings.Repeat("a", 10*1024), []string{"*"}, []string{"url"}},
				"todo_mal_a_la_vez":  {"ftp://x", []string{"nada"}, []string{"url", "tipos"}},
				"comodin_con_otros":  {"https://8.8.8.8/x", []string{"*", "cliente.creado"}, []string{"tipos"}},
				"usuario_en_la_url":  {"https://u:p@8.8.8.8/x", []string{"*"}, []string{"url"}},
				"no_es_una_url":      {"hooks.ejemplo.cl/x", []string{"*"}, []string{"url"}},
				"vacia":              {"", []string{"*"}, []string{"url"}},
				"ipv4_en_ipv6":       {"https://[::ffff:10.0.0.1]/x", []string{"*"}, []string{"url"}},
				"red_de_nat_carrier": {"https://100.64.0.1/x", []string{"*"}, []string{"url"}},
			}
			for name, tc := range cases {
				t.Run(name, func(t *testing.T) {
					res := como(t, c, admin, crear, map[string]any{"in": map[string]any{"url": tc.url, "tipos": tc.tipos}})
					testkit.RequireGQLError(t, res, apperror.Validation, tc.fields...)
					testkit.RequireNullData(t, res)
				})
			}
			res := como(t, c, admin, `mutation($id: ID!) { actualizarWebhook(id: $id, input: {url: "https://192.168.0.1/x"}) { id } }`,
				map[string]any{"id": w.ID})
			testkit.RequireGQLError(t, res, apperror.Validation, "url")
			n, err := db.Client.Webhook.Query().Count(ctx)
			require.NoError(t, err)
			assert.Equal(t, 1, n, "nothing was created")
		})

		t.Run("actualizar_rotar_reenviar_eliminar", func(t *testing.T) {
			var act struct{ ActualizarWebhook webhookGQL }
			res := como(t, c, admin, `mutation($id: ID!) { actualizarWebhook(id: $id, input: {tipos: ["*"], descripcion: "", activo: false}) { id url tipos descripcion activo } }`,
				map[string]any{"id": w.ID})
			require.Empty(t, res.Errors, res.Raw)
			require.NoError(t, json.Unmarshal(res.Data, &act))
			assert.Equal(t, []string{"*"}, act.ActualizarWebhook.Tipos)
			assert.Nil(t, act.ActualizarWebhook.Descripcion)
			assert.False(t, act.ActualizarWebhook.Activo)
			assert.Equal(t, w.URL, act.ActualizarWebhook.URL)

			var rot struct{ RotarSecretoWebhook struct{ Secreto string } }
			res = como(t, c, admin, `mutation($id: ID!) { rotarSecretoWebhook(id: $id) { secreto webhook { id } } }`, map[string]any{"id": w.ID})
			require.Empty(t, res.Errors, res.Raw)
			require.NoError(t, json.Unmarshal(res.Data, &rot))
			nuevo := rot.RotarSecretoWebhook.Secreto
			assert.True(t, strings.HasPrefix(nuevo, "whsec_"))
			assert.NotEqual(t, secreto, nuevo)

			reenviar := `mutation($id: ID!) { reenviarEntrega(id: $id) { id estado proximoIntento } }`
			res = como(t, c, admin, reenviar, map[string]any{"id": entregaID})
			require.Empty(t, res.Errors, res.Raw)
			var re struct{ ReenviarEntrega entregaGQL }
			require.NoError(t, json.Unmarshal(res.Data, &re))
			assert.Equal(t, "PENDIENTE", re.ReenviarEntrega.Estado)
			assert.NotNil(t, re.ReenviarEntrega.ProximoIntento)
			testkit.RequireGQLError(t, como(t, c, admin, reenviar, map[string]any{"id": entregaID}), apperror.Conflict)

			res = como(t, c, admin, `mutation($id: ID!) { eliminarWebhook(id: $id) { id url } }`, map[string]any{"id": w.ID})
			require.Empty(t, res.Errors, res.Raw)
			assert.JSONEq(t, `{"eliminarWebhook": {"id": "`+w.ID+`", "url": "`+w.URL+`"}}`, string(res.Data))
			for _, q := range []string{
				`mutation($id: ID!) { eliminarWebhook(id: $id) { id } }`,
				`mutation($id: ID!) { rotarSecretoWebhook(id: $id) { secreto } }`,
				`mutation($id: ID!) { actualizarWebhook(id: $id, input: {activo: true}) { id } }`,
			} {
				testkit.RequireGQLError(t, como(t, c, admin, q, map[string]any{"id": w.ID}), apperror.NotFound)
			}
			testkit.RequireGQLError(t, como(t, c, admin, reenviar, map[string]any{"id": entregaID}), apperror.NotFound)
			assert.Zero(t, db.Client.Entrega.Query().CountX(ctx), "its deliveries went with it")

			// Each change is in the log, by whom and under which request;
			// neither secret ever is, nor the URL.
			out := logs.String()
			assert.NotContains(t, out, secreto)
			assert.NotContains(t, out, nuevo)
			assert.NotContains(t, out, strings.TrimPrefix(secreto, "whsec_"))
			assert.NotContains(t, out, "8.8.8.8/hooks")
			for _, msg := range []string{"webhook creado", "webhook actualizado", "secreto de webhook rotado", "entrega reenviada", "webhook eliminado"} {
				var line map[string]any
				for l := range strings.Lines(out) {
					var m map[string]any
					if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == msg {
						line = m
					}
				}
				require.NotNil(t, line, "no log line %q in:\n%s", msg, out)
				assert.Equal(t, "adm@banpro.cl", line["actor"], msg)
				assert.NotEmpty(t, line["request_id"], msg)
			}
		})

		t.Run("el_codigo_http_de_una_prohibida", func(t *testing.T) {
			res := como(t, c, testkit.Token(t, "luis@banpro.cl", auth.Lector), `{ webhooks { totalCount } }`, nil)
			assert.Equal(t, http.StatusForbidden, res.Status)
		})
	})
}
