package inventory

import (
	"encoding/json"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
)

// AggregateType is the stream type of every stock stream; the stream id is
// the SKU.
const AggregateType = "inventory"

// Event type names, stored and published: never renamed, a new shape gets a
// new version suffix.
const (
	// EventStockSet: on-hand stock was set (a restock or a count).
	EventStockSet = "inventory.stock_set.v1"
	// EventReserved: units are held for an order until released or committed.
	EventReserved = "inventory.reserved.v1"
	// EventReservationFailed: an order could not be reserved because this
	// SKU (and maybe others, named in ShortSKUs) lacked stock. Recorded on
	// every short SKU's stream; nothing is reserved on any stream.
	EventReservationFailed = "inventory.reservation_failed.v1"
	// EventReleased: an order's reservation was given back (compensation).
	EventReleased = "inventory.released.v1"
	// EventCommitted: an order shipped; its reserved units left the shelf.
	EventCommitted = "inventory.committed.v1"
)

// Event is one fact about a SKU's stock.
type Event interface{ EventType() string }

// StockSet sets on-hand units.
type StockSet struct {
	SKU    string    `json:"sku"`
	OnHand int64     `json:"on_hand"`
	SetAt  time.Time `json:"set_at"`
}

// Reserved holds Quantity units for OrderID.
type Reserved struct {
	SKU        string    `json:"sku"`
	OrderID    string    `json:"order_id"`
	Quantity   int64     `json:"quantity"`
	ReservedAt time.Time `json:"reserved_at"`
}

// ReservationFailed records that OrderID could not be reserved.
type ReservationFailed struct {
	SKU       string    `json:"sku"`
	OrderID   string    `json:"order_id"`
	Requested int64     `json:"requested"`
	Available int64     `json:"available"`
	ShortSKUs []string  `json:"short_skus"`
	FailedAt  time.Time `json:"failed_at"`
}

// Released gives OrderID's reservation back.
type Released struct {
	SKU        string    `json:"sku"`
	OrderID    string    `json:"order_id"`
	Quantity   int64     `json:"quantity"`
	ReleasedAt time.Time `json:"released_at"`
}

// Committed turns OrderID's reservation into a decrement of on-hand stock.
type Committed struct {
	SKU         string    `json:"sku"`
	OrderID     string    `json:"order_id"`
	Quantity    int64     `json:"quantity"`
	CommittedAt time.Time `json:"committed_at"`
}

func (StockSet) EventType() string          { return EventStockSet }
func (Reserved) EventType() string          { return EventReserved }
func (ReservationFailed) EventType() string { return EventReservationFailed }
func (Released) EventType() string          { return EventReleased }
func (Committed) EventType() string         { return EventCommitted }

// EncodeEvent returns the stored form of e.
func EncodeEvent(e Event) ([]byte, error) { return json.Marshal(e) }

// DecodeEvent parses a stored event; an unknown type is apperr.Invalid.
func DecodeEvent(eventType string, data []byte) (Event, error) {
	decode, ok := decoders[eventType]
	if !ok {
		return nil, apperr.New(apperr.Invalid, "unknown inventory event type %q", eventType)
	}
	e, err := decode(data)
	if err != nil {
		return nil, apperr.Wrap(apperr.Invalid, err, "cannot decode %s", eventType)
	}
	return e, nil
}

// decoders parse the stored form of each event type DecodeEvent accepts.
var decoders = map[string]func(data []byte) (Event, error){
	EventStockSet:          decodeAs[StockSet],
	EventReserved:          decodeAs[Reserved],
	EventReservationFailed: decodeAs[ReservationFailed],
	EventReleased:          decodeAs[Released],
	EventCommitted:         decodeAs[Committed],
}

// decodeAs parses data as a T.
func decodeAs[T Event](data []byte) (Event, error) {
	var e T
	err := json.Unmarshal(data, &e)
	return e, err
}
