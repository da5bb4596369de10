package pipelinebench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/orderflow/orderflow/internal/loadgen"
	"github.com/orderflow/orderflow/internal/loadtest"
	"github.com/orderflow/orderflow/internal/progress"
)

// Run runs the benchmark as cfg says: the ceiling on a store of its own,
// then the service on a fresh store, stock for every SKU, the load, and the
// drain (bounded by cfg.DrainTimeout). It shows progress on w (a bar on a
// terminal, log lines otherwise) and logs the service's warnings through
// logger. Everything it created is removed before it returns.
func Run(ctx context.Context, cfg Config, logger *slog.Logger, w io.Writer) (out Report, err error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return Report{}, err
	}
	tmp, err := os.MkdirTemp("", "orderflow-bench-")
	if err != nil {
		return Report{}, err
	}
	e := &env{}
	e.defer_(func() error { return os.RemoveAll(tmp) })
	defer func() { err = errors.Join(err, e.Close()) }()
	bar := progress.New(w, logger, "orders")
	defer bar.Finish()

	r := Report{SKUs: cfg.SKUs, Hot: cfg.Hot, Rate: cfg.Rate, Duration: cfg.Duration.Seconds(),
		Warmup: cfg.Warmup.Seconds(), Concurrency: cfg.Concurrency}
	if !cfg.SkipCeiling {
		sc, err := e.freshStore(ctx, cfg.Service, tmp, "ceil")
		if err != nil {
			return r, err
		}
		start := time.Now()
		c, err := ceiling(ctx, sc, cfg.CeilingWorkers, cfg.CeilingDuration, logger, func(n int64) {
			bar.Update(progress.Update{Phase: "ceiling (raw appends)", Done: n, Elapsed: time.Since(start)})
		})
		if err != nil {
			return r, err
		}
		r.Ceiling = &c
	}

	sc, err := e.serviceConfig(ctx, cfg, tmp)
	if err != nil {
		return r, err
	}
	var sink *otlpSink
	if sc.Tracing, sink, err = e.tracingConfig(cfg); err != nil {
		return r, err
	}
	r.Tracing = TracingOff
	if sc.Tracing.Enabled() {
		r.Tracing = "ratio " + sc.Tracing.SamplerArg + " to " + sc.Tracing.Endpoint
	}
	if sink != nil {
		// After the service's Close (deferred below) flushed its spans.
		defer func() { out.TraceExports, out.TraceBytes = sink.requests.Load(), sink.bytes.Load() }()
	}
	m, err := startService(ctx, sc, logger)
	if err != nil {
		return r, err
	}
	defer func() { err = errors.Join(err, m.Close()) }()
	r.Store, r.Broker = m.Config.StoreName(), m.Adapters().Broker.Name

	cl := loadtest.NewHTTPTarget("http://"+m.Addr(), "", cfg.Concurrency)
	skus := []string{"SKU-BENCH-HOT"}
	onHand := cfg.orders() + 100
	if !cfg.Hot {
		skus = make([]string, cfg.SKUs)
		for i := range skus {
			skus[i] = skuName(i)
		}
		onHand = cfg.orders()/cfg.SKUs + 100
	}
	if err := loadtest.SetStock(ctx, cl, skus, onHand); err != nil {
		return r, err
	}

	t := newTracker()
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	watchErr := make(chan error, 1)
	go func() { watchErr <- watch(watchCtx, m.Adapters().Events, cfg.PollInterval, t) }()

	runtime.GC() // the start figure without the setup's garbage
	r.MemoryStart = readMemory()
	clock := cpuClock{postgres: r.Store == "postgres"}
	cpuStart := clock.read()
	start := time.Now().Add(100 * time.Millisecond)
	windowStart := start.Add(cfg.Warmup)
	end := windowStart.Add(cfg.Duration)
	var (
		mu         sync.Mutex
		accept     []time.Duration
		sampleDone = make(chan struct{})
	)
	go func() {
		defer close(sampleDone)
		r.Samples = sample(watchCtx, start, t, cfg.orders(), bar)
	}()
	sched := loadgen.Schedule{Start: start, Steps: []loadgen.Step{{Rate: float64(cfg.Rate), Duration: end.Sub(start)}}}
	loadgen.Open(ctx, sched, cfg.Concurrency, func(a loadgen.Arrival) {
		i, due := a.N, a.Due
		id, err := place(ctx, cl, i, skus[i%len(skus)])
		at := time.Now()
		if err != nil {
			if ctx.Err() == nil {
				logger.Warn("place order", "error", err)
			}
			if !due.Before(windowStart) {
				t.failure()
			}
			return
		}
		measured := !due.Before(windowStart)
		t.accepted(id, due, at, measured)
		if measured {
			mu.Lock()
			accept = append(accept, at.Sub(due))
			mu.Unlock()
		}
	})
	loadEnd := time.Now()

	drained, werr := waitDrained(ctx, t, cfg.DrainTimeout, watchErr)
	r.Drained, r.DrainSeconds = drained, time.Since(loadEnd).Seconds()
	c := t.counts()
	r.CPU = clock.since(cpuStart, c.confirmed+c.cancelled)
	stopWatch()
	<-sampleDone
	if werr == nil && !drained {
		werr = <-watchErr // nil: stopped by stopWatch
	}
	if werr != nil {
		return r, fmt.Errorf("watch events: %w", werr)
	}
	r.MemoryEnd = readMemory()
	r.fill(t, accept, windowStart, end)
	if err := ctx.Err(); err != nil {
		return r, err
	}
	return r, nil
}

// waitDrained waits until every accepted order is confirmed or cancelled,
// for at most timeout, or until the watcher fails (its error).
func waitDrained(ctx context.Context, t *tracker, timeout time.Duration, watchErr <-chan error) (bool, error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if t.counts().backlog == 0 {
			return true, nil
		}
		select {
		case <-ctx.Done():
			return false, nil
		case err := <-watchErr:
			return false, errors.Join(err, errors.New("the watcher stopped"))
		case <-time.After(50 * time.Millisecond):
		}
	}
	return t.counts().backlog == 0, nil
}

// sample records the run once a second and shows progress, until ctx ends.
func sample(ctx context.Context, start time.Time, t *tracker, total int, bar *progress.Reporter) []Sample {
	var out []Sample
	every := time.NewTicker(200 * time.Millisecond)
	defer every.Stop()
	next := start
	for {
		select {
		case <-ctx.Done():
			return out
		case now := <-every.C:
			c := t.counts()
			if now.After(next) {
				out = append(out, Sample{T: now.Sub(start).Seconds(), Accepted: c.placed, Confirmed: c.confirmed, Backlog: c.backlog, Memory: readMemory()})
				next = next.Add(time.Second)
			}
			phase, done, all := "load (placed)", int64(c.placed+c.failed), int64(total)
			if c.placed+c.failed >= total {
				phase, done, all = "drain (confirmed)", int64(c.confirmed+c.cancelled), int64(c.placed)
			}
			bar.Update(progress.Update{Phase: phase, Done: done, Total: all, Elapsed: now.Sub(start),
				Attrs: []any{"confirmed", c.confirmed, "backlog", c.backlog}})
		}
	}
}

// fill computes the rates and latencies of the measured window.
func (r *Report) fill(t *tracker, accept []time.Duration, windowStart, end time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var toConfirm []time.Duration
	var last time.Time
	for _, o := range t.orders {
		if o.accepted.IsZero() {
			continue
		}
		if o.confirmedAt.IsZero() && !o.cancelled {
			r.Unfinished++
		}
		if !o.measured {
			continue
		}
		r.Accepted++
		switch {
		case !o.confirmedAt.IsZero():
			r.Confirmed++
			toConfirm = append(toConfirm, o.confirmedAt.Sub(o.due))
			if o.confirmedAt.After(last) {
				last = o.confirmedAt
			}
		case o.cancelled:
			r.Cancelled++
		}
	}
	r.Failed = t.failed
	inWindow := 0
	for _, at := range t.confirms {
		if !at.Before(windowStart) && at.Before(end) {
			inWindow++
		}
	}
	window := end.Sub(windowStart).Seconds()
	r.PostPerSec = float64(r.Accepted) / window
	r.ConfirmedInWindowPerSec = float64(inWindow) / window
	if !last.IsZero() {
		r.ConfirmedWithDrainPerSec = float64(r.Confirmed) / last.Sub(windowStart).Seconds()
	}
	if r.Ceiling != nil && r.Ceiling.AppendsPerSec > 0 {
		r.PostOverCeiling = r.PostPerSec / r.Ceiling.AppendsPerSec
		r.ConfirmedOverCeiling = r.ConfirmedWithDrainPerSec / r.Ceiling.AppendsPerSec
	}
	r.Accept = loadgen.Summarize(accept)
	r.PlaceToConfirm = loadgen.Summarize(toConfirm)
}
