package router

import (
	"fmt"

	"github.com/ThreeDotsLabs/watermill/message"
	msghandlers "github.com/orderflow/orderflow/handlers/message"
)

// addCheckout subscribes the checkout saga to the order, inventory and
// payment event topics, each in its own consumer group. The saga is
// idempotent, so the same order's events on several topics (or redelivered)
// only ever move its checkout forward once.
func addCheckout(r *message.Router, cfg Config) error {
	for name, streamType := range map[string]string{
		HandlerCheckoutOrders:    "order",
		HandlerCheckoutInventory: "inventory",
		HandlerCheckoutPayments:  "payment",
	} {
		sub, err := cfg.Broker.Subscriber(name)
		if err != nil {
			return fmt.Errorf("router: subscriber for %s: %w", name, err)
		}
		r.AddConsumerHandler(name, EventTopic(streamType), sub, msghandlers.Checkout(cfg.Checkout))
	}
	return nil
}
