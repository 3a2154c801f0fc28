package webhooks_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/entrega"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/eventos"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/testkit"
	"github.com/banpro/factoring/internal/webhooks"
)

var ctx = context.Background()

func newService(t *testing.T, db *database.DB, c clock.Clock) (*webhooks.Service, *webhooks.Boveda) {
	key := make([]byte, 32)
	key[0] = 7
	b, err := webhooks.NuevaBoveda(key)
	require.NoError(t, err)
	return webhooks.NewService(db, webhooks.Config{Clock: c, Boveda: b, Politica: webhooks.Politica{Resolver: fakeResolver{}}}), b
}

func requireCode(t *testing.T, err error, code apperror.Code, field string) *apperror.Error {
	t.Helper()
	ae, ok := apperror.As(err)
	require.True(t, ok, "want %s, got %v", code, err)
	require.Equal(t, code, ae.Code, "%v", err)
	if field != "" {
		require.Contains(t, ae.Fields, field, "%v", err)
	}
	return ae
}

func TestWebhookCiclo(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		clk := clock.NewFixed(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
		svc, boveda := newService(t, db, clk)

		// Every field is checked at once.
		_, err := svc.Crear(ctx, webhooks.CrearInput{URL: "http://x.cl", Tipos: []string{"operacion.inventada"}, Descripcion: ptr(strings.Repeat("a", 501))})
		ae := requireCode(t, err, apperror.Validation, "url")
		assert.Contains(t, ae.Fields, "tipos")
		assert.Contains(t, ae.Fields, "descripcion")
		_, err = svc.Crear(ctx, webhooks.CrearInput{URL: "https://8.8.8.8/h", Tipos: []string{"*", "cliente.creado"}})
		requireCode(t, err, apperror.Validation, "tipos")
		_, err = svc.Crear(ctx, webhooks.CrearInput{URL: "https://10.0.0.1/h", Tipos: []string{"*"}})
		requireCode(t, err, apperror.Validation, "url")

		c, err := svc.Crear(ctx, webhooks.CrearInput{URL: " https://8.8.8.8/h ", Tipos: []string{"operacion.aprobada", "operacion.aprobada", "cliente.creado"}, Descripcion: ptr("ERP")})
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(c.Secreto, "whsec_"))
		assert.Equal(t, "https://8.8.8.8/h", c.Webhook.URL)
		assert.Equal(t, []string{"operacion.aprobada", "cliente.creado"}, c.Webhook.Tipos)
		assert.True(t, c.Webhook.Activo)
		assert.NotContains(t, c.Webhook.Secreto, c.Secreto, "stored encrypted")
		assert.NotContains(t, c.Webhook.String(), "enc1:", "ent's String never shows secrets")
		sec, err := webhooks.Secretos(boveda, c.Webhook, clk.Now())
		require.NoError(t, err)
		assert.Equal(t, []string{c.Secreto}, sec)

		w, err := svc.Actualizar(ctx, c.Webhook.ID, webhooks.ActualizarInput{Tipos: []string{"*"}, Descripcion: ptr(""), Activo: ptr(false)})
		require.NoError(t, err)
		assert.Equal(t, []string{"*"}, w.Tipos)
		assert.Nil(t, w.Descripcion)
		assert.False(t, w.Activo)
		assert.Equal(t, "https://8.8.8.8/h", w.URL)
		_, err = svc.Actualizar(ctx, c.Webhook.ID, webhooks.ActualizarInput{Tipos: []string{}})
		requireCode(t, err, apperror.Validation, "tipos")

		// Rotation: the old secret signs beside the new one for 24 h.
		r, err := svc.RotarSecreto(ctx, c.Webhook.ID)
		require.NoError(t, err)
		assert.NotEqual(t, c.Secreto, r.Secreto)
		sec, err = webhooks.Secretos(boveda, r.Webhook, clk.Now())
		require.NoError(t, err)
		assert.Equal(t, []string{r.Secreto, c.Secreto}, sec)
		sec, err = webhooks.Secretos(boveda, r.Webhook, clk.Now().Add(24*time.Hour+time.Second))
		require.NoError(t, err)
		assert.Equal(t, []string{r.Secreto}, sec)

		del, err := svc.Eliminar(ctx, c.Webhook.ID)
		require.NoError(t, err)
		assert.Equal(t, c.Webhook.ID, del.ID)
		_, err = svc.Eliminar(ctx, c.Webhook.ID)
		ae = requireCode(t, err, apperror.NotFound, "")
		assert.Contains(t, ae.Message, gid.Encode(c.Webhook.ID))
		assert.True(t, strings.HasPrefix(gid.Encode(c.Webhook.ID), "V2ViaG9vaz"), "a Webhook global id")
		_, err = svc.RotarSecreto(ctx, c.Webhook.ID)
		requireCode(t, err, apperror.NotFound, "")
	})
}

func TestReenviarEntrega(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		clk := clock.NewFixed(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
		svc, _ := newService(t, db, clk)
		c, err := svc.Crear(ctx, webhooks.CrearInput{URL: "https://8.8.8.8/h", Tipos: []string{"*"}})
		require.NoError(t, err)
		require.NoError(t, db.WithTx(ctx, func(tx *ent.Tx) error {
			return eventos.Enqueue(ctx, tx, eventos.Event{Tipo: eventos.ClienteCreado, Sujeto: "Q2xpZW50ZTox", Datos: map[string]any{}})
		}))
		ev := db.Client.OutboxEvento.Query().OnlyX(ctx)
		e := db.Client.Entrega.Create().SetEventoSeq(ev.ID).SetEventoID(ev.EventoID).SetTipo(ev.Tipo).SetSujeto(ev.Sujeto).
			SetCanal(entrega.CanalWEBHOOK).SetWebhookID(c.Webhook.ID).SetDestino("webhook:1").SetEstado(entrega.EstadoFALLIDA).
			SetIntento(9).SetFecha(clk.Now()).SetReintentosDesde(clk.Now()).SaveX(ctx)

		clk.Advance(30 * time.Hour)
		got, err := svc.ReenviarEntrega(ctx, e.ID)
		require.NoError(t, err)
		assert.Equal(t, entrega.EstadoPENDIENTE, got.Estado)
		assert.True(t, clk.Now().Equal(*got.ProximoIntento))
		assert.True(t, clk.Now().Equal(got.ReintentosDesde), "a new retry window")
		_, err = svc.ReenviarEntrega(ctx, e.ID)
		requireCode(t, err, apperror.Conflict, "")
		_, err = svc.ReenviarEntrega(ctx, e.ID+1000)
		requireCode(t, err, apperror.NotFound, "")
	})
}

func ptr[T any](v T) *T { return &v }
