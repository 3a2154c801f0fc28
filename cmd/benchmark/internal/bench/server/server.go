// Package server runs the real API binary as a subprocess for the
// benchmark and samples it: CPU time and memory from /proc/<pid>, and the
// SQL statement counter from the admin listener's /metrics
// (factoring_sql_statements_total). Every sample tolerates a server that
// does not offer it (no admin listener, not Linux): it reports "unknown"
// instead.
package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat
// (100 on every Linux architecture Go supports).
const clockTicks = 100

// Options of Start.
type Options struct {
	// Binary is the API's binary (bin/factoring).
	Binary string
	// Env is added to the server's environment (FACTORING_DATABASE_URL,
	// FACTORING_JWT_SECRET, ...). FACTORING_HTTP_ADDR and
	// FACTORING_ADMIN_ADDR are set by Start.
	Env []string
	// Log receives the server's stdout and stderr.
	Log io.Writer
}

// Server is a running API process, or a server someone else runs
// (Attach).
type Server struct {
	// URL is the GraphQL endpoint, http://127.0.0.1:port/graphql.
	URL string
	// Base is http://127.0.0.1:port.
	Base string
	// AdminAddr is the admin listener (/metrics, pprof), "" if unknown.
	AdminAddr string
	// Pid is the process id, 0 if unknown.
	Pid int

	cmd    *exec.Cmd
	done   chan error
	client *http.Client
}

// Start runs `<binary> serve --addr 127.0.0.1:<free port>` with the admin
// listener on another free port and waits until /readyz answers 200.
func Start(ctx context.Context, opts Options) (*Server, error) {
	httpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	adminAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(opts.Binary, "serve", "--addr", httpAddr)
	cmd.Env = append(os.Environ(), opts.Env...)
	cmd.Env = append(cmd.Env, "FACTORING_HTTP_ADDR="+httpAddr, "FACTORING_ADMIN_ADDR="+adminAddr)
	cmd.Stdout, cmd.Stderr = opts.Log, opts.Log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("iniciar %s: %w", opts.Binary, err)
	}
	s := &Server{
		URL: "http://" + httpAddr + "/graphql", Base: "http://" + httpAddr, AdminAddr: adminAddr,
		Pid: cmd.Process.Pid, cmd: cmd, done: make(chan error, 1),
		client: &http.Client{Timeout: 5 * time.Second},
	}
	go func() { s.done <- cmd.Wait() }()
	if err := s.waitReady(ctx, 60*time.Second); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

// Attach describes a server already running at base (http://host:port),
// with its admin listener at adminAddr and its process id, either of which
// may be unknown ("" and 0).
func Attach(base, adminAddr string, pid int) *Server {
	base = strings.TrimSuffix(strings.TrimSuffix(base, "/graphql"), "/")
	return &Server{URL: base + "/graphql", Base: base, AdminAddr: adminAddr, Pid: pid,
		client: &http.Client{Timeout: 5 * time.Second}}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("buscar un puerto libre: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("el servidor terminó al iniciar (%v); vea su log", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := s.client.Get(s.Base + "/readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("el servidor no quedó listo en %s", timeout)
}

// Stop sends SIGTERM (graceful shutdown) and waits up to 15 s, then kills.
// It does nothing for an attached server.
func (s *Server) Stop() error {
	if s.cmd == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		s.done <- err
		return nil
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		return errors.New("el servidor no terminó tras SIGTERM; se le envió SIGKILL")
	}
}

// Proc is a sample of the process's counters.
type Proc struct {
	CPU time.Duration // user + system time so far
	RSS int64         // resident set now, bytes
	HWM int64         // peak resident set, bytes
}

// Proc samples /proc/<pid>. ok is false when it cannot (pid unknown, not
// Linux, process gone).
func (s *Server) Proc() (p Proc, ok bool) {
	if s.Pid == 0 {
		return p, false
	}
	return ReadProc(s.Pid)
}

// ReadProc samples /proc/<pid>/stat and /proc/<pid>/status.
func ReadProc(pid int) (p Proc, ok bool) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return p, false
	}
	// The command name (field 2) may hold spaces: count fields after its ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return p, false
	}
	fields := strings.Fields(string(stat[i+1:]))
	// fields[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(fields) < 13 {
		return p, false
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return p, false
	}
	p.CPU = time.Duration(utime+stime) * time.Second / clockTicks

	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return p, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, found := strings.Cut(sc.Text(), ":")
		if !found {
			continue
		}
		var dst *int64
		switch name {
		case "VmRSS":
			dst = &p.RSS
		case "VmHWM":
			dst = &p.HWM
		default:
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err == nil {
			*dst = kb * 1024
		}
	}
	return p, true
}

// statementsMetric is the server's SQL statement counter on /metrics.
const statementsMetric = "factoring_sql_statements_total"

// Statements reads the server's SQL statement counter from
// http://<admin>/metrics (factoring_sql_statements_total). ok is false when
// the server has no admin listener or does not publish the counter.
func (s *Server) Statements(ctx context.Context) (n int64, ok bool) {
	if s.AdminAddr == "" {
		return 0, false
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.AdminAddr+"/metrics", nil)
	if err != nil {
		return 0, false
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, false
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// The text format: "name value" for a metric without labels; the
		// value is a float (1.234567e+06 for large counts).
		name, value, found := strings.Cut(sc.Text(), " ")
		if !found || name != statementsMetric {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return 0, false
		}
		return int64(f), true
	}
	return 0, false
}

// Profile fetches a CPU profile of d (whole seconds, at least one) from the
// admin listener's /debug/pprof/profile and writes it to path.
func (s *Server) Profile(ctx context.Context, d time.Duration, path string) error {
	if s.AdminAddr == "" {
		return errors.New("sin escucha de administración")
	}
	secs := max(int(d.Seconds()), 1)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", s.AdminAddr, secs), nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: time.Duration(secs+30) * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/debug/pprof/profile: HTTP %d", resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
