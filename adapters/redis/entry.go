package redis

import (
	"time"

	"github.com/orderflow/orderflow/ports"
)

// entry is the cached JSON of an order summary. Its field names are part of
// the cache's format (key suffix v1): change them together with the key.
type entry struct {
	OrderID            string            `json:"order_id"`
	CustomerID         string            `json:"customer_id"`
	Status             string            `json:"status"`
	Items              []ports.OrderLine `json:"items"`
	Total              int64             `json:"total"`
	Currency           string            `json:"currency"`
	Version            int64             `json:"version"`
	CreatedAt          time.Time         `json:"created_at"`
	UpdatedAt          time.Time         `json:"updated_at"`
	CancellationReason string            `json:"cancellation_reason,omitempty"`
	Carrier            string            `json:"carrier,omitempty"`
	TrackingNumber     string            `json:"tracking_number,omitempty"`
}

func entryFrom(s ports.OrderSummary) entry {
	return entry{
		OrderID: s.OrderID, CustomerID: s.CustomerID, Status: s.Status, Items: s.Items,
		Total: s.Total, Currency: s.Currency, Version: s.Version,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
		CancellationReason: s.CancellationReason, Carrier: s.Carrier, TrackingNumber: s.TrackingNumber,
	}
}

func (e entry) summary() ports.OrderSummary {
	return ports.OrderSummary{
		OrderID: e.OrderID, CustomerID: e.CustomerID, Status: e.Status, Items: e.Items,
		Total: e.Total, Currency: e.Currency, Version: e.Version,
		CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt,
		CancellationReason: e.CancellationReason, Carrier: e.Carrier, TrackingNumber: e.TrackingNumber,
	}
}
