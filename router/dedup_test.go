package router_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/orderflow/orderflow/ports"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// claimState is what another consumer's Claim of the route's message finds;
// a claim it acquires is its own, returned with the state.
func (rg *rig) claimState(t *testing.T, id string) ports.ClaimResult {
	t.Helper()
	res, err := rg.dedup.Claim(t.Context(), ports.DedupKey{Handler: testHandler, MessageID: id}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// A handler that runs longer than the lease keeps its claim: the middleware
// renews it, so another consumer finds the message in flight all along, and
// done once the handler returns.
func TestDedupRenewsClaimWhileHandlerRuns(t *testing.T) {
	rg := newRig(t)
	const lease = 300 * time.Millisecond
	rg.rel.DedupLease = lease
	var deliveries, started atomic.Int64
	release := make(chan struct{})
	rg.run(t, rg.chain(t, &deliveries), func(msg *message.Message) error {
		started.Add(1)
		<-release
		return nil
	})
	id := rg.publish(t, "{}")
	waitUntil(t, "the handler to start", func() bool { return started.Load() == 1 })
	for begin := time.Now(); time.Since(begin) < 4*lease; {
		if got := rg.claimState(t, id); got.State != ports.ClaimInFlight {
			t.Fatalf("after %v of a %v lease, another consumer's Claim = %d, want in flight",
				time.Since(begin), lease, got.State)
		}
	}
	close(release)
	waitUntil(t, "the message to be marked done", func() bool { return rg.claimState(t, id).State == ports.ClaimDone })
	if n := started.Load(); n != 1 {
		t.Fatalf("handler ran %d times, want 1", n)
	}
}

// stalledRenewals is a DedupStore whose renewals never get through, as for
// a process paused or cut off from the store while its handler runs.
type stalledRenewals struct{ ports.DedupStore }

func (stalledRenewals) Renew(context.Context, ports.DedupKey, string, time.Duration) error {
	return errors.New("store unreachable")
}

// A handler that succeeds after its claim passed to another consumer cannot
// mark the message done over the new holder's claim: the middleware counts
// the lost claim, acks the message, and leaves the new holder's claim alone.
func TestDedupLostClaimIsCountedAndLeftToTheNewHolder(t *testing.T) {
	rg := newRig(t)
	rg.rel.DedupLease = 200 * time.Millisecond
	rg.rel.Dedup = stalledRenewals{rg.dedup}
	var deliveries atomic.Int64
	ids := make(chan string, 1)
	finish := make(chan struct{})
	rg.run(t, rg.chain(t, &deliveries), func(msg *message.Message) error {
		ids <- msg.UUID
		<-finish
		return nil
	})
	rg.publish(t, "{}")
	id := <-ids
	var other ports.ClaimResult
	waitUntil(t, "another consumer to take the claim over", func() bool {
		other = rg.claimState(t, id)
		return other.State == ports.ClaimAcquired
	})
	close(finish)
	waitUntil(t, "the lost claim to be counted", func() bool {
		return testutil.ToFloat64(mustCounter(t, rg.reg, "orderflow_router_dedup_claims_lost_total")) == 1
	})
	if got := rg.claimState(t, id); got.State != ports.ClaimInFlight {
		t.Fatalf("the new holder's claim: Claim = %d, want in flight", got.State)
	}
	key := ports.DedupKey{Handler: testHandler, MessageID: id}
	if err := rg.dedup.Complete(t.Context(), key, other.Token, time.Hour); err != nil {
		t.Fatalf("the new holder's Complete: %v", err)
	}
	rg.publish(t, "marker") // handed over only after the first message is settled
	<-ids
	if n := deliveries.Load(); n != 2 {
		t.Fatalf("deliveries = %d, want 2: the first message acked despite its lost claim, then the marker", n)
	}
}
