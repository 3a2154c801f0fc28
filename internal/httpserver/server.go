// Package httpserver assembles the API's HTTP server: the routes (/graphql,
// /playground, /schema.graphql, /healthz, /readyz) behind the middleware
// every request meets, in order: request id, tracing (when configured),
// access log, panic recovery, security headers, CORS, request deadline,
// authentication and body limit.
//
// It knows nothing of GraphQL: it is handed the /graphql handler and the
// schema's SDL (internal/app wires them from internal/gqlserver and graph).
// Errors it answers itself take their status from internal/apperror's
// table, in the same format as GraphQL errors.
package httpserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/playground"
	"github.com/banpro/factoring/internal/reqlog"
)

// MaxBodyBytes bounds a request body: 1 MiB, far above any real query.
const MaxBodyBytes = 1 << 20

// Config holds what the server needs.
type Config struct {
	Addr string
	// GraphQL serves /graphql; nil leaves the route out.
	GraphQL http.Handler
	// SDL is served at /schema.graphql; empty leaves the route out (it is
	// what introspection would tell, so it follows the same switch).
	SDL            string
	Logger         *slog.Logger
	Playground     bool
	RequestTimeout time.Duration
	// Verifier checks bearer tokens on /graphql and /schema.graphql; nil
	// disables authentication (the embedded demo).
	Verifier TokenVerifier
	// CORSOrigins are the browser origins allowed to call the API.
	CORSOrigins []string
	// Ready reports whether the API can serve: the database answers and its
	// migrations are current. /readyz calls it.
	Ready func(ctx context.Context) error
	// Trace, when set, wraps every request right after it gets its id and
	// before the access log, so that the access log and everything after
	// it run inside the request's span (internal/telemetry).
	Trace func(http.Handler) http.Handler
	// Observe, when set, is handed the summary of every finished request,
	// the one its access-log line tells (internal/telemetry's metrics).
	Observe func(context.Context, reqlog.Summary)
	// BeforeShutdown, when set, runs when the server starts shutting
	// down, before it waits for requests in flight: it ends the
	// subscription streams, which would otherwise hold the shutdown
	// (SSE) or outlive it (WebSocket connections, which net/http no
	// longer tracks once upgraded).
	BeforeShutdown func()
}

// Server is the API's HTTP server.
type Server struct {
	cfg     Config
	handler http.Handler
}

// New builds the server: routes first, then the middleware wrapped around
// them so that a request meets it in the order listed in the package doc.
func New(cfg Config) (*Server, error) {
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	mux := http.NewServeMux()
	if cfg.GraphQL != nil {
		mux.Handle("/graphql", cfg.GraphQL)
	}
	if cfg.SDL != "" {
		mux.HandleFunc("GET /schema.graphql", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = io.WriteString(w, cfg.SDL)
		})
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", readyz(cfg))
	if cfg.Playground {
		pg, err := playground.New("Factoring API", "/playground", "/graphql")
		if err != nil {
			return nil, err
		}
		mux.Handle("GET /playground", pg)
		mux.Handle("GET /playground/assets/", pg)
		mux.Handle("GET /{$}", http.RedirectHandler("/playground", http.StatusFound))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, apperror.NotFoundf("Ruta desconocida. La API está en /graphql."))
	})

	var h http.Handler = mux
	h = limitBody(h, MaxBodyBytes)
	h = authenticate(h, cfg.Verifier, cfg.Logger)
	h = withDeadline(h, cfg.RequestTimeout)
	h = cors(h, cfg.CORSOrigins)
	h = securityHeaders(h)
	h = recoverPanics(h, cfg.Logger)
	h = accessLog(h, cfg.Logger, cfg.Observe)
	if cfg.Trace != nil {
		h = cfg.Trace(h)
	}
	h = withRequestID(h)
	return &Server{cfg: cfg, handler: h}, nil
}

// Handler returns the server's root handler (tests serve it with httptest).
func (s *Server) Handler() http.Handler { return s.handler }

// ListenAndServe serves on cfg.Addr until ctx is cancelled, then shuts down
// gracefully: it stops accepting, lets requests in flight finish (up to 20
// s) and returns. ready, if not nil, receives the address it listens on.
func (s *Server) ListenAndServe(ctx context.Context, ready chan<- string) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("escuchar en %s: %w", s.cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      s.cfg.RequestTimeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	s.cfg.Logger.Info("servidor HTTP escuchando", "addr", ln.Addr().String())
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.cfg.Logger.Info("apagando el servidor HTTP: esperando las solicitudes en curso")
	if s.cfg.BeforeShutdown != nil {
		s.cfg.BeforeShutdown()
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("apagado ordenado: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// readyz answers 200 when the database answers and its migrations are
// current, 503 otherwise (the reason goes to the log, not to the caller).
func readyz(cfg Config) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if cfg.Ready != nil {
			if err := cfg.Ready(ctx); err != nil {
				cfg.Logger.WarnContext(ctx, "no listo", "error", err.Error())
				writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "no listo"})
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}
}
