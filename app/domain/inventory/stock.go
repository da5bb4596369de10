// Package inventory is the stock of one SKU as an event-sourced aggregate:
// on-hand units, units reserved per order, and what is available to reserve.
// Reservations are keyed by order id, so every intent is idempotent: reserving
// an order twice, or releasing or committing it twice, records nothing the
// second time (for the last Remembered settled orders; see state.go). Available stock never goes negative: reserving more than is
// available fails, and on-hand stock cannot be set below what is reserved.
package inventory

import (
	"sort"
	"strings"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/text"
)

// MaxSKULength bounds a SKU, which is also a stream id.
const MaxSKULength = 100

// Stock is the aggregate. The zero value (see New) is a SKU with no stock.
type Stock struct {
	sku      string
	onHand   int64
	reserved int64
	// holds are the open reservations by order id.
	holds map[string]int64
	// settled are orders whose reservation was released or committed: a
	// late, redelivered reserve for them is a no-op.
	settled map[string]bool
	// failed are orders that could not be reserved here: asking again gives
	// the same answer, so that a redelivered reserve never turns a failed
	// reservation into a successful one.
	failed map[string]bool
	// recent are the orders of settled and failed, oldest first: only the
	// last Remembered are kept (state.go).
	recent []string

	version int64
	changes []Event
}

// New returns the stock of sku before any event: nothing on hand.
func New(sku string) *Stock {
	return &Stock{sku: sku, holds: map[string]int64{}, settled: map[string]bool{}, failed: map[string]bool{}}
}

// FromHistory rebuilds sku's stock from its events, oldest first.
func FromHistory(sku string, events []Event) *Stock {
	s := New(sku)
	for _, e := range events {
		s.Apply(e)
	}
	return s
}

func (s *Stock) SKU() string      { return s.sku }
func (s *Stock) OnHand() int64    { return s.onHand }
func (s *Stock) Reserved() int64  { return s.reserved }
func (s *Stock) Available() int64 { return s.onHand - s.reserved }

// ReservedFor returns the units held for orderID (0 if none).
func (s *Stock) ReservedFor(orderID string) int64 { return s.holds[orderID] }

// Version is the number of events applied, including uncommitted changes.
func (s *Stock) Version() int64 { return s.version }

// OriginalVersion is the version the stock was loaded at.
func (s *Stock) OriginalVersion() int64 { return s.version - int64(len(s.changes)) }

// Changes returns the events recorded since loading.
func (s *Stock) Changes() []Event { return append([]Event(nil), s.changes...) }

// Apply applies a stored event; it never fails.
func (s *Stock) Apply(e Event) {
	switch e := e.(type) {
	case StockSet:
		s.onHand = e.OnHand
	case Reserved:
		s.holds[e.OrderID] = e.Quantity
		s.reserved += e.Quantity
	case ReservationFailed:
		s.remember(e.OrderID, true)
	case Released:
		s.reserved -= s.holds[e.OrderID]
		delete(s.holds, e.OrderID)
		s.remember(e.OrderID, false)
	case Committed:
		s.reserved -= s.holds[e.OrderID]
		s.onHand -= s.holds[e.OrderID]
		delete(s.holds, e.OrderID)
		s.remember(e.OrderID, false)
	}
	s.version++
}

func (s *Stock) record(e Event) {
	s.Apply(e)
	s.changes = append(s.changes, e)
}

// ValidateSKU reports a SKU that cannot name a stock stream: blank, longer
// than MaxSKULength bytes, holding '/', '?' or '#', or not storable text
// (see package text).
func ValidateSKU(sku string) error {
	if strings.TrimSpace(sku) == "" || len(sku) > MaxSKULength || strings.ContainsAny(sku, "/?#") {
		return apperr.Validation("invalid sku", []apperr.FieldError{{Field: "sku",
			Message: "must be 1 to 100 characters, without '/', '?' or '#'"}})
	}
	if msg := text.Problem(sku); msg != "" {
		return apperr.Validation("invalid sku", []apperr.FieldError{{Field: "sku", Message: msg}})
	}
	return nil
}

// SetOnHand sets on-hand units. It refuses a negative count, and a count
// below what is reserved (that would make available stock negative).
func (s *Stock) SetOnHand(onHand int64, now time.Time) error {
	if onHand < 0 {
		return apperr.Validation("invalid stock", []apperr.FieldError{{Field: "on_hand", Message: "must be 0 or more"}})
	}
	if onHand < s.reserved {
		return apperr.New(apperr.Conflict, "cannot set %s to %d on hand: %d units are reserved", s.sku, onHand, s.reserved)
	}
	if onHand == s.onHand && s.version > 0 {
		return nil
	}
	s.record(StockSet{SKU: s.sku, OnHand: onHand, SetAt: now.UTC()})
	return nil
}

// CanReserve reports whether Reserve(orderID, quantity) would succeed or be
// a no-op. An order that already failed here cannot.
func (s *Stock) CanReserve(orderID string, quantity int64) bool {
	if _, held := s.holds[orderID]; held || s.settled[orderID] {
		return true
	}
	return !s.failed[orderID] && quantity <= s.Available()
}

// Reserve holds quantity units for orderID. It is a no-op if orderID already
// holds a reservation here or was already settled (released or committed).
// Not enough stock, or an order that already failed here, is an
// apperr.Conflict and records nothing.
func (s *Stock) Reserve(orderID string, quantity int64, now time.Time) error {
	if quantity <= 0 {
		return apperr.New(apperr.Invalid, "reserve %s for %s: quantity %d", s.sku, orderID, quantity)
	}
	if _, held := s.holds[orderID]; held || s.settled[orderID] {
		return nil
	}
	if s.failed[orderID] {
		return apperr.New(apperr.Conflict, "%s: the reservation of order %s already failed", s.sku, orderID)
	}
	if quantity > s.Available() {
		return apperr.New(apperr.Conflict, "%s: %d requested, %d available", s.sku, quantity, s.Available())
	}
	s.record(Reserved{SKU: s.sku, OrderID: orderID, Quantity: quantity, ReservedAt: now.UTC()})
	return nil
}

// Fail records that orderID could not be reserved for lack of this SKU
// (shortSKUs names every short SKU of the order). A no-op if the order
// already holds, settled or failed a reservation here.
func (s *Stock) Fail(orderID string, requested int64, shortSKUs []string, now time.Time) {
	if _, held := s.holds[orderID]; held || s.settled[orderID] || s.failed[orderID] {
		return
	}
	short := append([]string(nil), shortSKUs...)
	sort.Strings(short)
	s.record(ReservationFailed{SKU: s.sku, OrderID: orderID, Requested: requested,
		Available: s.Available(), ShortSKUs: short, FailedAt: now.UTC()})
}

// Release gives orderID's reservation back; a no-op without one.
func (s *Stock) Release(orderID string, now time.Time) {
	q, held := s.holds[orderID]
	if !held {
		return
	}
	s.record(Released{SKU: s.sku, OrderID: orderID, Quantity: q, ReleasedAt: now.UTC()})
}

// Commit turns orderID's reservation into a decrement of on-hand stock (the
// goods left); a no-op without one.
func (s *Stock) Commit(orderID string, now time.Time) {
	q, held := s.holds[orderID]
	if !held {
		return
	}
	s.record(Committed{SKU: s.sku, OrderID: orderID, Quantity: q, CommittedAt: now.UTC()})
}
