package loadgen_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/banpro/factoring/cmd/benchmark/internal/bench/loadgen"
)

func TestPercentile(t *testing.T) {
	var l []time.Duration
	for i := 1; i <= 100; i++ {
		l = append(l, time.Duration(i))
	}
	assert.Equal(t, time.Duration(50), loadgen.Percentile(l, 50))
	assert.Equal(t, time.Duration(99), loadgen.Percentile(l, 99))
	assert.Equal(t, time.Duration(100), loadgen.Percentile(l, 100))
	assert.Equal(t, time.Duration(0), loadgen.Percentile(nil, 50))
}

// TestRun ensures that warm-up requests are not recorded, errors are
// counted and the measuring hooks run once each.
func TestRun(t *testing.T) {
	var calls, starts, ends atomic.Int64
	res := loadgen.Run(context.Background(), loadgen.Options{
		Clients: 4, Warmup: 50 * time.Millisecond, Duration: 200 * time.Millisecond,
		OnMeasureStart: func() { starts.Add(1) },
		OnMeasureEnd:   func() { ends.Add(1) },
	}, func(ctx context.Context, w int) error {
		n := calls.Add(1)
		time.Sleep(time.Millisecond)
		if n%10 == 0 {
			return errors.New("falla")
		}
		return nil
	})
	assert.EqualValues(t, 1, starts.Load())
	assert.EqualValues(t, 1, ends.Load())
	assert.Greater(t, res.Requests, 100)
	assert.Less(t, res.Requests, res.Total, "warm-up requests are not recorded")
	assert.EqualValues(t, calls.Load(), res.Total)
	assert.InDelta(t, res.Requests/10, res.Errors, float64(res.Requests)/20+2)
	assert.Equal(t, []string{"falla"}, res.ErrorSamples)
	assert.GreaterOrEqual(t, res.Percentile(50), time.Millisecond)
}

// TestRunExhausted ensures that a worker without work stops alone.
func TestRunExhausted(t *testing.T) {
	res := loadgen.Run(context.Background(), loadgen.Options{Clients: 3, Duration: 50 * time.Millisecond},
		func(ctx context.Context, w int) error {
			if w == 0 {
				return loadgen.ErrExhausted
			}
			time.Sleep(time.Millisecond)
			return nil
		})
	assert.Equal(t, 1, res.Exhausted)
	assert.Positive(t, res.Requests)
}

// TestFixed ensures that every job runs once and check decides errors.
func TestFixed(t *testing.T) {
	jobs := []int{1, 2, 3, 4, 5, 6}
	res := loadgen.Fixed(context.Background(), 2, jobs,
		func(ctx context.Context, j int) error {
			if j%2 == 0 {
				return errors.New("par")
			}
			return nil
		},
		func(j int, err error) error {
			if j == 6 {
				return err
			}
			return nil
		})
	assert.Equal(t, 6, res.Requests)
	assert.Equal(t, 1, res.Errors)
}
