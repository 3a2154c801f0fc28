// Package loglimit bounds what the server's log may cost: the size of one
// line (Capped, a slog.Handler wrapper) and the rate of lines about one
// recurring condition (Every). A forged cursor once wrote one log line of
// 3.2 MB, and a 5 s database outage 3,052 ERROR lines.
//
// It imports only the standard library.
package loglimit

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"
)

// Default bounds of Capped: 2 KB per value, 8 KB per line.
const (
	MaxValueBytes = 2 << 10
	MaxLineBytes  = 8 << 10
)

// Capped wraps h so that no value it logs exceeds maxValue bytes and no
// record's message, keys and values together exceed maxLine bytes: longer
// strings (and errors, and fmt.Stringers) are cut, on a character
// boundary, with a note of how much was cut; attributes past the line's
// budget are left out, and counted (atributos_omitidos). Numbers,
// booleans, times and durations are never cut; they are small.
func Capped(h slog.Handler, maxValue, maxLine int) slog.Handler {
	return &capped{inner: h, maxValue: maxValue, maxLine: maxLine}
}

type capped struct {
	inner    slog.Handler
	maxValue int
	maxLine  int
	used     int // bytes of the attributes added by WithAttrs
}

func (c *capped) Enabled(ctx context.Context, l slog.Level) bool { return c.inner.Enabled(ctx, l) }

func (c *capped) Handle(ctx context.Context, r slog.Record) error {
	budget := c.maxLine - c.used
	msg := cut(r.Message, min(c.maxValue, max(budget, 0)))
	budget -= len(msg)
	out := slog.NewRecord(r.Time, r.Level, msg, r.PC)
	omitted := 0
	r.Attrs(func(a slog.Attr) bool {
		if budget <= 0 {
			omitted++
			return true
		}
		out.AddAttrs(c.attr(a, &budget))
		return true
	})
	if omitted > 0 {
		out.AddAttrs(slog.Int("atributos_omitidos", omitted))
	}
	return c.inner.Handle(ctx, out)
}

func (c *capped) WithAttrs(attrs []slog.Attr) slog.Handler {
	budget := c.maxLine - c.used
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = c.attr(a, &budget)
	}
	return &capped{inner: c.inner.WithAttrs(out), maxValue: c.maxValue, maxLine: c.maxLine, used: c.maxLine - budget}
}

func (c *capped) WithGroup(name string) slog.Handler {
	return &capped{inner: c.inner.WithGroup(name), maxValue: c.maxValue, maxLine: c.maxLine, used: c.used + len(name)}
}

// attrOverhead is what a handler writes around one attribute besides its
// key and value: quotes, separators, escapes of a few characters.
const attrOverhead = 8

// attr cuts a's value to what is left of the line's budget (at most
// maxValue) and charges it.
func (c *capped) attr(a slog.Attr, budget *int) slog.Attr {
	a.Value = a.Value.Resolve()
	*budget -= len(a.Key) + attrOverhead
	limit := min(c.maxValue, max(*budget, 0))
	switch a.Value.Kind() {
	case slog.KindString:
		s := cut(a.Value.String(), limit)
		*budget -= len(s)
		return slog.String(a.Key, s)
	case slog.KindGroup:
		var out []any
		for _, g := range a.Value.Group() {
			if *budget <= 0 {
				break // the record says how many top-level attributes it left out
			}
			out = append(out, c.attr(g, budget))
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		var s string
		switch v := a.Value.Any().(type) {
		case error:
			s = v.Error()
		case fmt.Stringer:
			s = v.String()
		case []byte:
			s = string(v)
		default:
			*budget -= 16
			return a
		}
		s = cut(s, limit)
		*budget -= len(s)
		return slog.String(a.Key, s)
	}
	*budget -= 16 // a number, a boolean, a time: about this much
	return a
}

// cut returns s if it fits in n bytes, else its first bytes, on a
// character boundary, and a note of how many bytes were left out, the
// whole at most n bytes when n leaves room for the note.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	note := fmt.Sprintf("…[%d bytes omitidos]", len(s))
	keep := max(n-len(note), 0)
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return s[:keep] + fmt.Sprintf("…[%d bytes omitidos]", len(s)-keep)
}

// Every lets through at most one event per period, and counts the ones it
// held back: the log of a condition that recurs on every request (a
// database outage) writes one line per period saying how many it
// suppressed, not one per request.
type Every struct {
	period time.Duration
	now    func() time.Time

	mu         sync.Mutex
	next       time.Time
	suppressed int
}

// NewEvery returns a limiter of one event per period.
func NewEvery(period time.Duration) *Every {
	return &Every{period: period, now: time.Now}
}

// NewEveryWithClock is NewEvery reading the time from now (tests).
func NewEveryWithClock(period time.Duration, now func() time.Time) *Every {
	return &Every{period: period, now: now}
}

// Allow reports whether this event may be logged and, if so, how many were
// held back since the last one that was.
func (e *Every) Allow() (ok bool, suppressed int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.now()
	if t.Before(e.next) {
		e.suppressed++
		return false, 0
	}
	n := e.suppressed
	e.suppressed, e.next = 0, t.Add(e.period)
	return true, n
}
