package despacho_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/despacho"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := despacho.Load(env(nil))
	require.NoError(t, err)
	assert.Equal(t, 5*time.Second, cfg.WebhookRetryBase)
	assert.Equal(t, 24*time.Hour, cfg.WebhookRetryVentana)
	assert.Equal(t, 10*time.Second, cfg.WebhookTimeout)
	assert.Equal(t, "0 6 * * *", cfg.VencidasCron)
	assert.Equal(t, "FACTORING", cfg.NATSStream)
	assert.Equal(t, "factoring", cfg.NATSPrefijo)
	assert.True(t, cfg.EnServe)
	assert.False(t, cfg.WebhookInseguro)
	assert.Empty(t, cfg.NATSURL)
	assert.Empty(t, cfg.SMTPURL)
}

func TestConfigErrores(t *testing.T) {
	_, err := despacho.Load(env(map[string]string{
		"FACTORING_WEBHOOK_RETRY_BASE":     "rápido",
		"FACTORING_WEBHOOK_ALLOW_INSECURE": "quizás",
		"FACTORING_VENCIDAS_CRON":          "a las seis",
		"FACTORING_SMTP_URL":               "smtp://mail.ejemplo.cl:587",
		"FACTORING_WORKER":                 "ambos",
		"FACTORING_WEBHOOK_SECRET_KEY":     "corta",
		"FACTORING_NATS_SUBJECT_PREFIX":    "a..b",
	}))
	require.Error(t, err)
	for _, v := range []string{"FACTORING_WEBHOOK_RETRY_BASE", "FACTORING_WEBHOOK_ALLOW_INSECURE", "FACTORING_VENCIDAS_CRON",
		"FACTORING_SMTP_FROM", "FACTORING_WORKER", "FACTORING_WEBHOOK_SECRET_KEY", "FACTORING_NATS_SUBJECT_PREFIX"} {
		assert.Contains(t, err.Error(), v)
	}
	cfg, err := despacho.Load(env(map[string]string{"FACTORING_WORKER": "external", "FACTORING_VENCIDAS_CRON": "off",
		"FACTORING_WEBHOOK_RETRY_BASE": "10ms"}))
	require.NoError(t, err)
	assert.False(t, cfg.EnServe)
	assert.Nil(t, despacho.TareaVencidas(cfg, time.UTC, nil))
	assert.Equal(t, 10*time.Millisecond, cfg.WebhookRetryBase)
}
