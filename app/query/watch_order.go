package query

import (
	"context"
	"errors"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/app/wire"
	"github.com/orderflow/orderflow/ports"
)

// Watch polling: the read model is read again after MinWatchPoll, doubling
// while nothing changes up to MaxWatchPoll, and at MinWatchPoll again after
// a change.
const (
	MinWatchPoll = 10 * time.Millisecond
	MaxWatchPoll = 500 * time.Millisecond
)

// WatchOrder follows one order as the read model projects it. Emit is called
// first with the order's current state (once the read model has reached
// FromVersion), then with each newer state, until the order is cancelled or
// delivered. FromVersion is the last version the caller has seen (0: none);
// each change carries the stored events after the previous change's version
// (after FromVersion, for the first) up to its own. Several versions projected
// between two reads arrive as one change carrying all their events.
type WatchOrder struct {
	OrderID     string
	FromVersion int64
	Emit        func(ctx context.Context, c OrderChange) error
}

// OrderChange is an order at a version and the events that led to it.
type OrderChange struct {
	Order  ports.OrderSummary
	Events []ports.RecordedEvent
}

// WatchOrderHandler polls the order_summary read model (see the README's
// "WatchOrder" for why polling) and reads the events from the event store.
type WatchOrderHandler struct {
	reader ports.OrderSummaryReader
	repo   *repository.Orders
}

func NewWatchOrderHandler(reader ports.OrderSummaryReader, repo *repository.Orders) WatchOrderHandler {
	return WatchOrderHandler{reader: wire.Need(reader, "query: nil order summary reader"),
		repo: wire.Need(repo, "query: nil repository")}
}

// Handle returns nil once it emitted a terminal state, or when ctx ends (the
// watcher left: the caller knows why). It returns apperr.NotFound for an order
// the event store does not have, apperr.Invalid when FromVersion is negative
// or past the order's latest version, apperr.Unavailable when a store fails,
// and Emit's error as it is.
func (h WatchOrderHandler) Handle(ctx context.Context, q WatchOrder) (struct{}, error) {
	if q.FromVersion < 0 {
		return struct{}{}, apperr.Validation("invalid watch", []apperr.FieldError{
			{Field: "from_version", Message: "must be an integer of at least 0"}})
	}
	events, err := h.repo.EventsAfter(ctx, q.OrderID, 0)
	if err != nil {
		return struct{}{}, err
	}
	if len(events) == 0 {
		return struct{}{}, apperr.New(apperr.NotFound, "order %s not found", q.OrderID)
	}
	if latest := events[len(events)-1].Version; q.FromVersion > latest {
		return struct{}{}, apperr.Validation("invalid watch", []apperr.FieldError{
			{Field: "from_version", Message: "is past the order's latest version"}})
	}
	sent, first := q.FromVersion, true
	poll := MinWatchPoll
	for {
		s, err := h.reader.Get(ctx, q.OrderID)
		switch {
		case ctx.Err() != nil:
			return struct{}{}, nil //nolint:nilerr // the client ended the watch: not an error of the watch
		case errors.Is(err, ports.ErrNotFound): // placed, not projected yet
		case err != nil:
			return struct{}{}, apperr.Wrap(apperr.Unavailable, err, "cannot read order %s", q.OrderID)
		case s.Version > sent || (first && s.Version >= sent):
			change, err := h.changeSince(ctx, s, sent)
			if err != nil {
				return struct{}{}, err
			}
			if err := q.Emit(ctx, change); err != nil {
				return struct{}{}, err
			}
			if terminal(s.Status) {
				return struct{}{}, nil
			}
			sent, first, poll = s.Version, false, MinWatchPoll
			continue
		}
		select {
		case <-ctx.Done():
			return struct{}{}, nil
		case <-time.After(poll):
		}
		poll = min(2*poll, MaxWatchPoll)
	}
}

// changeSince is s with its events after version sent.
func (h WatchOrderHandler) changeSince(ctx context.Context, s ports.OrderSummary, sent int64) (OrderChange, error) {
	events, err := h.repo.EventsAfter(ctx, s.OrderID, sent)
	if err != nil {
		return OrderChange{}, err
	}
	// The store may be ahead of the read model: keep what s has applied.
	for i, e := range events {
		if e.Version > s.Version {
			events = events[:i]
			break
		}
	}
	return OrderChange{Order: s, Events: events}, nil
}

// terminal reports whether no command can change an order of this status.
func terminal(status string) bool {
	return status == string(order.StatusCancelled) || status == string(order.StatusDelivered)
}
