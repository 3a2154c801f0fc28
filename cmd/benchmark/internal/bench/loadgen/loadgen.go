// Package loadgen is the benchmark's load generator: a closed loop of N
// workers, each sending one request, waiting for its answer and sending the
// next, for a warm-up that is not recorded and then a fixed measured
// duration. It knows nothing about HTTP or SQL: a request is a function.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ErrExhausted is returned by a request function whose worker has no more
// work (the benchmark ran out of cedible facturas, say): the worker stops,
// and the result says so.
var ErrExhausted = errors.New("loadgen: sin más trabajo para este cliente")

// Options of a run.
type Options struct {
	// Clients is the number of concurrent workers (closed loop).
	Clients int
	// Warmup runs before the measured window; its requests are not
	// recorded.
	Warmup time.Duration
	// Duration is the measured window.
	Duration time.Duration
	// OnMeasureStart and OnMeasureEnd, when set, run at the edges of the
	// measured window (to sample server counters).
	OnMeasureStart, OnMeasureEnd func()
}

// Request sends one request as worker w and reports whether it failed.
type Request func(ctx context.Context, w int) error

// Result of a run.
type Result struct {
	// Requests completed inside the measured window (started after it
	// opened, finished before it closed), failed ones included.
	Requests int
	// Errors among Requests.
	Errors int
	// Total counts every request sent, warm-up included.
	Total int
	// Window is the measured window's length.
	Window time.Duration
	// Latencies of the measured requests, ascending.
	Latencies []time.Duration
	// ErrorSamples holds up to 5 distinct error messages.
	ErrorSamples []string
	// Exhausted counts the workers that ran out of work.
	Exhausted int
}

// RPS is the throughput in the measured window.
func (r Result) RPS() float64 {
	if r.Window <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Window.Seconds()
}

// Percentile returns the p-th percentile latency (0 < p <= 100), nearest
// rank.
func (r Result) Percentile(p float64) time.Duration {
	return Percentile(r.Latencies, p)
}

// Percentile is the nearest-rank p-th percentile of sorted.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

type worker struct {
	latencies []time.Duration
	errors    int
	total     int
	samples   []string
	exhausted bool
}

// Run drives req with opts.Clients workers for opts.Warmup plus
// opts.Duration and returns what happened in the measured window. It
// returns early, with what it has, when ctx is cancelled.
func Run(ctx context.Context, opts Options, req Request) Result {
	n := max(opts.Clients, 1)
	var phase atomic.Int32 // 0 warm-up, 1 measuring, 2 done
	if opts.Warmup <= 0 {
		phase.Store(1)
		if opts.OnMeasureStart != nil {
			opts.OnMeasureStart()
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	workers := make([]*worker, n)
	var wg sync.WaitGroup
	for i := range n {
		w := &worker{latencies: make([]time.Duration, 0, 4096)}
		workers[i] = w
		wg.Go(func() {
			for phase.Load() < 2 && ctx.Err() == nil {
				p := phase.Load()
				start := time.Now()
				err := req(ctx, i)
				took := time.Since(start)
				if errors.Is(err, ErrExhausted) {
					w.exhausted = true
					return
				}
				w.total++
				// Only requests that started and ended inside the window
				// count.
				if p != 1 || phase.Load() != 1 {
					continue
				}
				w.latencies = append(w.latencies, took)
				if err != nil {
					w.errors++
					if msg := err.Error(); len(w.samples) < 5 && !slices.Contains(w.samples, msg) {
						w.samples = append(w.samples, msg)
					}
				}
			}
		})
	}

	var windowStart time.Time
	if opts.Warmup > 0 {
		sleep(ctx, opts.Warmup)
		if opts.OnMeasureStart != nil {
			opts.OnMeasureStart()
		}
		phase.Store(1)
	}
	windowStart = time.Now()
	sleep(ctx, opts.Duration)
	phase.Store(2)
	window := time.Since(windowStart)
	if opts.OnMeasureEnd != nil {
		opts.OnMeasureEnd()
	}
	wg.Wait()

	res := Result{Window: window}
	for _, w := range workers {
		res.Latencies = append(res.Latencies, w.latencies...)
		res.Errors += w.errors
		res.Total += w.total
		for _, s := range w.samples {
			if len(res.ErrorSamples) < 5 && !slices.Contains(res.ErrorSamples, s) {
				res.ErrorSamples = append(res.ErrorSamples, s)
			}
		}
		if w.exhausted {
			res.Exhausted++
		}
	}
	res.Requests = len(res.Latencies)
	slices.Sort(res.Latencies)
	return res
}

// Fixed runs req once for every job with n concurrent workers (fixed work,
// no warm-up) and returns the latencies and the time it all took. Each
// job's error is handed to check, which says whether it counts as an
// error; check runs on the worker's goroutine and must be safe for
// concurrent use.
func Fixed[J any](ctx context.Context, n int, jobs []J, req func(ctx context.Context, job J) error, check func(J, error) error) Result {
	n = max(n, 1)
	ch := make(chan J)
	workers := make([]*worker, n)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		w := &worker{}
		workers[i] = w
		wg.Go(func() {
			for job := range ch {
				t := time.Now()
				err := check(job, req(ctx, job))
				w.latencies = append(w.latencies, time.Since(t))
				w.total++
				if err != nil {
					w.errors++
					if msg := err.Error(); len(w.samples) < 5 && !slices.Contains(w.samples, msg) {
						w.samples = append(w.samples, msg)
					}
				}
			}
		})
	}
	for _, j := range jobs {
		select {
		case ch <- j:
		case <-ctx.Done():
		}
	}
	close(ch)
	wg.Wait()
	res := Result{Window: time.Since(start)}
	for _, w := range workers {
		res.Latencies = append(res.Latencies, w.latencies...)
		res.Errors += w.errors
		res.Total += w.total
		for _, s := range w.samples {
			if len(res.ErrorSamples) < 5 && !slices.Contains(res.ErrorSamples, s) {
				res.ErrorSamples = append(res.ErrorSamples, s)
			}
		}
	}
	res.Requests = len(res.Latencies)
	slices.Sort(res.Latencies)
	return res
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// String summarizes a result in one line.
func (r Result) String() string {
	return fmt.Sprintf("%d req in %s (%.0f req/s), p50 %s, p99 %s, %d errors",
		r.Requests, r.Window.Round(time.Millisecond), r.RPS(), r.Percentile(50), r.Percentile(99), r.Errors)
}
