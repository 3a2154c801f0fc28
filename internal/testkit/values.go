// Values: the literals tests are written in (decimals, pointers, dates,
// RUTs) and a log buffer.

package testkit

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"

	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/rut"
)

// Dec parses a decimal literal, for test tables.
func Dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// Ptr returns a pointer to v.
func Ptr[T any](v T) *T { return &v }

// HoyFecha is the business date of Hoy, 2026-11-26, as the code base writes
// dates (midnight UTC).
var HoyFecha = clock.Today(Hoy, Santiago)

// Vence returns the date n days after HoyFecha (before it when n < 0).
func Vence(n int) time.Time { return HoyFecha.AddDate(0, 0, n) }

// seq numbers RUTs, names and invoice numbers so that no two builders in
// one process ever clash.
var seq atomic.Int64

// Body returns a fresh RUT body (8 digits) never handed out before in this
// process.
func Body() int { return 20_000_000 + int(seq.Add(1))*7 }

// BodyK returns a fresh RUT body whose check digit is K.
func BodyK() int {
	for {
		if b := Body(); rut.CheckDigit(b) == 'K' {
			return b
		}
	}
}

// Body7 returns a fresh RUT body of 7 digits (its canonical form has no
// leading zero: 9.876.543-3).
func Body7() int { return 1_000_000 + int(seq.Add(1))*7 }

// NewRUT returns a fresh RUT in canonical form.
func NewRUT() string {
	b := Body()
	return rut.Format(b, rut.CheckDigit(b))
}

// Spellings returns accepted spellings of the RUT with body b, the
// canonical one first: with and without dots, without a hyphen, with
// leading zeros, surrounded by spaces, with a lowercase k.
func Spellings(b int) []string {
	dv := string(rut.CheckDigit(b))
	digits := strconv.Itoa(b)
	return []string{
		rut.Format(b, rut.CheckDigit(b)),
		digits + "-" + dv,
		digits + strings.ToLower(dv),
		"  " + dotted(digits) + "-" + strings.ToLower(dv) + " ",
		dotted("0"+digits) + "-" + dv,
		"00" + digits + "-" + dv,
	}
}

// dotted groups digits by three from the right with dots.
func dotted(digits string) string {
	var b strings.Builder
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// SyncBuffer is a bytes.Buffer safe for concurrent writers: the destination
// of a server's log, or of a command's output, that a test reads while the
// server's goroutines write.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
