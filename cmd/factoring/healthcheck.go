package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// healthcheck asks the local server's /healthz and fails unless it answers
// 200. The image is distroless (no shell, no curl), so Docker's HEALTHCHECK
// and docker compose run the binary itself.
func (m *Main) healthcheck(ctx context.Context, args []string) error {
	fs := m.newFlagSet("healthcheck")
	addr := fs.String("addr", "", "dirección del servidor, HOST:PUERTO (por omisión FACTORING_HTTP_ADDR)")
	timeout := fs.Duration("timeout", 3*time.Second, "cuánto esperar la respuesta")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if *addr == "" {
		cfg, err := m.config()
		if err != nil {
			return err
		}
		*addr = cfg.HTTPAddr
	}
	target, err := healthURL(*addr)
	if err != nil {
		fmt.Fprintln(m.Stderr, err)
		return errUsage
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %s no responde: %w", target, err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<16))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s respondió %d", target, res.StatusCode)
	}
	fmt.Fprintf(m.Stdout, "ok: %s\n", target)
	return nil
}

// healthURL is the /healthz URL of a server listening on addr. A listen
// address without a host, or on every interface, is reached on the
// loopback.
func healthURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if n, convErr := strconv.Atoi(port); err != nil || convErr != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("dirección inválida %q: use HOST:PUERTO o :PUERTO", addr)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}
