package router

import (
	"github.com/ThreeDotsLabs/watermill/message"
)

// Router is the Watermill router of the event handlers. The outbox
// forwarder is not one of its handlers: it runs beside the router (package
// outbox), started once the router runs and stopped before it closes, so
// that its last publishes still find the handlers (the memory broker waits
// for them).
type Router struct {
	*message.Router
	poison message.Publisher
}

// PoisonPublisher is where the routes park messages that can never be
// processed: the Reliability.Poison store, or PoisonTopic on the broker
// when there is none. Messages published to it count in
// orderflow_router_poisoned_messages_total by their handler (the
// PoisonedHandlerKey metadata). The outbox forwarder parks the rows it
// cannot forward here too, so the poison queue has them all.
func (r *Router) PoisonPublisher() message.Publisher { return r.poison }
