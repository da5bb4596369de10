package order

import (
	"encoding/json"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
)

// SnapshotSchemaVersion names the encoding of State. Change it whenever
// State or its meaning changes: stored snapshots of another schema are then
// ignored and rebuilt from the events.
const SnapshotSchemaVersion = 1

// State is the whole state of an Order, as stored in a snapshot.
type State struct {
	ID                 string    `json:"id"`
	CustomerID         string    `json:"customer_id"`
	Currency           string    `json:"currency"`
	Items              []Item    `json:"items"`
	Address            Address   `json:"address"`
	PaymentMethod      string    `json:"payment_method"`
	Total              int64     `json:"total"`
	Status             Status    `json:"status"`
	CancellationReason string    `json:"cancellation_reason,omitempty"`
	Carrier            string    `json:"carrier,omitempty"`
	TrackingNumber     string    `json:"tracking_number,omitempty"`
	PlacedAt           time.Time `json:"placed_at"`
	UpdatedAt          time.Time `json:"updated_at"`
	Version            int64     `json:"version"`
}

// EncodeSnapshot returns the state of o at Version(), pending changes
// included, in SnapshotSchemaVersion encoding: store it only once those
// changes are stored too.
func EncodeSnapshot(o *Order) ([]byte, error) {
	s := State{
		ID: o.id, CustomerID: o.customerID, Currency: o.currency, Items: o.Items(), Address: o.address,
		PaymentMethod: o.paymentMethod, Total: o.total, Status: o.status,
		CancellationReason: o.cancellationReason, Carrier: o.carrier, TrackingNumber: o.trackingNumber,
		PlacedAt: o.placedAt, UpdatedAt: o.updatedAt, Version: o.version,
	}
	return json.Marshal(s)
}

// DecodeSnapshot restores an order from EncodeSnapshot's output; events after
// the snapshot's version are then applied with Apply. A malformed snapshot
// is an apperr.Invalid error (callers fall back to the events).
func DecodeSnapshot(data []byte) (*Order, error) {
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, apperr.Wrap(apperr.Invalid, err, "cannot decode order snapshot")
	}
	if s.ID == "" || s.Version < 1 {
		return nil, apperr.New(apperr.Invalid, "order snapshot without id or version")
	}
	return &Order{
		id: s.ID, customerID: s.CustomerID, currency: s.Currency, items: s.Items, address: s.Address,
		paymentMethod: s.PaymentMethod, total: s.Total, status: s.Status,
		cancellationReason: s.CancellationReason, carrier: s.Carrier, trackingNumber: s.TrackingNumber,
		placedAt: s.PlacedAt, updatedAt: s.UpdatedAt, version: s.Version,
	}, nil
}
