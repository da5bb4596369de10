package order

import (
	"encoding/json"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
)

// Event type names. They are stored with every event and published on the
// broker, so they never change: a new shape gets a new version suffix and an
// upcaster, never a rename. They are not derived from Go type names on purpose.
const (
	// EventPlaced: a customer placed the order; carries everything checkout
	// needs. v2 added each item's line_total; stored v1 events are upcast
	// (app/upcast) before they reach DecodeEvent.
	EventPlaced = "order.placed.v2"
	// EventPlacedV1 is the first shape of EventPlaced, written by releases
	// before v2 existed: items had no line_total. Only upcasters read it.
	EventPlacedV1 = "order.placed.v1"
	// EventConfirmed: stock is reserved and payment authorized.
	EventConfirmed = "order.confirmed.v1"
	// EventCancelled: the order ends without shipping; carries the reason.
	EventCancelled = "order.cancelled.v1"
	// EventShipped: handed to a carrier.
	EventShipped = "order.shipped.v1"
	// EventDelivered: the carrier reported delivery; the order is final.
	EventDelivered = "order.delivered.v1"
)

// AggregateType is the stream type of every order stream.
const AggregateType = "order"

// Event is one fact about an order.
type Event interface {
	EventType() string
}

// Placed is recorded once, as the first event of every order stream.
type Placed struct {
	OrderID         string    `json:"order_id"`
	CustomerID      string    `json:"customer_id"`
	Currency        string    `json:"currency"`
	Items           []Item    `json:"items"`
	ShippingAddress Address   `json:"shipping_address"`
	PaymentMethod   string    `json:"payment_method"`
	Total           int64     `json:"total"`
	PlacedAt        time.Time `json:"placed_at"`
}

// Confirmed moves a placed order to confirmed.
type Confirmed struct {
	OrderID     string    `json:"order_id"`
	ConfirmedAt time.Time `json:"confirmed_at"`
}

// Cancelled ends a placed or confirmed order.
type Cancelled struct {
	OrderID     string    `json:"order_id"`
	Reason      string    `json:"reason"`
	CancelledAt time.Time `json:"cancelled_at"`
}

// Shipped records the carrier and tracking number of a confirmed order.
type Shipped struct {
	OrderID        string    `json:"order_id"`
	Carrier        string    `json:"carrier"`
	TrackingNumber string    `json:"tracking_number"`
	ShippedAt      time.Time `json:"shipped_at"`
}

// Delivered closes a shipped order.
type Delivered struct {
	OrderID     string    `json:"order_id"`
	DeliveredAt time.Time `json:"delivered_at"`
}

func (Placed) EventType() string    { return EventPlaced }
func (Confirmed) EventType() string { return EventConfirmed }
func (Cancelled) EventType() string { return EventCancelled }
func (Shipped) EventType() string   { return EventShipped }
func (Delivered) EventType() string { return EventDelivered }

// EncodeEvent returns the stored form of e.
func EncodeEvent(e Event) ([]byte, error) {
	return json.Marshal(e)
}

// DecodeEvent parses a stored event at its newest version. An unknown type,
// including an older version that was not upcast first, is an Invalid
// error: a consumer must park such a message, never skip it silently.
func DecodeEvent(eventType string, data []byte) (Event, error) {
	decode, ok := decoders[eventType]
	if !ok {
		return nil, apperr.New(apperr.Invalid, "unknown order event type %q", eventType)
	}
	e, err := decode(data)
	if err != nil {
		return nil, apperr.Wrap(apperr.Invalid, err, "cannot decode %s", eventType)
	}
	return e, nil
}

// decoders parse the stored form of each event type DecodeEvent accepts:
// json.Marshal's form by a fast path of its own (events_fast.go), anything
// else by encoding/json.
var decoders = map[string]func(data []byte) (Event, error){
	EventPlaced:    decodeAs(fastPlaced),
	EventConfirmed: decodeAs(fastConfirmed),
	EventCancelled: decodeAs(fastCancelled),
	EventShipped:   decodeAs(fastShipped),
	EventDelivered: decodeAs(fastDelivered),
}

// decodeAs parses data as a T: by fast if it takes data, by encoding/json
// otherwise.
func decodeAs[T Event](fast func(data []byte) (T, bool)) func(data []byte) (Event, error) {
	return func(data []byte) (Event, error) {
		if e, ok := fast(data); ok {
			return e, nil
		}
		var e T
		err := json.Unmarshal(data, &e)
		return e, err
	}
}
