package despacho

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Config is the configuration of the events-out machinery, read from the
// environment like the rest (12-factor); each field names its variable.
type Config struct {
	// NATSURL enables publishing to NATS JetStream (FACTORING_NATS_URL).
	NATSURL     string
	NATSStream  string // FACTORING_NATS_STREAM, default FACTORING
	NATSPrefijo string // FACTORING_NATS_SUBJECT_PREFIX, default factoring

	// WebhookInseguro admits http:// and private addresses
	// (FACTORING_WEBHOOK_ALLOW_INSECURE; development and tests only).
	WebhookInseguro bool
	// WebhookRetryBase is the first retry's delay; each next one doubles
	// (FACTORING_WEBHOOK_RETRY_BASE, default 5s).
	WebhookRetryBase time.Duration
	// WebhookRetryVentana is how long a delivery is retried before it ends
	// FALLIDA (FACTORING_WEBHOOK_RETRY_WINDOW, default 24h).
	WebhookRetryVentana time.Duration
	// WebhookTimeout bounds one attempt (FACTORING_WEBHOOK_TIMEOUT, 10s).
	WebhookTimeout time.Duration
	// WebhookSecretKey, 32 bytes, encrypts signing secrets at rest
	// (FACTORING_WEBHOOK_SECRET_KEY, base64).
	WebhookSecretKey []byte

	// SMTPURL enables the approval e-mail (FACTORING_SMTP_URL).
	SMTPURL  string
	SMTPFrom string // FACTORING_SMTP_FROM

	// VencidasCron schedules the overdue job in the business time zone
	// (FACTORING_VENCIDAS_CRON, default "0 6 * * *"; "off" disables it).
	VencidasCron string

	// Intervalo is how often an idle dispatcher looks for work
	// (FACTORING_WORKER_POLL_INTERVAL, default 1s). A commit in the same
	// process wakes it at once.
	Intervalo time.Duration
	// Concurrencia bounds the deliveries one dispatcher sends at once
	// (FACTORING_WORKER_CONCURRENCY, default 16).
	Concurrencia int
	// EnServe: serve runs the dispatcher in-process (FACTORING_WORKER=
	// embedded, the default); external leaves it to `factoring worker`.
	EnServe bool
}

// Defaults.
const (
	DefaultRetryBase    = 5 * time.Second
	DefaultRetryVentana = 24 * time.Hour
	DefaultVencidasCron = "0 6 * * *"
	DefaultIntervalo    = time.Second
	DefaultConcurrencia = 16
)

// Load reads the configuration through getenv (os.LookupEnv in main) and
// returns every problem at once, each naming its variable.
func Load(getenv func(string) (string, bool)) (Config, error) {
	var errs []error
	fail := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	str := func(name, def string) string {
		if v, ok := getenv(name); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	dur := func(name string, def, lo, hi time.Duration) time.Duration {
		v := str(name, "")
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < lo || d > hi {
			fail(name, "%q debe ser una duración entre %s y %s (p. ej. %s)", v, lo, hi, def)
			return def
		}
		return d
	}
	cfg := Config{
		NATSURL:             str("FACTORING_NATS_URL", ""),
		NATSStream:          str("FACTORING_NATS_STREAM", "FACTORING"),
		NATSPrefijo:         str("FACTORING_NATS_SUBJECT_PREFIX", "factoring"),
		WebhookRetryBase:    dur("FACTORING_WEBHOOK_RETRY_BASE", DefaultRetryBase, time.Millisecond, time.Hour),
		WebhookRetryVentana: dur("FACTORING_WEBHOOK_RETRY_WINDOW", DefaultRetryVentana, time.Second, 7*24*time.Hour),
		WebhookTimeout:      dur("FACTORING_WEBHOOK_TIMEOUT", 10*time.Second, 100*time.Millisecond, time.Minute),
		SMTPURL:             str("FACTORING_SMTP_URL", ""),
		SMTPFrom:            str("FACTORING_SMTP_FROM", ""),
		VencidasCron:        str("FACTORING_VENCIDAS_CRON", DefaultVencidasCron),
		Intervalo:           dur("FACTORING_WORKER_POLL_INTERVAL", DefaultIntervalo, 10*time.Millisecond, time.Minute),
		Concurrencia:        DefaultConcurrencia,
		EnServe:             true,
	}
	if v := str("FACTORING_WEBHOOK_ALLOW_INSECURE", ""); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			fail("FACTORING_WEBHOOK_ALLOW_INSECURE", "%q no es un booleano; use true o false", v)
		}
		cfg.WebhookInseguro = b
	}
	if v := str("FACTORING_WORKER_CONCURRENCY", ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 256 {
			fail("FACTORING_WORKER_CONCURRENCY", "%q debe ser un entero entre 1 y 256", v)
		} else {
			cfg.Concurrencia = n
		}
	}
	switch v := strings.ToLower(str("FACTORING_WORKER", "embedded")); v {
	case "embedded":
	case "external":
		cfg.EnServe = false
	default:
		fail("FACTORING_WORKER", "%q no es válido; use embedded (serve despacha los eventos) o external (factoring worker)", v)
	}
	if v := str("FACTORING_WEBHOOK_SECRET_KEY", ""); v != "" {
		k, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(k) != 32 {
			fail("FACTORING_WEBHOOK_SECRET_KEY", "debe ser el base64 de 32 bytes (p. ej. openssl rand -base64 32)")
		}
		cfg.WebhookSecretKey = k
	}
	if cfg.NATSURL != "" {
		if u, err := url.Parse(cfg.NATSURL); err != nil || u.Host == "" {
			fail("FACTORING_NATS_URL", "%q no es una URL de NATS (p. ej. nats://127.0.0.1:4222)", cfg.NATSURL)
		}
	}
	if !token(cfg.NATSStream) {
		fail("FACTORING_NATS_STREAM", "%q: use letras, dígitos, - y _", cfg.NATSStream)
	}
	for _, part := range strings.Split(cfg.NATSPrefijo, ".") {
		if !token(part) {
			fail("FACTORING_NATS_SUBJECT_PREFIX", "%q: tokens de letras, dígitos, - y _ separados por punto", cfg.NATSPrefijo)
			break
		}
	}
	if cfg.SMTPURL != "" {
		u, err := url.Parse(cfg.SMTPURL)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
			fail("FACTORING_SMTP_URL", "debe ser smtp://usuario:clave@host:puerto o smtps://…")
		}
		if _, err := mail.ParseAddress(cfg.SMTPFrom); err != nil {
			fail("FACTORING_SMTP_FROM", "%q no es una dirección de correo (se exige con FACTORING_SMTP_URL)", cfg.SMTPFrom)
		}
	}
	if cfg.VencidasCron != "off" {
		if _, err := cron.ParseStandard(cfg.VencidasCron); err != nil {
			fail("FACTORING_VENCIDAS_CRON", "%q no es una expresión cron de 5 campos (p. ej. 0 6 * * *) ni off: %v", cfg.VencidasCron, err)
		}
	}
	return cfg, errors.Join(errs...)
}

func token(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
