package httpserver

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"time"
)

// DebugConfig is the opt-in debug listener (FACTORING_PPROF_ADDR): pprof
// profiles and a few counters, on an address of its own that is never the
// API's, so it can stay on a private interface.
type DebugConfig struct {
	Addr   string
	Logger *slog.Logger
	// Statements returns how many SQL statements the server has run.
	Statements func() int64
}

// ListenDebug binds cfg.Addr now, so that an address that cannot be used
// stops the start, and serves /debug/pprof/* and /debug/vars there in the
// background until ctx is cancelled. It returns the address it bound.
func ListenDebug(ctx context.Context, cfg DebugConfig) (string, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/vars", func(w http.ResponseWriter, _ *http.Request) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		vars := map[string]any{
			"goroutines":      runtime.NumGoroutine(),
			"heap_alloc":      ms.HeapAlloc,
			"heap_sys":        ms.HeapSys,
			"num_gc":          ms.NumGC,
			"sql_statements":  int64(0),
			"total_alloc":     ms.TotalAlloc,
			"gc_pause_ns_sum": ms.PauseTotalNs,
		}
		if cfg.Statements != nil {
			vars["sql_statements"] = cfg.Statements()
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(vars)
	})
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	addr := ln.Addr().String()
	cfg.Logger.Warn("escucha de depuración (pprof) activa: no la exponga fuera de la red interna", "addr", addr)
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			cfg.Logger.Error("escucha de depuración", "error", err.Error())
		}
	}()
	return addr, nil
}
