package httpapi

import (
	"encoding/json"
	"time"

	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/ports"
)

// The JSON shapes the API answers with. They are the contract described in
// openapi.yaml, kept apart from the ports' and domain's types so that a
// change inside the service never changes the API by accident.

// money is an amount in minor units of a currency (cents for EUR).
type money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

type lineJSON struct {
	SKU       string `json:"sku"`
	Quantity  int64  `json:"quantity"`
	UnitPrice int64  `json:"unit_price"`
}

// commandResult answers a command. Total is set only when an order is placed.
type commandResult struct {
	OrderID string `json:"order_id"`
	Status  string `json:"status"`
	Version int64  `json:"version"`
	Total   *money `json:"total,omitempty"`
}

func resultOf(r command.Result) commandResult {
	return commandResult{OrderID: r.OrderID, Status: string(r.Status), Version: r.Version}
}

// orderJSON is an order summary; the optional fields are omitted while empty.
type orderJSON struct {
	OrderID            string     `json:"order_id"`
	CustomerID         string     `json:"customer_id"`
	Status             string     `json:"status"`
	Items              []lineJSON `json:"items"`
	Total              money      `json:"total"`
	Version            int64      `json:"version"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
	CancellationReason string     `json:"cancellation_reason,omitempty"`
	Carrier            string     `json:"carrier,omitempty"`
	TrackingNumber     string     `json:"tracking_number,omitempty"`
	// Checkout is set while checkout runs and after it failed.
	Checkout *checkoutBrief `json:"checkout,omitempty"`
}

// checkoutBrief is the checkout as shown on an order.
type checkoutBrief struct {
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
}

func orderOf(s ports.OrderSummary) orderJSON {
	items := make([]lineJSON, len(s.Items))
	for i, it := range s.Items {
		items[i] = lineJSON{SKU: it.SKU, Quantity: it.Quantity, UnitPrice: it.UnitPrice}
	}
	return orderJSON{
		OrderID:            s.OrderID,
		CustomerID:         s.CustomerID,
		Status:             s.Status,
		Items:              items,
		Total:              money{Amount: s.Total, Currency: s.Currency},
		Version:            s.Version,
		CreatedAt:          s.CreatedAt.UTC(),
		UpdatedAt:          s.UpdatedAt.UTC(),
		CancellationReason: s.CancellationReason,
		Carrier:            s.Carrier,
		TrackingNumber:     s.TrackingNumber,
	}
}

// orderPage is one page of a listing. NextCursor is omitted on the last page.
type orderPage struct {
	Items      []orderJSON `json:"items"`
	NextCursor string      `json:"next_cursor,omitempty"`
}

func pageOf(p ports.OrderPage) orderPage {
	items := make([]orderJSON, len(p.Items))
	for i, s := range p.Items {
		items[i] = orderOf(s)
	}
	return orderPage{Items: items, NextCursor: p.NextCursor}
}

// eventJSON is a stored event. Data is the event's JSON as stored, embedded
// as a value; Position is the store-wide sequence number (Position.Prepare).
type eventJSON struct {
	EventID    string          `json:"event_id"`
	Type       string          `json:"type"`
	Version    int64           `json:"version"`
	Position   uint64          `json:"position"`
	OccurredAt time.Time       `json:"occurred_at"`
	RecordedAt time.Time       `json:"recorded_at"`
	Data       json.RawMessage `json:"data"`
	Metadata   eventMetadata   `json:"metadata"`
}

type eventMetadata struct {
	CorrelationID string `json:"correlation_id"`
	CausationID   string `json:"causation_id"`
}

func eventsOf(events []ports.RecordedEvent) []eventJSON {
	out := make([]eventJSON, len(events))
	for i, e := range events {
		out[i] = eventJSON{
			EventID:    e.Metadata.EventID,
			Type:       e.Type,
			Version:    e.Version,
			Position:   e.Position.Prepare,
			OccurredAt: e.Metadata.OccurredAt.UTC(),
			RecordedAt: e.RecordedAt.UTC(),
			Data:       json.RawMessage(e.Data),
			Metadata:   eventMetadata{CorrelationID: e.Metadata.CorrelationID, CausationID: e.Metadata.CausationID},
		}
	}
	return out
}

// status is the body of /healthz and /readyz.
type status struct {
	Status string `json:"status"`
	// Store and Broker name the backends on /readyz.
	Store  string `json:"store,omitempty"`
	Broker string `json:"broker,omitempty"`
}
