package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orderflow/orderflow/internal/loadgen"
	"github.com/orderflow/orderflow/internal/progress"
	"github.com/orderflow/orderflow/internal/tick"
)

const unitPrice = 1250

// actionWorkers is how many cancels, ships and deliveries run at once.
const actionWorkers = 16

// Run sets stock for the run's SKUs, places orders as cfg says, follows
// each accepted order until a read shows it confirmed or cancelled
// (confirm.go), acts on confirmed ones as the mix says, waits up to
// cfg.DrainTimeout for the backlog, and returns what it measured. Progress
// goes to w (a bar on a terminal, log lines through logger otherwise). It
// returns an error only when it could not run (bad config, stock refused,
// ctx ended); the service's failures during the load are in the Result.
func Run(ctx context.Context, cfg Config, target Target, logger *slog.Logger, w io.Writer) (*Result, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.RunID == "" {
		cfg.RunID = randomID()
	}
	if cfg.Seed == 0 {
		cfg.Seed = uint64(time.Now().UnixNano())
	}
	skus := make([]string, cfg.Mix.SKUs)
	for i := range skus {
		skus[i] = fmt.Sprintf("LT-%s-%05d", cfg.RunID, i)
	}
	onHand := cfg.planned() + 100
	if cfg.Concurrency > 0 && cfg.Count == 0 {
		onHand = 10_000_000 // a closed model places as many as the service takes
	}
	if err := SetStock(ctx, target, skus, onHand); err != nil {
		return nil, err
	}

	bar := progress.New(w, logger, "orders")
	defer bar.Finish()
	steps := cfg.steps()
	if cfg.Concurrency > 0 {
		steps = []loadgen.Step{{Rate: 0, Duration: cfg.Duration}}
	}
	start := time.Now().Add(100 * time.Millisecond)
	rec := newRecorder(start, steps, cfg.Criteria.MaxP99)
	q := newQueue()
	f := &follower{target: target, rec: rec, q: q, acts: newQueue()}
	followCtx, stopFollow := context.WithCancel(ctx)
	actCtx, stopActing := context.WithCancel(ctx)
	var followers, actors sync.WaitGroup
	for range cfg.Pollers {
		followers.Go(func() { f.poll(followCtx) })
	}
	for range actionWorkers {
		actors.Go(func() { f.act(actCtx, ctx) })
	}
	sampleCtx, stopSample := context.WithCancel(ctx)
	sampled := make(chan struct{})
	total := int64(cfg.planned())
	if cfg.Concurrency > 0 && cfg.Count == 0 {
		total = 0 // a closed model places what the service takes: no ETA
	}
	var draining atomic.Bool
	go func() {
		defer close(sampled)
		sampleEvery(sampleCtx, start, rec, q, func(s Sample) {
			p := "load"
			if draining.Load() {
				p = "drain"
			}
			rec.mu.Lock()
			done := int64(rec.accepted)
			rec.mu.Unlock()
			bar.Update(progress.Update{Phase: p, Done: done, Total: total, Elapsed: time.Since(start),
				Attrs: []any{"accepted_per_second", s.Accepted, "confirmed_per_second", s.Confirmed, "backlog", s.Backlog}})
		})
	}()

	d := newDrawer(cfg.Mix, cfg.Seed)
	var drawMu sync.Mutex
	fire := func(a loadgen.Arrival) {
		drawMu.Lock()
		o := d.draw()
		drawMu.Unlock()
		p := Placement{CustomerID: fmt.Sprintf("lt-%s-%d", cfg.RunID, a.N%97), Token: o.Token, UnitPrice: unitPrice}
		for _, i := range o.SKUs {
			p.SKUs = append(p.SKUs, skus[i])
		}
		id, err := target.Place(ctx, p)
		at := time.Now()
		var tracked *order
		if err == nil {
			tracked = &order{id: id, step: a.Step, due: a.Due, after: o.After}
		}
		rec.placed(a.Step, a.Due, at, tracked, err)
		if tracked != nil {
			q.push(tracked)
		}
	}
	if cfg.Concurrency > 0 {
		tick.Sleep(ctx, time.Until(start))
		loadgen.Closed(ctx, cfg.Concurrency, start.Add(cfg.Duration), cfg.Count, fire)
	} else {
		loadgen.Open(ctx, loadgen.Schedule{Start: start, Steps: steps, Limit: cfg.Count}, cfg.MaxInFlight, fire)
	}
	loadEnd := time.Now()
	draining.Store(true)
	drained := waitDrained(ctx, rec, cfg.DrainTimeout)
	drainSeconds := time.Since(loadEnd).Seconds()
	stopFollow()
	followers.Wait()
	// The actions of orders confirmed before the pollers stopped are
	// part of the load: done, within what is left of the drain timeout.
	for f.acts.len() > 0 && time.Since(loadEnd) < cfg.DrainTimeout && ctx.Err() == nil {
		tick.Sleep(ctx, 20*time.Millisecond)
	}
	stopActing()
	actors.Wait()
	stopSample()
	<-sampled
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := rec.result(cfg, steps, start)
	res.Drained, res.DrainSeconds, res.MaxPollQueue = drained, drainSeconds, q.maxLen()
	return res, nil
}

func randomID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// SetStock gives every SKU onHand units through t, 8 requests at a time;
// the first refusal stops it and is its error.
func SetStock(ctx context.Context, t Target, skus []string, onHand int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan string)
	errs := make(chan error, len(skus))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for sku := range work {
				if err := t.SetStock(ctx, sku, onHand); err != nil {
					errs <- fmt.Errorf("set stock of %s: %w", sku, err)
					cancel()
				}
			}
		})
	}
feed:
	for _, sku := range skus {
		select {
		case work <- sku:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	if len(all) > 0 {
		return all[0]
	}
	return ctx.Err()
}

// sampleEvery closes a second of the time series every second from start,
// and shows it, until ctx ends.
func sampleEvery(ctx context.Context, start time.Time, rec *recorder, q *queue, show func(Sample)) {
	next := start.Add(time.Second)
	timer := time.NewTimer(time.Until(next))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		show(rec.sample(next, q.len()))
		next = next.Add(time.Second)
		timer.Reset(time.Until(next))
	}
}

// waitDrained waits until nothing accepted is pending, at most timeout.
func waitDrained(ctx context.Context, rec *recorder, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	if rec.backlog() > 0 {
		tick.Every(ctx, 50*time.Millisecond, func(context.Context) bool {
			return rec.backlog() > 0 && time.Now().Before(deadline)
		})
	}
	return rec.backlog() == 0
}
