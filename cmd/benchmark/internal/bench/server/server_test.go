package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/cmd/benchmark/internal/bench/server"
)

func TestReadProc(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("sin /proc")
	}
	p, ok := server.ReadProc(os.Getpid())
	require.True(t, ok)
	assert.Positive(t, p.RSS)
	assert.GreaterOrEqual(t, p.HWM, p.RSS)

	_, ok = server.ReadProc(0x7ffffff0)
	assert.False(t, ok, "a process that does not exist")
}

// TestStatements ensures that the counter is read from the admin
// listener's /metrics, large values in the exponent form the text format
// uses included, and that a server without it reads as unknown.
func TestStatements(t *testing.T) {
	for metrics, want := range map[string]int64{
		"# HELP factoring_sql_statements_total x\n# TYPE factoring_sql_statements_total counter\nfactoring_sql_statements_total 12345\n": 12345,
		"go_goroutines 8\nfactoring_sql_statements_total_other 1\nfactoring_sql_statements_total 1.234567e+06\n":                         1234567,
	} {
		mux := http.NewServeMux()
		mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(metrics)) })
		with := httptest.NewServer(mux)
		n, ok := server.Attach("http://x", strings.TrimPrefix(with.URL, "http://"), 0).Statements(context.Background())
		with.Close()
		assert.True(t, ok)
		assert.Equal(t, want, n)
	}

	without := httptest.NewServer(http.NotFoundHandler())
	defer without.Close()
	_, ok := server.Attach("http://x", strings.TrimPrefix(without.URL, "http://"), 0).Statements(context.Background())
	assert.False(t, ok)
	_, ok = server.Attach("http://x", "", 0).Statements(context.Background())
	assert.False(t, ok)
}

func TestAttach(t *testing.T) {
	s := server.Attach("http://127.0.0.1:8080/graphql", "", 0)
	assert.Equal(t, "http://127.0.0.1:8080", s.Base)
	assert.Equal(t, "http://127.0.0.1:8080/graphql", s.URL)
	_, ok := s.Proc()
	assert.False(t, ok)
}

// TestProfile ensures that a CPU profile is fetched from the admin listener.
func TestProfile(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	debug := httptest.NewServer(mux)
	defer debug.Close()
	path := filepath.Join(t.TempDir(), "q1.pprof")
	s := server.Attach("http://x", strings.TrimPrefix(debug.URL, "http://"), 0)
	require.NoError(t, s.Profile(context.Background(), time.Second, path))
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Positive(t, info.Size())

	assert.Error(t, server.Attach("http://x", "", 0).Profile(context.Background(), time.Second, path))
}
