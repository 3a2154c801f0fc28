// Package config reads the API's configuration from the environment
// (12-factor) and validates all of it at start: an invalid value stops the
// process with a message naming the variable.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the business time zone must resolve on any machine

	"github.com/shopspring/decimal"
)

// Config is the validated configuration.
type Config struct {
	DatabaseURL   string
	HTTPAddr      string
	TasaDescuento decimal.Decimal // percent, 0 < t <= 100, two decimals
	// The advance and collections (docs/dominio.md, "The advance",
	// "Collections"). Their defaults keep the original's figures: the whole
	// face value advanced, no commission, no late interest.
	Anticipo     decimal.Decimal // FACTORING_ANTICIPO: percent advanced by default, 0 < p <= 100
	Comision     decimal.Decimal // FACTORING_COMISION: fixed commission per operación, >= 0
	TasaMora     decimal.Decimal // FACTORING_TASA_MORA: late interest, percent per month, 0 <= t <= 100
	DiasRecompra int             // FACTORING_DIAS_RECOMPRA: days of mora after which recompra may be demanded
	// FechaNegocio, when set (FACTORING_FECHA_NEGOCIO, YYYY-MM-DD), is the
	// business date the close of business runs up to, instead of today
	// in TimeZone: for a replay. Zero when unset.
	FechaNegocio time.Time
	// ConcentracionMaxima is the concentracionMaxima of a cliente nobody
	// set one for: the percentage of its line it may have on one deudor
	// (0 < c <= 100, two decimals; 100 is no cap).
	ConcentracionMaxima decimal.Decimal
	// ExigirAcuse cedes only facturas their deudor accepted, expressly or
	// by letting 8 días corridos pass without a claim.
	ExigirAcuse    bool
	TimeZone       *time.Location // business time zone for "today"
	LogLevel       slog.Level
	LogFormat      string // "json" or "text"
	Playground     bool
	Introspection  bool
	DBMaxConns     int
	RequestTimeout time.Duration // deadline of one request, down to the database
	IdempotencyTTL time.Duration // how long an Idempotency-Key is remembered

	// Authentication (README, "Security"). AuthRequired is the default;
	// serve refuses to start without a key to verify tokens with.
	AuthRequired     bool
	JWTSecret        []byte
	JWTPublicKeyFile string
	JWTIssuer        string
	JWTAudience      string
	JWTLeeway        time.Duration
	CORSOrigins      []string // browsers allowed to call the API; none by default

	// Limits on what one query may ask for.
	MaxDepth      int
	MaxComplexity int
	MaxAliases    int
	MaxTokens     int

	// Caps of the subscription streams (WebSocket connections and SSE
	// responses on /graphql), per server process.
	SubscriptionsPerConnection        int // subscriptions one WebSocket connection may hold
	SubscriptionConnectionsPerSubject int // streams one token subject may hold open
	SubscriptionBuffer                int // events that may wait for a subscriber; one more drops it

	// ServingRole and ServingRolePassword: the PostgreSQL role that
	// `factoring migrate` creates or updates with only the privileges
	// `factoring serve` needs (no DDL, no UPDATE/DELETE of audit events).
	ServingRole         string
	ServingRolePassword string

	// AdminAddr is the admin listener's address: /metrics and
	// /debug/pprof/*, never on the API's address; "" when off
	// (FACTORING_ADMIN_ADDR=off).
	AdminAddr string

	// Deprecated names the variables read under an old name, each with
	// what replaces it: serve logs them at start.
	Deprecated []string

	// TrustedDocuments, when set, is the path of a JSON object mapping
	// the SHA-256 of each operation the server may run to its document:
	// any other operation is refused (internal/app loads it).
	TrustedDocuments string
}

// Defaults, as docs/operaciones.md lists them.
const (
	DefaultDatabaseURL  = "sqlite://./data/factoring.db"
	DefaultHTTPAddr     = ":8080"
	DefaultTasa         = "2.00"
	DefaultAnticipo     = "100.00"
	DefaultComision     = "0.00"
	DefaultTasaMora     = "0.00"
	DefaultDiasRecompra = 30
	// DefaultConcentracion caps nothing: 100 % of the line on one deudor.
	DefaultConcentracion = "100.00"
	DefaultTimeZone      = "America/Santiago"
	DefaultServingRole   = "factoring_app"
	DefaultAdminAddr     = "127.0.0.1:9090"
)

// roleName is a plain PostgreSQL identifier (internal/database checks the
// same when it creates the role).
var roleName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Load reads the configuration through getenv (os.LookupEnv in main) and
// returns every problem at once.
func Load(getenv func(string) (string, bool)) (Config, error) {
	r := reader{getenv: getenv}
	cfg := Config{
		DatabaseURL:         r.str("FACTORING_DATABASE_URL", DefaultDatabaseURL),
		HTTPAddr:            r.addr("FACTORING_HTTP_ADDR", DefaultHTTPAddr),
		TasaDescuento:       r.tasa("FACTORING_TASA_DESCUENTO", DefaultTasa),
		ConcentracionMaxima: r.tasa("FACTORING_CONCENTRACION_MAXIMA", DefaultConcentracion),
		ExigirAcuse:         r.boolean("FACTORING_EXIGIR_ACUSE", false),
		Anticipo:            r.tasa("FACTORING_ANTICIPO", DefaultAnticipo),
		Comision:            r.monto("FACTORING_COMISION", DefaultComision),
		TasaMora:            r.tasaMora("FACTORING_TASA_MORA", DefaultTasaMora),
		DiasRecompra:        r.intRange("FACTORING_DIAS_RECOMPRA", DefaultDiasRecompra, 0, 3650),
		FechaNegocio:        r.fecha("FACTORING_FECHA_NEGOCIO"),
		TimeZone:            r.zone("FACTORING_TIMEZONE", DefaultTimeZone),
		LogLevel:            r.level("FACTORING_LOG_LEVEL", "info"),
		LogFormat:           r.oneOf("FACTORING_LOG_FORMAT", "json", "json", "text"),
		Playground:          r.boolean("FACTORING_PLAYGROUND", true),
		Introspection:       r.boolean("FACTORING_INTROSPECTION", true),
		DBMaxConns:          r.intRange("FACTORING_DB_MAX_CONNS", 16, 1, 1000),
		RequestTimeout:      r.duration("FACTORING_REQUEST_TIMEOUT", 30*time.Second, time.Second, 10*time.Minute),
		IdempotencyTTL:      r.duration("FACTORING_IDEMPOTENCY_TTL", 24*time.Hour, time.Minute, 30*24*time.Hour),

		AuthRequired:     r.oneOf("FACTORING_AUTH", "required", "required", "disabled") == "required",
		JWTSecret:        []byte(r.str("FACTORING_JWT_SECRET", "")),
		JWTPublicKeyFile: r.str("FACTORING_JWT_PUBLIC_KEY_FILE", ""),
		JWTIssuer:        r.str("FACTORING_JWT_ISSUER", ""),
		JWTAudience:      r.str("FACTORING_JWT_AUDIENCE", ""),
		JWTLeeway:        r.duration("FACTORING_JWT_LEEWAY", 30*time.Second, 0, 5*time.Minute),
		CORSOrigins:      origins(r.str("FACTORING_CORS_ORIGINS", "")),

		MaxDepth:      r.intRange("FACTORING_MAX_DEPTH", 12, 2, 100),
		MaxComplexity: r.intRange("FACTORING_MAX_COMPLEXITY", 150_000, 100, 10_000_000),
		MaxAliases:    r.intRange("FACTORING_MAX_ALIASES", 30, 1, 1000), // 0 would read as "unset" (gqlserver.Limits)
		MaxTokens:     r.intRange("FACTORING_MAX_TOKENS", 5_000, 100, 1_000_000),

		SubscriptionsPerConnection:        r.intRange("FACTORING_SUBSCRIPTIONS_PER_CONNECTION", 20, 1, 1000),
		SubscriptionConnectionsPerSubject: r.intRange("FACTORING_SUBSCRIPTION_CONNECTIONS_PER_SUBJECT", 10, 1, 100_000),
		SubscriptionBuffer:                r.intRange("FACTORING_SUBSCRIPTION_BUFFER", 256, 1, 100_000),

		ServingRole:         r.str("FACTORING_DB_SERVING_ROLE", DefaultServingRole),
		ServingRolePassword: r.str("FACTORING_DB_SERVING_PASSWORD", ""),

		TrustedDocuments: r.str("FACTORING_TRUSTED_DOCUMENTS", ""),
		AdminAddr:        r.str("FACTORING_ADMIN_ADDR", ""),
	}
	adminVar := "FACTORING_ADMIN_ADDR"
	if pprof := r.str("FACTORING_PPROF_ADDR", ""); pprof != "" {
		// The debug listener of earlier versions became the admin
		// listener: its variable still names the address, unless the new
		// one is set.
		cfg.Deprecated = append(cfg.Deprecated,
			"FACTORING_PPROF_ADDR está obsoleta: use FACTORING_ADMIN_ADDR (la escucha de administración sirve /metrics y /debug/pprof)")
		if cfg.AdminAddr == "" {
			cfg.AdminAddr, adminVar = pprof, "FACTORING_PPROF_ADDR"
		}
	}
	switch {
	case cfg.AdminAddr == "":
		cfg.AdminAddr = DefaultAdminAddr
	case strings.EqualFold(cfg.AdminAddr, "off"):
		cfg.AdminAddr = ""
	}
	if !roleName.MatchString(cfg.ServingRole) {
		r.fail("FACTORING_DB_SERVING_ROLE", "%q no es un nombre de rol: use minúsculas, dígitos y _ (máximo 63)", cfg.ServingRole)
	}
	for _, o := range cfg.CORSOrigins {
		if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || o == "*" {
			r.fail("FACTORING_CORS_ORIGINS", "%q no es un origen (p. ej. https://app.banpro.cl); no se admite *", o)
		}
	}
	if len(cfg.JWTSecret) > 0 && len(cfg.JWTSecret) < 32 {
		r.fail("FACTORING_JWT_SECRET", "debe tener al menos 32 bytes (tiene %d)", len(cfg.JWTSecret))
	}
	if cfg.AdminAddr != "" {
		if _, port, err := net.SplitHostPort(cfg.AdminAddr); err != nil || port == "" {
			r.fail(adminVar, "%q no es una dirección host:puerto (p. ej. 127.0.0.1:9090) ni off", cfg.AdminAddr)
		} else if sameListener(cfg.AdminAddr, cfg.HTTPAddr) {
			r.fail(adminVar, "%q coincide con FACTORING_HTTP_ADDR: la escucha de administración nunca va en el puerto público", cfg.AdminAddr)
		}
	}
	if !strings.HasPrefix(cfg.DatabaseURL, "postgres://") && !strings.HasPrefix(cfg.DatabaseURL, "postgresql://") &&
		!strings.HasPrefix(cfg.DatabaseURL, "sqlite://") {
		r.fail("FACTORING_DATABASE_URL", "debe empezar con postgres:// o sqlite://")
	}
	return cfg, errors.Join(r.errs...)
}

// sameListener reports whether two listen addresses would take the same
// port: equal ports on the same host, or on any host when either listens
// on all of them. Port 0 (any free port) never clashes.
func sameListener(a, b string) bool {
	ha, pa, errA := net.SplitHostPort(a)
	hb, pb, errB := net.SplitHostPort(b)
	if errA != nil || errB != nil || pa != pb || pa == "0" {
		return false
	}
	all := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	return ha == hb || all(ha) || all(hb)
}

// origins reads a comma-separated list of origins (scheme://host[:port]).
func origins(s string) []string {
	var out []string
	for o := range strings.SplitSeq(s, ",") {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			out = append(out, o)
		}
	}
	return out
}

type reader struct {
	getenv func(string) (string, bool)
	errs   []error
}

func (r *reader) fail(name, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
}

func (r *reader) str(name, def string) string {
	if v, ok := r.getenv(name); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return def
}

func (r *reader) addr(name, def string) string {
	v := r.str(name, def)
	if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
		r.fail(name, "%q no es una dirección host:puerto (p. ej. :8080)", v)
	}
	return v
}

func (r *reader) tasa(name, def string) decimal.Decimal {
	v := r.str(name, def)
	d, err := decimal.NewFromString(v)
	switch {
	case err != nil || strings.ContainsAny(v, "eE"):
		r.fail(name, "%q no es un porcentaje (p. ej. 2.00)", v)
	case !d.IsPositive() || d.GreaterThan(decimal.NewFromInt(100)):
		r.fail(name, "%s está fuera del rango permitido: debe ser mayor que 0 y a lo más 100", v)
	case d.Exponent() < -2 && !d.Equal(d.Round(2)):
		r.fail(name, "%s tiene más de 2 decimales", v)
	}
	return d.Round(2)
}

// tasaMora reads a monthly late-interest rate: a percentage from 0 (no
// interest) to 100, at most two decimals.
func (r *reader) tasaMora(name, def string) decimal.Decimal {
	v := r.str(name, def)
	d, err := decimal.NewFromString(v)
	switch {
	case err != nil || strings.ContainsAny(v, "eE"):
		r.fail(name, "%q no es un porcentaje mensual (p. ej. 1.50)", v)
	case d.IsNegative() || d.GreaterThan(decimal.NewFromInt(100)):
		r.fail(name, "%s está fuera del rango permitido: de 0 a 100", v)
	case !d.Equal(d.Round(2)):
		r.fail(name, "%s tiene más de 2 decimales", v)
	}
	return d.Round(2)
}

// monto reads an amount: not negative, at most two decimals and 13
// integer digits (numeric(15,2)).
func (r *reader) monto(name, def string) decimal.Decimal {
	v := r.str(name, def)
	d, err := decimal.NewFromString(v)
	switch {
	case err != nil || strings.ContainsAny(v, "eE"):
		r.fail(name, "%q no es un monto (p. ej. 15000.00)", v)
	case d.IsNegative():
		r.fail(name, "%s no puede ser negativo", v)
	case !d.Equal(d.Round(2)):
		r.fail(name, "%s tiene más de 2 decimales", v)
	case d.GreaterThanOrEqual(decimal.New(1, 13)):
		r.fail(name, "%s tiene más de 13 dígitos enteros", v)
	}
	return d.Round(2)
}

// fecha reads an optional calendar date, YYYY-MM-DD, as midnight UTC (the
// form of every date in this code base); zero when unset.
func (r *reader) fecha(name string) time.Time {
	v := r.str(name, "")
	if v == "" {
		return time.Time{}
	}
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		r.fail(name, "%q no es una fecha AAAA-MM-DD (p. ej. 2026-11-26)", v)
		return time.Time{}
	}
	return d
}

func (r *reader) zone(name, def string) *time.Location {
	v := r.str(name, def)
	loc, err := time.LoadLocation(v)
	if err != nil {
		r.fail(name, "%q no es una zona horaria IANA (p. ej. America/Santiago)", v)
		return time.UTC
	}
	return loc
}

func (r *reader) level(name, def string) slog.Level {
	v := r.oneOf(name, def, "debug", "info", "warn", "error")
	var l slog.Level
	_ = l.UnmarshalText([]byte(v))
	return l
}

func (r *reader) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(r.str(name, def))
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	r.fail(name, "%q no es válido; use %s", v, strings.Join(allowed, ", "))
	return def
}

func (r *reader) boolean(name string, def bool) bool {
	v, ok := r.getenv(name)
	if !ok || strings.TrimSpace(v) == "" {
		return def
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		r.fail(name, "%q no es un booleano; use true o false", v)
		return def
	}
	return b
}

func (r *reader) intRange(name string, def, lo, hi int) int {
	v, ok := r.getenv(name)
	if !ok || strings.TrimSpace(v) == "" {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < lo || n > hi {
		r.fail(name, "%q debe ser un entero entre %d y %d", v, lo, hi)
		return def
	}
	return n
}

func (r *reader) duration(name string, def, lo, hi time.Duration) time.Duration {
	v, ok := r.getenv(name)
	if !ok || strings.TrimSpace(v) == "" {
		return def
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d < lo || d > hi {
		r.fail(name, "%q debe ser una duración entre %s y %s (p. ej. 30s)", v, lo, hi)
		return def
	}
	return d
}
