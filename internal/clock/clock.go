// Package clock is the one source of "now" and of the business "today".
//
// Every rule that depends on the date reads a Clock, so tests can set it.
// Instants are truncated to microseconds, the precision PostgreSQL keeps, so
// that a value reads back exactly as it was written on either database.
package clock

import (
	"sync"
	"time"
)

// Clock tells the current instant.
type Clock interface {
	Now() time.Time
}

// System is the real clock.
type System struct{}

// Now returns the current instant in UTC, truncated to microseconds.
func (System) Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Fixed is a clock for tests: it reads the instant it was set to, until moved.
type Fixed struct {
	mu sync.Mutex
	t  time.Time
}

// NewFixed returns a clock stopped at t.
func NewFixed(t time.Time) *Fixed { return &Fixed{t: t.UTC().Truncate(time.Microsecond)} }

// Now returns the instant the clock is stopped at.
func (f *Fixed) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

// Set stops the clock at t.
func (f *Fixed) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = t.UTC().Truncate(time.Microsecond)
}

// Advance moves the clock forward by d.
func (f *Fixed) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

// Stepping is a clock for tests that moves forward by a step every time it
// is read, so that no two reads agree: a test sees whether code read the
// time once for what is meant to be one instant, or read it again.
type Stepping struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

// NewStepping returns a clock whose first read is start and each later one
// step after the one before. step is kept to whole microseconds (at least
// one), the precision every instant has here.
func NewStepping(start time.Time, step time.Duration) *Stepping {
	return &Stepping{t: start.UTC().Truncate(time.Microsecond), step: max(step.Truncate(time.Microsecond), time.Microsecond)}
}

// Now returns the clock's instant and moves it forward by its step.
func (s *Stepping) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.t
	s.t = s.t.Add(s.step)
	return t
}

// Today returns the calendar date of instant t in the business time zone loc,
// as midnight UTC: the form every Date value takes in this code base.
func Today(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Date builds a calendar date (midnight UTC).
func Date(year int, month time.Month, day int) time.Time {
	return time.Date(year, month, day, 0, 0, 0, 0, time.UTC)
}

// DaysBetween counts the calendar days from a to b (negative when b is
// before a). Both are calendar dates as returned by Today or Date.
func DaysBetween(a, b time.Time) int {
	return int(b.Sub(a).Hours() / 24)
}
