// Package payment is an order's payment as an event-sourced aggregate: the
// provider's answer to the authorization (authorized with its id, or
// declined with a code), then capture on shipping or void on cancellation.
// Every intent is idempotent: recording the same outcome twice records
// nothing the second time, so a redelivered message has no second effect.
package payment

import (
	"time"

	"github.com/orderflow/orderflow/app/apperr"
)

// Status is where a payment is.
type Status string

const (
	StatusNone       Status = ""
	StatusAuthorized Status = "authorized"
	StatusDeclined   Status = "declined"
	StatusCaptured   Status = "captured"
	StatusVoided     Status = "voided"
)

// Payment is the aggregate; the zero value (New) has no outcome yet.
type Payment struct {
	orderID         string
	status          Status
	authorizationID string
	amount          int64
	currency        string
	declineCode     string

	version int64
	changes []Event
}

// New returns the payment of orderID before any event.
func New(orderID string) *Payment { return &Payment{orderID: orderID} }

// FromHistory rebuilds a payment from its events.
func FromHistory(orderID string, events []Event) *Payment {
	p := New(orderID)
	for _, e := range events {
		p.Apply(e)
	}
	return p
}

func (p *Payment) OrderID() string         { return p.orderID }
func (p *Payment) Status() Status          { return p.status }
func (p *Payment) AuthorizationID() string { return p.authorizationID }
func (p *Payment) Amount() int64           { return p.amount }
func (p *Payment) Currency() string        { return p.currency }
func (p *Payment) DeclineCode() string     { return p.declineCode }
func (p *Payment) Version() int64          { return p.version }
func (p *Payment) OriginalVersion() int64  { return p.version - int64(len(p.changes)) }
func (p *Payment) Changes() []Event        { return append([]Event(nil), p.changes...) }

// Apply applies a stored event; it never fails.
func (p *Payment) Apply(e Event) {
	switch e := e.(type) {
	case Authorized:
		p.status, p.authorizationID, p.amount, p.currency = StatusAuthorized, e.AuthorizationID, e.Amount, e.Currency
	case Declined:
		p.status, p.declineCode = StatusDeclined, e.DeclineCode
	case Captured:
		p.status = StatusCaptured
	case Voided:
		p.status = StatusVoided
	}
	p.version++
}

func (p *Payment) record(e Event) {
	p.Apply(e)
	p.changes = append(p.changes, e)
}

// Authorize records the provider's authorization. Recording the same
// authorization id again is a no-op; any other outcome already recorded is
// a conflict (one order has one authorization).
func (p *Payment) Authorize(authorizationID string, amount int64, currency string, now time.Time) error {
	if authorizationID == "" {
		return apperr.New(apperr.Invalid, "payment %s: empty authorization id", p.orderID)
	}
	if p.status != StatusNone {
		if p.authorizationID == authorizationID {
			return nil
		}
		return apperr.New(apperr.Conflict, "payment %s is already %s", p.orderID, p.status)
	}
	p.record(Authorized{OrderID: p.orderID, AuthorizationID: authorizationID, Amount: amount, Currency: currency, AuthorizedAt: now.UTC()})
	return nil
}

// Decline records the provider's decline; a no-op if already declined.
func (p *Payment) Decline(code string, now time.Time) error {
	switch p.status {
	case StatusDeclined:
		return nil
	case StatusNone:
		p.record(Declined{OrderID: p.orderID, DeclineCode: code, DeclinedAt: now.UTC()})
		return nil
	}
	return apperr.New(apperr.Conflict, "payment %s is already %s", p.orderID, p.status)
}

// Capture records the capture of an authorized payment; a no-op if captured.
func (p *Payment) Capture(now time.Time) error {
	return p.settle(StatusCaptured, "capture",
		Captured{OrderID: p.orderID, AuthorizationID: p.authorizationID, CapturedAt: now.UTC()})
}

// Void records the void of an authorized payment; a no-op if voided.
func (p *Payment) Void(now time.Time) error {
	return p.settle(StatusVoided, "void",
		Voided{OrderID: p.orderID, AuthorizationID: p.authorizationID, VoidedAt: now.UTC()})
}

// settle records e, which ends an authorization in status to (captured or
// voided); a no-op if the payment is already there, a conflict from any
// status but authorized.
func (p *Payment) settle(to Status, verb string, e Event) error {
	switch p.status {
	case to:
		return nil
	case StatusAuthorized:
		p.record(e)
		return nil
	}
	return apperr.New(apperr.Conflict, "cannot %s payment %s: it is %q, not authorized", verb, p.orderID, p.status)
}
