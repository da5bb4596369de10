// Package eventhandler holds the Watermill message handlers: inbound adapters that
// decode a message and call the application.
package eventhandler

import (
	"context"

	wm "github.com/ThreeDotsLabs/watermill/message"
	"github.com/orderflow/orderflow/app/meta"
	"github.com/orderflow/orderflow/app/upcast"
	"github.com/orderflow/orderflow/internal/eventwire"
	"github.com/orderflow/orderflow/ports"
)

// EventHandler is any application component that reacts to recorded events.
type EventHandler interface {
	Handle(ctx context.Context, e ports.RecordedEvent) error
}

// Selective is an EventHandler that knows from an event's stream and event
// type alone, before decoding it, that it ignores it: the router then acks
// such a message at once, without the inbox claim and completion that a
// handled message costs (notification.Handler).
type Selective interface {
	Ignores(streamType, eventType string) bool
}

// StoreOnly is an EventHandler that can tell whether all its effects are
// rows of the store's database written once per event by the event's id
// (notification.Handler without notifiers): the router then runs it
// without the inbox, which is there for effects outside the database.
type StoreOnly interface {
	StoreOnly() bool
}

// Events adapts an EventHandler to a Watermill handler. The handler sees
// every event at its newest version (upcast.Default): a broker may still
// hold messages of an older shape, e.g. an outbox backlog written before an
// upgrade. A message that is not an event, or of a version newer than this
// release knows, fails with an apperr.Invalid error (the router parks it); the
// handler's own errors pass through for the router to classify. The event's
// correlation id and its own id (as causation) travel in the context.
func Events(h EventHandler) wm.NoPublishHandlerFunc {
	return func(msg *wm.Message) error {
		e, err := eventwire.FromMessage(msg)
		if err != nil {
			return err
		}
		if e, err = upcast.Default().Event(e); err != nil {
			return err
		}
		ctx := meta.WithCorrelationID(msg.Context(), e.Metadata.CorrelationID)
		ctx = meta.WithCausationID(ctx, e.Metadata.EventID)
		return h.Handle(ctx, e)
	}
}
