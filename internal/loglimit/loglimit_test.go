package loglimit_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/loglimit"
)

// Ensure that no value exceeds the per-value cap and no line the per-line
// cap, for strings, errors and groups, with a note of what was cut, and
// that short records pass untouched.
func TestLineasAcotadas(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		t.Run(format, func(t *testing.T) {
			var out bytes.Buffer
			var h slog.Handler = slog.NewJSONHandler(&out, nil)
			if format == "text" {
				h = slog.NewTextHandler(&out, nil)
			}
			log := slog.New(loglimit.Capped(h, loglimit.MaxValueBytes, loglimit.MaxLineBytes))

			huge := strings.Repeat("ñ", 3<<20/2) // 3 MB
			log.Error("error interno", "request_id", "r-1", "error", errors.New(huge))
			line := out.String()
			assert.Less(t, len(line), loglimit.MaxValueBytes+300, "one value is cut to about 2 KB")
			assert.Contains(t, line, "bytes omitidos")
			assert.Contains(t, line, "r-1")

			out.Reset()
			args := []any{"request_id", "r-2"}
			for i := range 20 {
				args = append(args, slog.Group("g", "k"+strings.Repeat("x", i), strings.Repeat("v", 3000)))
			}
			log.With("servicio", huge).Warn("muchos valores", args...)
			t.Logf("%s: %d bytes", format, len(out.String()))
			assert.LessOrEqual(t, len(out.String()), loglimit.MaxLineBytes+256,
				"the line stays near 8 KB whatever the number of values")

			out.Reset()
			log.Info("solicitud", "status", 200, "duration_ms", 1.5, "path", "/graphql")
			assert.NotContains(t, out.String(), "omitidos")
			assert.Contains(t, out.String(), "/graphql")
		})
	}
}

// Ensure that Every lets one event through per period and counts the ones
// it held back.
func TestUnaLineaPorPeriodo(t *testing.T) {
	now := time.Unix(1000, 0)
	e := loglimit.NewEveryWithClock(10*time.Second, func() time.Time { return now })
	ok, n := e.Allow()
	require.True(t, ok)
	assert.Zero(t, n)
	for range 3051 {
		ok, _ := e.Allow()
		require.False(t, ok)
	}
	now = now.Add(10 * time.Second)
	ok, n = e.Allow()
	require.True(t, ok)
	assert.Equal(t, 3051, n)
	now = now.Add(time.Second)
	ok, _ = e.Allow()
	assert.False(t, ok)
}
