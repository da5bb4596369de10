// Package query holds the read-side use cases, one file per query. Reads are
// served from projections; history and events come from the event store.
package query

import (
	"context"
	"errors"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/ports"
)

// MaxWait bounds how long GetOrder waits for the projection to catch up.
const MaxWait = 5 * time.Second

// GetOrder re-reads while it waits, first after minPoll, then twice as
// long after each read, up to maxPoll: a version the projection is about
// to write is seen within milliseconds, and a client waiting on a read
// model that lags (a backlog) costs ten reads a second, not a hundred.
const (
	minPoll = 10 * time.Millisecond
	maxPoll = 100 * time.Millisecond
)

// GetOrder reads one order. With MinVersion > 0 the query waits up to Wait
// (capped at MaxWait) for the read model to reach that version
// (read-your-writes); if it does not, the view it has is returned with Stale
// set rather than an error. SeenVersion is a version the client already
// holds (If-None-Match): it never makes the query wait, but a cached entry
// older than it (or than MinVersion) is never served.
type GetOrder struct {
	OrderID     string
	MinVersion  int64
	SeenVersion int64
	Wait        time.Duration
}

// OrderView is an order summary and whether it is older than was asked for.
type OrderView struct {
	ports.OrderSummary
	Stale bool
}

// GetOrderHandler answers GetOrder from the order_summary read model,
// through a look-aside cache when it has one.
type GetOrderHandler struct {
	reader ports.OrderSummaryReader
	cache  ports.OrderCache
}

// NewGetOrderHandler reads through cache when it is not nil. The cache is
// best effort: a miss or any cache error sends the read to the read model,
// whose answer then fills the cache.
func NewGetOrderHandler(reader ports.OrderSummaryReader, cache ports.OrderCache) GetOrderHandler {
	if reader == nil {
		panic("query: nil order summary reader")
	}
	return GetOrderHandler{reader: reader, cache: cache}
}

// Handle returns apperr.NotFound when the order is unknown to the read model
// once the wait (if any) is over.
func (h GetOrderHandler) Handle(ctx context.Context, q GetOrder) (OrderView, error) {
	if h.cache != nil {
		if s, err := h.cache.Get(ctx, q.OrderID, max(q.MinVersion, q.SeenVersion)); err == nil {
			return OrderView{OrderSummary: s}, nil
		}
	}
	view, err := h.read(ctx, q)
	if err == nil && h.cache != nil {
		_ = h.cache.Put(ctx, view.OrderSummary) // best effort: the next read fills it again
	}
	return view, err
}

// read answers from the read model, waiting for MinVersion if asked to.
func (h GetOrderHandler) read(ctx context.Context, q GetOrder) (OrderView, error) {
	wait := min(q.Wait, MaxWait)
	if q.MinVersion <= 0 {
		wait = 0
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	poll := time.NewTimer(minPoll)
	defer poll.Stop()
	for next := minPoll; ; next = min(2*next, maxPoll) {
		s, err := h.reader.Get(ctx, q.OrderID)
		switch {
		case err == nil && s.Version >= q.MinVersion:
			return OrderView{OrderSummary: s}, nil
		case err != nil && !errors.Is(err, ports.ErrNotFound):
			return OrderView{}, apperr.Wrap(apperr.Unavailable, err, "cannot read order %s", q.OrderID)
		}
		select {
		case <-poll.C:
			poll.Reset(min(2*next, maxPoll))
			continue
		case <-deadline.C:
		case <-ctx.Done():
		}
		if err != nil {
			return OrderView{}, apperr.New(apperr.NotFound, "order %s not found", q.OrderID)
		}
		return OrderView{OrderSummary: s, Stale: true}, nil
	}
}
