// Package order is the Order aggregate: an event-sourced order with a small
// state machine (placed → confirmed → shipped → delivered; cancelled from
// placed or confirmed). Intent methods validate and record events; apply is
// the only place state changes, and it never fails, so replaying any history
// the aggregate once recorded always succeeds.
package order

import (
	"time"

	"github.com/orderflow/orderflow/app/apperr"
)

// Status is where an order is in its life.
type Status string

const (
	StatusPlaced    Status = "placed"
	StatusConfirmed Status = "confirmed"
	StatusCancelled Status = "cancelled"
	StatusShipped   Status = "shipped"
	StatusDelivered Status = "delivered"
)

// Item is one order line. UnitPrice and LineTotal (Quantity × UnitPrice,
// set by Place) are in minor units of the order currency.
type Item struct {
	SKU       string `json:"sku"`
	Quantity  int64  `json:"quantity"`
	UnitPrice int64  `json:"unit_price"`
	LineTotal int64  `json:"line_total"`
}

// Address is a shipping address. Country is ISO 3166-1 alpha-2.
type Address struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
}

// Order is the aggregate. The zero value is an order that does not exist yet.
type Order struct {
	id                 string
	customerID         string
	currency           string
	items              []Item
	address            Address
	paymentMethod      string
	total              int64
	status             Status
	cancellationReason string
	carrier            string
	trackingNumber     string
	placedAt           time.Time
	updatedAt          time.Time

	version int64
	changes []Event
}

func (o *Order) ID() string                 { return o.id }
func (o *Order) CustomerID() string         { return o.customerID }
func (o *Order) Currency() string           { return o.currency }
func (o *Order) Items() []Item              { return append([]Item(nil), o.items...) }
func (o *Order) ShippingAddress() Address   { return o.address }
func (o *Order) PaymentMethod() string      { return o.paymentMethod }
func (o *Order) Total() int64               { return o.total }
func (o *Order) Status() Status             { return o.status }
func (o *Order) CancellationReason() string { return o.cancellationReason }
func (o *Order) Carrier() string            { return o.carrier }
func (o *Order) TrackingNumber() string     { return o.trackingNumber }
func (o *Order) PlacedAt() time.Time        { return o.placedAt }
func (o *Order) UpdatedAt() time.Time       { return o.updatedAt }

// Version is the number of events applied, including uncommitted changes.
func (o *Order) Version() int64 { return o.version }

// OriginalVersion is the version the order was loaded at: the expected
// version for appending Changes.
func (o *Order) OriginalVersion() int64 { return o.version - int64(len(o.changes)) }

// Changes returns the events recorded since the order was loaded.
func (o *Order) Changes() []Event { return append([]Event(nil), o.changes...) }

// Exists reports whether the order was placed.
func (o *Order) Exists() bool { return o.version > 0 }

// FromHistory rebuilds an order from its stored events, oldest first.
func FromHistory(events []Event) *Order {
	o := &Order{}
	for _, e := range events {
		o.Apply(e)
	}
	return o
}

// Apply applies an already-recorded event (loading or time travel).
func (o *Order) Apply(e Event) {
	o.apply(e)
	o.version++
}

func (o *Order) record(e Event) {
	o.Apply(e)
	o.changes = append(o.changes, e)
}

func (o *Order) apply(e Event) {
	switch e := e.(type) {
	case Placed:
		o.id = e.OrderID
		o.customerID = e.CustomerID
		o.currency = e.Currency
		o.items = append([]Item(nil), e.Items...)
		o.address = e.ShippingAddress
		o.paymentMethod = e.PaymentMethod
		o.total = e.Total
		o.status = StatusPlaced
		o.placedAt = e.PlacedAt
		o.updatedAt = e.PlacedAt
	case Confirmed:
		o.status = StatusConfirmed
		o.updatedAt = e.ConfirmedAt
	case Cancelled:
		o.status = StatusCancelled
		o.cancellationReason = e.Reason
		o.updatedAt = e.CancelledAt
	case Shipped:
		o.status = StatusShipped
		o.carrier = e.Carrier
		o.trackingNumber = e.TrackingNumber
		o.updatedAt = e.ShippedAt
	case Delivered:
		o.status = StatusDelivered
		o.updatedAt = e.DeliveredAt
	}
}

// Place starts a new order. It validates every field and reports all
// problems at once as an apperr.Invalid error naming each field.
func Place(p PlaceParams, now time.Time) (*Order, error) {
	total, err := p.validate()
	if err != nil {
		return nil, err
	}
	items := make([]Item, len(p.Items))
	for i, it := range p.Items {
		it.LineTotal = it.Quantity * it.UnitPrice // bounded by validate
		items[i] = it
	}
	o := &Order{}
	o.record(Placed{
		OrderID:         p.OrderID,
		CustomerID:      p.CustomerID,
		Currency:        p.Currency,
		Items:           items,
		ShippingAddress: p.ShippingAddress,
		PaymentMethod:   p.PaymentMethod,
		Total:           total,
		PlacedAt:        now.UTC(),
	})
	return o, nil
}

// Confirm confirms a placed order.
func (o *Order) Confirm(now time.Time) error {
	if err := o.transition("confirm", StatusPlaced); err != nil {
		return err
	}
	o.record(Confirmed{OrderID: o.id, ConfirmedAt: now.UTC()})
	return nil
}

// Cancel cancels a placed or confirmed order. The reason is required.
func (o *Order) Cancel(reason string, now time.Time) error {
	if err := apperr.Validation("invalid cancellation", requireText(nil, "reason", reason, 500)); err != nil {
		return err
	}
	if err := o.transition("cancel", StatusPlaced, StatusConfirmed); err != nil {
		return err
	}
	o.record(Cancelled{OrderID: o.id, Reason: reason, CancelledAt: now.UTC()})
	return nil
}

// Ship hands a confirmed order to a carrier.
func (o *Order) Ship(carrier, trackingNumber string, now time.Time) error {
	var fields []apperr.FieldError
	fields = requireText(fields, "carrier", carrier, 100)
	fields = requireText(fields, "tracking_number", trackingNumber, 100)
	if err := apperr.Validation("invalid shipment", fields); err != nil {
		return err
	}
	if err := o.transition("ship", StatusConfirmed); err != nil {
		return err
	}
	o.record(Shipped{OrderID: o.id, Carrier: carrier, TrackingNumber: trackingNumber, ShippedAt: now.UTC()})
	return nil
}

// Deliver marks a shipped order delivered.
func (o *Order) Deliver(now time.Time) error {
	if err := o.transition("deliver", StatusShipped); err != nil {
		return err
	}
	o.record(Delivered{OrderID: o.id, DeliveredAt: now.UTC()})
	return nil
}

// transition checks that the order exists and is in one of the allowed states.
func (o *Order) transition(action string, allowed ...Status) error {
	if !o.Exists() {
		return apperr.New(apperr.NotFound, "order not found")
	}
	for _, s := range allowed {
		if o.status == s {
			return nil
		}
	}
	names := make([]string, len(allowed))
	for i, s := range allowed {
		names[i] = string(s)
	}
	return apperr.New(apperr.Conflict, "cannot %s an order that is %s: only an order that is %s can be %s",
		action, o.status, joinOr(names), pastTense[action])
}

var pastTense = map[string]string{
	"confirm": "confirmed", "cancel": "cancelled", "ship": "shipped", "deliver": "delivered",
}

func joinOr(s []string) string {
	switch len(s) {
	case 1:
		return s[0]
	case 2:
		return s[0] + " or " + s[1]
	}
	out := ""
	for i, v := range s {
		if i > 0 {
			out += ", "
		}
		if i == len(s)-1 {
			out += "or "
		}
		out += v
	}
	return out
}
