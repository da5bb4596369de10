package ports

import (
	"context"
	"github.com/orderflow/orderflow/app/apperr"
	"time"
)

// ErrCheckoutNotFound is returned (wrapped) by CheckoutStore.Get for an
// order without a checkout.
var ErrCheckoutNotFound = apperr.New(apperr.NotFound, "checkout not found")

// CheckoutStep is one entry of a checkout's step log.
type CheckoutStep struct {
	Step   string    `json:"step"`
	Status string    `json:"status"`
	At     time.Time `json:"at"`
	Detail string    `json:"detail,omitempty"`
}

// Checkout is the persisted state of one order's checkout saga: one row per
// order, rewritten at each step with optimistic concurrency on Version.
type Checkout struct {
	OrderID         string
	State           string
	Reason          string
	AuthorizationID string
	Steps           []CheckoutStep
	Compensations   []CheckoutStep
	StartedAt       time.Time
	DeadlineAt      time.Time
	UpdatedAt       time.Time
	// Attempts counts the deadline scanner's failed attempts to advance
	// the checkout since it last moved; NextAttemptAt (zero: none) is when
	// the scanner may try it again.
	Attempts      int
	NextAttemptAt time.Time
	// ResumeState and ResumeReason are, on a parked checkout, the state it
	// was parked in and the reason it had then: what resuming it restores.
	// Empty otherwise (and on checkouts parked before they were recorded).
	ResumeState, ResumeReason string
	Version                   int64 // 1 when first saved
}

// CheckoutStore keeps checkouts.
//
// Save writes c if the stored version is c.Version-1 (0: no row yet), in one
// conditional statement; otherwise nothing is written and the error matches
// ErrConcurrency. Get returns ErrCheckoutNotFound (wrapped) for an unknown
// order. Due returns up to limit order ids whose checkout is in one of
// states with DeadlineAt at or before now and NextAttemptAt zero or at or
// before now, the earliest due first (NextAttemptAt, or DeadlineAt when it
// is zero): the durable timer the saga's deadline scanner polls, where a
// checkout that failed and backs off never holds up the others. InState
// returns up to limit checkouts in state whose order id is greater than
// afterOrderID ("" starts at the beginning), in order id order: an
// operator's listing (of the parked ones).
//
// Claim takes up to limit checkouts in one of states whose NextAttemptAt is set and
// at or before now (the earliest due first), sets their NextAttemptAt to
// until (without changing their version) and returns their order ids, in
// no particular order: a lease,
// after which another Claim may take them again. Two concurrent claims take
// different checkouts.
type CheckoutStore interface {
	Save(ctx context.Context, c Checkout) error
	// SaveMany saves checkouts of distinct orders as Save would each, in
	// as few statements as the store can; if one is not at the version
	// before its own, it returns ErrConcurrency. Call it in a unit of work
	// (Transactor) for all or none of them.
	SaveMany(ctx context.Context, cs []Checkout) error
	Claim(ctx context.Context, states []string, now, until time.Time, limit int) ([]string, error)
	Get(ctx context.Context, orderID string) (Checkout, error)
	Due(ctx context.Context, now time.Time, states []string, limit int) ([]string, error)
	InState(ctx context.Context, state, afterOrderID string, limit int) ([]Checkout, error)
}
