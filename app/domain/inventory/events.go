package inventory

import (
	"encoding/json"
	"fmt"
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
	var e Event
	switch eventType {
	case EventStockSet:
		e = &StockSet{}
	case EventReserved:
		e = &Reserved{}
	case EventReservationFailed:
		e = &ReservationFailed{}
	case EventReleased:
		e = &Released{}
	case EventCommitted:
		e = &Committed{}
	default:
		return nil, apperr.New(apperr.Invalid, "unknown inventory event type %q", eventType)
	}
	if err := json.Unmarshal(data, e); err != nil {
		return nil, apperr.Wrap(apperr.Invalid, err, "cannot decode %s", eventType)
	}
	switch v := e.(type) {
	case *StockSet:
		return *v, nil
	case *Reserved:
		return *v, nil
	case *ReservationFailed:
		return *v, nil
	case *Released:
		return *v, nil
	case *Committed:
		return *v, nil
	}
	panic(fmt.Sprintf("inventory: unexpected event %T", e))
}
