// The served API: the whole server (services, GraphQL, the HTTP
// middleware) over a test database on an httptest server, the way the
// command builds it, so integration tests exercise exactly what runs in
// production.

package testkit

import (
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/banpro/factoring/internal/app"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/config"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/despacho"
)

// Santiago is the default business time zone.
var Santiago = mustZone("America/Santiago")

// Hoy is the business date the tests' clock starts on: 2026-11-26 at noon
// in Santiago. 300000.00 due on 2027-03-26 is then 120 days away, the worked
// example of docs/dominio.md.
var Hoy = time.Date(2026, 11, 26, 12, 0, 0, 0, Santiago)

// ServeOptions adjust the server of Serve.
type ServeOptions struct {
	// Clock defaults to a fixed clock at Hoy.
	Clock clock.Clock
	// Config defaults to the production defaults (tasa 2.00, Santiago).
	Config *config.Config
	// Logger defaults to one that discards everything.
	Logger *slog.Logger
	// Eventos defaults to the production defaults of events out (webhook
	// URLs https and public only).
	Eventos *despacho.Config
}

// Config returns the production defaults, as the environment would give
// with nothing set, except that authentication is disabled: tests that are
// about authentication turn it on with WithAuth.
func Config(t testing.TB) config.Config {
	t.Helper()
	cfg, err := config.Load(func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("default config: %v", err)
	}
	cfg.AuthRequired = false
	return cfg
}

// Secret is the HS256 secret of WithAuth.
var Secret = []byte("secreto-de-pruebas-de-32-bytes!!")

// WithAuth returns cfg with authentication required, verifying HS256 tokens
// signed with Secret (see Token).
func WithAuth(cfg config.Config) config.Config {
	cfg.AuthRequired = true
	cfg.JWTSecret = Secret
	return cfg
}

// Token signs a one-hour token for subject with roles, as WithAuth's server
// accepts it.
func Token(t testing.TB, subject string, roles ...auth.Role) string {
	t.Helper()
	tok, err := auth.IssueHS256(Secret, subject, roles, time.Hour, "", "", time.Now())
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	return tok
}

// Serve starts the API over db and returns a GraphQL client for it, and the
// clock the server reads (a *clock.Fixed unless opts gave another).
func Serve(t testing.TB, db *database.DB, opts ServeOptions) (*Client, clock.Clock) {
	t.Helper()
	h, c := Handler(t, db, opts)
	return NewClient(t, h), c
}

// Handler is the API over db as Serve serves it, for tests that call its
// ServeHTTP themselves, and the clock it reads.
func Handler(t testing.TB, db *database.DB, opts ServeOptions) (http.Handler, clock.Clock) {
	t.Helper()
	if opts.Clock == nil {
		opts.Clock = clock.NewFixed(Hoy)
	}
	cfg := Config(t)
	if opts.Config != nil {
		cfg = *opts.Config
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv, err := app.NewServer(app.Options{DB: db, Config: cfg, Clock: opts.Clock, Logger: opts.Logger, Eventos: opts.Eventos})
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	return srv.Handler(), opts.Clock
}

// Services returns the domain services over db, as the server wires them,
// with a fixed clock at Hoy.
func Services(t testing.TB, db *database.DB) (app.ServiceSet, *clock.Fixed) {
	t.Helper()
	c := clock.NewFixed(Hoy)
	return app.Services(db, Config(t), c), c
}
