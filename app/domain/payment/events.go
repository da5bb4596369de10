package payment

import (
	"encoding/json"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
)

// AggregateType is the stream type of payments; the stream id is the order id.
const AggregateType = "payment"

// Event type names, stored and published: never renamed.
const (
	// EventAuthorized: the provider authorized the amount; carries its id.
	EventAuthorized = "payment.authorized.v1"
	// EventDeclined: the provider declined, with its decline code.
	EventDeclined = "payment.declined.v1"
	// EventCaptured: the authorized amount was taken (the order shipped).
	EventCaptured = "payment.captured.v1"
	// EventVoided: the authorization was cancelled before capture.
	EventVoided = "payment.voided.v1"
)

// Event is one fact about an order's payment.
type Event interface{ EventType() string }

// Authorized records a provider authorization.
type Authorized struct {
	OrderID         string    `json:"order_id"`
	AuthorizationID string    `json:"authorization_id"`
	Amount          int64     `json:"amount"`
	Currency        string    `json:"currency"`
	AuthorizedAt    time.Time `json:"authorized_at"`
}

// Declined records a provider decline.
type Declined struct {
	OrderID     string    `json:"order_id"`
	DeclineCode string    `json:"decline_code"`
	DeclinedAt  time.Time `json:"declined_at"`
}

// Captured records the capture of the authorization.
type Captured struct {
	OrderID         string    `json:"order_id"`
	AuthorizationID string    `json:"authorization_id"`
	CapturedAt      time.Time `json:"captured_at"`
}

// Voided records the void of the authorization.
type Voided struct {
	OrderID         string    `json:"order_id"`
	AuthorizationID string    `json:"authorization_id"`
	VoidedAt        time.Time `json:"voided_at"`
}

func (Authorized) EventType() string { return EventAuthorized }
func (Declined) EventType() string   { return EventDeclined }
func (Captured) EventType() string   { return EventCaptured }
func (Voided) EventType() string     { return EventVoided }

// EncodeEvent returns the stored form of e.
func EncodeEvent(e Event) ([]byte, error) { return json.Marshal(e) }

// DecodeEvent parses a stored event; an unknown type is apperr.Invalid.
func DecodeEvent(eventType string, data []byte) (Event, error) {
	decode, ok := decoders[eventType]
	if !ok {
		return nil, apperr.New(apperr.Invalid, "unknown payment event type %q", eventType)
	}
	e, err := decode(data)
	if err != nil {
		return nil, apperr.Wrap(apperr.Invalid, err, "cannot decode %s", eventType)
	}
	return e, nil
}

// decoders parse the stored form of each event type DecodeEvent accepts.
var decoders = map[string]func(data []byte) (Event, error){
	EventAuthorized: decodeAs[Authorized],
	EventDeclined:   decodeAs[Declined],
	EventCaptured:   decodeAs[Captured],
	EventVoided:     decodeAs[Voided],
}

// decodeAs parses data as a T.
func decodeAs[T Event](data []byte) (Event, error) {
	var e T
	err := json.Unmarshal(data, &e)
	return e, err
}
