package tick_test

import (
	"context"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/tick"
)

func TestEveryStopsWhenFnSaysSo(t *testing.T) {
	calls := 0
	tick.Every(t.Context(), time.Millisecond, func(context.Context) bool {
		calls++
		return calls < 3
	})
	if calls != 3 {
		t.Fatalf("calls = %d, want 3", calls)
	}
}

func TestEveryStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	calls := 0
	tick.Every(ctx, time.Millisecond, func(context.Context) bool {
		calls++
		if calls == 2 {
			cancel()
		}
		return true
	})
	if calls != 2 {
		t.Fatalf("calls = %d after the context ended, want 2", calls)
	}
}

func TestSleepWaitsOrEndsWithItsContext(t *testing.T) {
	start := time.Now()
	tick.Sleep(t.Context(), 30*time.Millisecond)
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("slept %s, want at least 30ms", d)
	}
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(10*time.Millisecond, cancel)
	start = time.Now()
	tick.Sleep(ctx, time.Hour)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("slept %s after its context ended", d)
	}
}
