package loadtest

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/orderflow/orderflow/internal/tick"
)

// How confirmation is detected, over the API only: each accepted order is
// read with GET /v1/orders/{id}?min_version=2. An order's second event is
// its confirmation or its cancellation by checkout, so that read returns
// as soon as the service's read model shows either (the service waits for
// it server-side, up to its --read-wait, 2 s by default), which is the
// moment a client could see it: one request per order when the pipeline
// keeps up, one per read-wait interval when it does not. Polling GET
// .../checkout instead would cost a request per poll interval per order,
// and what it shows is the saga's state, not what clients read.
//
// At most Config.Pollers reads are in flight; orders wait in a FIFO queue
// for a poller, and an order still placed (the read answered stale) goes
// back to its tail. When the backlog outgrows the pollers, detection lags
// and place→confirmed is overstated, never understated; the report's
// poll queue series shows when that happened.
const confirmVersion = 2

// queue is the FIFO of orders waiting for a read.
type queue struct {
	mu    sync.Mutex
	items []*order
	ready chan struct{} // holds a token while items is not empty
	most  int
}

func newQueue() *queue { return &queue{ready: make(chan struct{}, 1)} }

func (q *queue) push(o *order) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.items = append(q.items, o)
	q.most = max(q.most, len(q.items))
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// pop takes the oldest order, waiting for one; nil when ctx ends.
func (q *queue) pop(ctx context.Context) *order {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			o := q.items[0]
			q.items[0] = nil
			q.items = q.items[1:]
			if len(q.items) > 0 {
				select {
				case q.ready <- struct{}{}:
				default:
				}
			}
			q.mu.Unlock()
			return o
		}
		q.mu.Unlock()
		select {
		case <-q.ready:
		case <-ctx.Done():
			return nil
		}
	}
}

func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

func (q *queue) maxLen() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.most
}

// follower reads orders until they settle, then hands confirmed ones
// to the action workers. A poller never waits for an action: a slow
// command must not delay the detection of confirmations.
type follower struct {
	target Target
	rec    *recorder
	q      *queue // orders to read
	acts   *queue // confirmed orders with an action to do
}

// retryPause is how long a poller waits after a read got no answer or an
// error, so that a failing service is not read in a tight loop.
const retryPause = 100 * time.Millisecond

// poll reads queued orders until ctx ends.
func (f *follower) poll(ctx context.Context) {
	for {
		o := f.q.pop(ctx)
		if o == nil {
			return
		}
		st, err := f.target.Get(ctx, o.id, confirmVersion)
		at := time.Now()
		if ctx.Err() != nil {
			return
		}
		var se *StatusError
		switch {
		case errors.As(err, &se) && se.Code == "404":
			// Not in the read model yet, after the service's whole wait:
			// read again, not an error.
			f.rec.request("read", nil)
			f.q.push(o)
		case err != nil:
			f.rec.request("read", err)
			f.q.push(o)
			tick.Sleep(ctx, retryPause)
		case st.Stale || st.Version < confirmVersion || st.Status == "placed":
			f.rec.request("read", nil)
			f.q.push(o)
		case st.Status == "cancelled":
			f.rec.request("read", nil)
			f.rec.settle(o, cancelled, at)
		default: // confirmed, or past it
			f.rec.request("read", nil)
			f.rec.settle(o, confirmed, at)
			if o.after != Keep {
				f.acts.push(o)
			}
		}
	}
}

// act does the queued actions until ctx ends; each call runs under
// callCtx, so that one started finishes after the workers are told to stop.
func (f *follower) act(ctx, callCtx context.Context) {
	for {
		o := f.acts.pop(ctx)
		if o == nil {
			return
		}
		var err error
		switch o.after {
		case CancelIt:
			err = f.target.Cancel(callCtx, o.id, "loadtest: customer changed their mind")
			f.rec.request("cancel", err)
		case ShipAndDeliver:
			err = f.target.Ship(callCtx, o.id, "DHL", "LT-"+o.id)
			f.rec.request("ship", err)
			if err == nil {
				err = f.target.Deliver(callCtx, o.id)
				f.rec.request("deliver", err)
			}
		}
		if err == nil {
			f.rec.acted(o)
		}
	}
}
