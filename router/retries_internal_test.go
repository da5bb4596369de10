package router

import (
	"testing"
	"time"
)

// The wait doubles per failed delivery from RetryBackoff, stops at
// MaxRetryBackoff, and is jittered by ±20% so that messages that failed
// together do not come back together.
func TestRetryDelayBacksOffPerMessage(t *testing.T) {
	c := Reliability{RetryBackoff: time.Second, MaxRetryBackoff: 10 * time.Second}
	for _, tc := range []struct {
		attempt int
		base    time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {4, 8 * time.Second}, {5, 10 * time.Second}, {40, 10 * time.Second}} {
		seen := map[time.Duration]bool{}
		for range 50 {
			d := c.retryDelay(tc.attempt)
			lo, hi := tc.base*8/10, tc.base*12/10
			if d < lo || d > hi {
				t.Fatalf("attempt %d: delay %v outside [%v, %v]", tc.attempt, d, lo, hi)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Fatalf("attempt %d: no jitter", tc.attempt)
		}
	}
}
