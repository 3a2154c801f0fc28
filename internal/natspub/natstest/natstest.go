// Package natstest gives tests a NATS JetStream server: the shared one
// (FACTORING_TEST_NATS_URL, default nats://127.0.0.1:4222), or a private
// nats-server process they can stop and start again to simulate an
// outage. Without either the test is skipped, unless
// FACTORING_REQUIRE_NATS=1 (CI), which makes it fail.
package natstest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// URL returns the shared server's URL, skipping the test when it does not
// answer.
func URL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("FACTORING_TEST_NATS_URL")
	if url == "" {
		url = "nats://127.0.0.1:4222"
	}
	nc, err := nats.Connect(url, nats.Timeout(2*time.Second))
	if err != nil {
		unavailable(t, fmt.Sprintf("NATS no disponible en %s: %v", url, err))
	}
	nc.Close()
	return url
}

func unavailable(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("FACTORING_REQUIRE_NATS") == "1" {
		t.Fatal(msg + " y FACTORING_REQUIRE_NATS=1")
	}
	t.Skip(msg + " (prueba omitida; FACTORING_REQUIRE_NATS=1 para exigirla)")
}

// Nombre returns a name unique to this run, for a stream and a subject
// prefix nobody else uses: "<prefix><random hex>".
func Nombre(prefix string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// Servidor is a private nats-server process with JetStream, on a fixed
// port and store directory, so it comes back with its streams after Stop.
type Servidor struct {
	t    testing.TB
	Port int
	dir  string
	cmd  *exec.Cmd
}

// Privado starts a nats-server from PATH on a free port, stopped at
// cleanup; skipped when there is no nats-server binary.
func Privado(t testing.TB) *Servidor {
	t.Helper()
	if _, err := exec.LookPath("nats-server"); err != nil {
		unavailable(t, "no hay nats-server en el PATH")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	s := &Servidor{t: t, Port: port, dir: t.TempDir()}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// URL is the server's client URL.
func (s *Servidor) URL() string { return "nats://127.0.0.1:" + strconv.Itoa(s.Port) }

// Start starts the server (again) and waits until it accepts clients.
func (s *Servidor) Start() {
	s.t.Helper()
	s.cmd = exec.Command("nats-server", "-a", "127.0.0.1", "-p", strconv.Itoa(s.Port), "-js", "-sd", s.dir)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("nats-server: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		nc, err := nats.Connect(s.URL(), nats.Timeout(time.Second))
		if err == nil {
			nc.Close()
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("nats-server no arrancó en %s: %v", s.URL(), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills the server and waits for it to exit.
func (s *Servidor) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}
