package pipelinebench

import (
	"context"
	"sync"
	"time"

	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/ports"
)

// tracker joins what the load placed with what the watcher saw the saga
// do. Either may come first: a confirmation can be read before the POST
// that placed the order has returned.
type tracker struct {
	mu        sync.Mutex
	orders    map[string]*tracked
	placed    int // accepted POSTs
	failed    int // POSTs not accepted
	confirmed int // placed orders seen confirmed
	cancelled int // placed orders seen cancelled
	// confirms are the confirmation times of every order, placed or not
	// yet known to be, for the rate over the load window.
	confirms []time.Time
}

type tracked struct {
	due, accepted time.Time // zero until the POST returned
	measured      bool      // due inside the measured window
	confirmedAt   time.Time
	cancelled     bool
}

func newTracker() *tracker { return &tracker{orders: map[string]*tracked{}} }

func (t *tracker) get(id string) *tracked {
	o := t.orders[id]
	if o == nil {
		o = &tracked{}
		t.orders[id] = o
	}
	return o
}

func (t *tracker) accepted(id string, due, at time.Time, measured bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	o := t.get(id)
	o.due, o.accepted, o.measured = due, at, measured
	t.placed++
	if !o.confirmedAt.IsZero() {
		t.confirmed++
	}
	if o.cancelled {
		t.cancelled++
	}
}

func (t *tracker) failure() {
	t.mu.Lock()
	t.failed++
	t.mu.Unlock()
}

// saw records the order events of a batch the watcher read.
func (t *tracker) saw(events []ports.RecordedEvent) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range events {
		if e.Stream.Type != order.AggregateType {
			continue
		}
		switch e.Type {
		case order.EventConfirmed:
			o := t.get(e.Stream.ID)
			o.confirmedAt = e.RecordedAt
			t.confirms = append(t.confirms, e.RecordedAt)
			if !o.accepted.IsZero() {
				t.confirmed++
			}
		case order.EventCancelled:
			o := t.get(e.Stream.ID)
			o.cancelled = true
			if !o.accepted.IsZero() {
				t.cancelled++
			}
		}
	}
}

// counts is where the run stands.
type counts struct{ placed, failed, confirmed, cancelled, backlog int }

func (t *tracker) counts() counts {
	t.mu.Lock()
	defer t.mu.Unlock()
	return counts{t.placed, t.failed, t.confirmed, t.cancelled, t.placed - t.confirmed - t.cancelled}
}

// watch reads every event the store commits, in order, one query per
// interval however many orders are outstanding (the cost of watching grows
// with the event rate, never with the backlog), until ctx ends.
func watch(ctx context.Context, events ports.EventStore, interval time.Duration, t *tracker) error {
	var after ports.Position
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		for {
			batch, err := events.ReadAll(ctx, after, 2000)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			if len(batch) == 0 {
				break
			}
			t.saw(batch)
			after = batch[len(batch)-1].Position
			if len(batch) < 2000 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
