package clock_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/banpro/factoring/internal/clock"
)

// TestStepping ensures that every read of a Stepping clock is one step
// after the one before, so two reads of it never agree.
func TestStepping(t *testing.T) {
	start := time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)
	c := clock.NewStepping(start, time.Second)
	assert.Equal(t, start, c.Now())
	assert.Equal(t, start.Add(time.Second), c.Now())
	assert.Equal(t, start.Add(2*time.Second), c.Now())

	t.Run("paso_menor_que_un_microsegundo", func(t *testing.T) {
		c := clock.NewStepping(start, time.Nanosecond)
		assert.NotEqual(t, c.Now(), c.Now(), "a step finer than the kept precision still moves the clock")
	})
}

// TestFixed ensures that a Fixed clock reads the same instant until moved.
func TestFixed(t *testing.T) {
	start := time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)
	c := clock.NewFixed(start)
	assert.Equal(t, c.Now(), c.Now())
	c.Advance(time.Hour)
	assert.Equal(t, start.Add(time.Hour), c.Now())
}
