package repository_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/app/domain/payment"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
)

// countingLoads counts the stream reads of an event store.
type countingLoads struct {
	ports.EventStore
	loads atomic.Int64
}

func (c *countingLoads) Load(ctx context.Context, s ports.Stream, from int64) ([]ports.RecordedEvent, error) {
	c.loads.Add(1)
	return c.EventStore.Load(ctx, s, from)
}

// UpdateNew records a payment's first event without reading its stream;
// on a stream that has events it is Update: the version check catches it
// and it reads the stream and applies fn to the state it finds.
func TestUpdateNewReadsOnlyAStreamThatIsNotEmpty(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := t.Context()
		events := &countingLoads{EventStore: s.Events}
		payments := repository.NewPayments(events, ports.SystemClock{})
		id := uuid.NewString()
		authorize := func(p *payment.Payment) error { return p.Authorize("auth-1", 500, "EUR", time.Now()) }
		if _, err := payments.UpdateNew(ctx, id, authorize); err != nil {
			t.Fatal(err)
		}
		if n := events.loads.Load(); n != 0 {
			t.Fatalf("%d stream reads for a new payment, want 0", n)
		}
		// The stream has its authorization now: capturing it through
		// UpdateNew reads it (the initial state cannot be captured); the
		// same authorization again is a no-op of the state read, and
		// another one is refused by it, neither stored.
		if _, err := payments.UpdateNew(ctx, id, func(p *payment.Payment) error { return p.Capture(time.Now()) }); err != nil {
			t.Fatal(err)
		}
		if _, err := payments.UpdateNew(ctx, id, authorize); err != nil {
			t.Fatalf("the same authorization again: %v, want a no-op", err)
		}
		if _, err := payments.UpdateNew(ctx, id, func(p *payment.Payment) error {
			return p.Authorize("auth-2", 500, "EUR", time.Now())
		}); err == nil {
			t.Fatal("another authorization of a captured payment was accepted")
		}
		if n := events.loads.Load(); n == 0 {
			t.Fatal("UpdateNew on a stream with events did not read it")
		}
		stored, err := s.Events.Load(ctx, ports.Stream{Type: payment.AggregateType, ID: id}, 1)
		if err != nil || len(stored) != 2 {
			t.Fatalf("%d payment events (%v), want authorized and captured", len(stored), err)
		}
	})
}
