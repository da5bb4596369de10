// Package tick runs the periodic loops of the service (the outbox cleaner,
// the checkout deadline scanner, lease renewals) one way: a ticker, stopped
// when the context ends.
package tick

import (
	"context"
	"time"
)

// Every calls fn every d, the first time d after the call, until ctx ends or
// fn returns false. It returns when the loop ends; fn is never called after
// ctx ended.
func Every(ctx context.Context, d time.Duration, fn func(ctx context.Context) bool) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if ctx.Err() != nil || !fn(ctx) {
			return
		}
	}
}

// Sleep waits for d, or until ctx ends, whichever comes first.
func Sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
