package router

// Topic and handler names (the outbox's are in package outbox). They are part of the deployment's state (broker
// topics, SQL tables, consumer-group offsets), so they are constants with a
// version suffix, never derived from Go names: renaming a handler would make
// it consume its topic again from the start.
const (
	// HandlerOrderSummary is the order_summary projection's handler name and
	// consumer group.
	HandlerOrderSummary = "orderflow.projection.order_summary.v1"

	// HandlerCheckoutOrders is the checkout saga's handler (and consumer
	// group) on the order event topic. (Releases before the unit of work
	// also consumed the inventory and payment topics, in the groups
	// orderflow.saga.checkout.inventory_events.v1 and
	// ...payment_events.v1: the saga's own effects, which now commit with
	// its state. Those groups are left idle.)
	HandlerCheckoutOrders = "orderflow.saga.checkout.order_events.v1"

	// HandlerNotifications sends notifications of confirmed, cancelled and
	// shipped orders.
	HandlerNotifications = "orderflow.notifications.order_events.v1"

	// PoisonTopic receives messages that can never be processed, with the
	// reason in their metadata.
	PoisonTopic = "orderflow.poison.v1"
)

// EventTopic is the broker topic of one aggregate type's events, e.g.
// "orderflow.order.events.v1". Every event of an aggregate goes to one topic,
// partitioned by aggregate id where the broker has partitions.
func EventTopic(streamType string) string {
	return "orderflow." + streamType + ".events.v1"
}
