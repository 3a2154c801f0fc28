package httpserver

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// AdminConfig is the admin listener (FACTORING_ADMIN_ADDR): what an operator
// scrapes and profiles, on an address of its own that is never the API's,
// so that it can stay on a private interface. It has no authentication:
// whoever reaches it may read the metrics and take profiles.
type AdminConfig struct {
	Addr   string
	Logger *slog.Logger
	// Metrics serves GET /metrics (internal/telemetry's registry in the
	// Prometheus text format); nil leaves the route out.
	Metrics http.Handler
}

// adminIndex is the text of GET /: what the listener offers.
const adminIndex = `factoring: escucha de administración
/metrics        métricas Prometheus
/debug/pprof/   perfiles de Go (go tool pprof http://HOST/debug/pprof/profile?seconds=30)
`

// AdminHandler returns the admin listener's routes: /metrics and
// /debug/pprof/*.
func AdminHandler(cfg AdminConfig) http.Handler {
	mux := http.NewServeMux()
	if cfg.Metrics != nil {
		mux.Handle("GET /metrics", cfg.Metrics)
	}
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, adminIndex)
	})
	return mux
}

// ListenAdmin binds cfg.Addr now, so that an address that cannot be used
// stops the start, and serves AdminHandler there in the background until
// ctx is cancelled. It returns the address it bound.
func ListenAdmin(ctx context.Context, cfg AdminConfig) (string, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return "", err
	}
	// A CPU profile or an execution trace streams for as long as asked
	// (?seconds=N): the write timeout leaves room for a few minutes.
	srv := &http.Server{
		Handler:           AdminHandler(cfg),
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
	addr := ln.Addr().String()
	if host, _, _ := net.SplitHostPort(addr); net.ParseIP(host) != nil && net.ParseIP(host).IsLoopback() {
		cfg.Logger.Info("escucha de administración activa (/metrics, /debug/pprof)", "addr", addr)
	} else {
		cfg.Logger.Warn("escucha de administración activa (/metrics, /debug/pprof) fuera de loopback: "+
			"no tiene autenticación; déjela solo en la red interna, nunca publicada", "addr", addr)
	}
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			cfg.Logger.Error("escucha de administración", "error", err.Error())
		}
	}()
	return addr, nil
}
