package command

import (
	"context"
	"errors"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/text"
	"github.com/orderflow/orderflow/app/saga"
	"github.com/orderflow/orderflow/app/wire"
	"github.com/orderflow/orderflow/ports"
)

// ResumeCheckouts hands parked checkouts back to the saga: the one of
// OrderID, or, with AllParked, every parked one (OrderID must then be
// empty). Operator names who resumed them, in each one's step log.
type ResumeCheckouts struct {
	OrderID   string
	AllParked bool
	Operator  string
}

// Resumed lists the checkouts a ResumeCheckouts resumed, as saved.
type Resumed struct{ Checkouts []ports.Checkout }

// resumePage is how many parked checkouts one listing of a resume reads.
const resumePage = 100

// ResumeCheckoutsHandler runs ResumeCheckouts.
type ResumeCheckoutsHandler struct {
	store ports.CheckoutStore
	clock ports.Clock
}

func NewResumeCheckoutsHandler(store ports.CheckoutStore, clock ports.Clock) ResumeCheckoutsHandler {
	return ResumeCheckoutsHandler{store: wire.Need(store, "command: nil checkout store"), clock: wire.Need(clock, "command: nil clock")}
}

// Handle resumes each checkout as saga.Resume says: back in the state it
// was parked in, its attempts reset, due now, a "resume" step logged. One
// that is not parked is apperr.Conflict, an unknown one apperr.NotFound;
// resuming all skips those another operator resumed meanwhile. On an error,
// what was resumed stays resumed and Resumed says which.
func (h ResumeCheckoutsHandler) Handle(ctx context.Context, cmd ResumeCheckouts) (Resumed, error) {
	switch {
	case cmd.Operator == "" || !text.Valid(cmd.Operator):
		return Resumed{}, apperr.Validation("invalid resume", []apperr.FieldError{{Field: "operator", Message: "required, printable text"}})
	case cmd.AllParked && cmd.OrderID != "":
		return Resumed{}, apperr.New(apperr.Invalid, "resume one checkout or all parked ones, not both")
	case !cmd.AllParked && cmd.OrderID == "":
		return Resumed{}, apperr.New(apperr.Invalid, "an order id is required to resume its checkout")
	case !cmd.AllParked && !text.Valid(cmd.OrderID):
		return Resumed{}, apperr.Detail(ports.ErrCheckoutNotFound, "no checkout has that order id")
	case !cmd.AllParked:
		c, err := h.store.Get(ctx, cmd.OrderID)
		if err != nil {
			return Resumed{}, err
		}
		resumed, err := h.resume(ctx, c, cmd.Operator)
		if err != nil {
			return Resumed{}, err
		}
		return Resumed{Checkouts: []ports.Checkout{resumed}}, nil
	}
	var done Resumed
	for after := ""; ; {
		page, err := h.store.InState(ctx, saga.StateParked, after, resumePage)
		if err != nil || len(page) == 0 {
			return done, err
		}
		for _, c := range page {
			resumed, err := h.resume(ctx, c, cmd.Operator)
			if errors.Is(err, ports.ErrConcurrency) {
				continue // resumed (or changed) by someone else meanwhile
			}
			if err != nil {
				return done, err
			}
			done.Checkouts = append(done.Checkouts, resumed)
		}
		after = page[len(page)-1].OrderID
	}
}

func (h ResumeCheckoutsHandler) resume(ctx context.Context, c ports.Checkout, operator string) (ports.Checkout, error) {
	resumed, err := saga.Resume(c, operator, h.clock.Now())
	if err != nil {
		return c, err
	}
	err = h.store.Save(ctx, resumed)
	if errors.Is(err, ports.ErrConcurrency) {
		return c, apperr.Wrap(apperr.Conflict, err, "the checkout of order %s changed meanwhile; look again", c.OrderID)
	}
	return resumed, err
}
