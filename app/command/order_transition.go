package command

import (
	"context"
	"time"

	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/ports"
)

// orderCommand is a command that moves one stored order on: it names the
// order and the version the caller expects (IfMatch, 0 for any).
type orderCommand interface {
	target() (orderID string, ifMatch int64)
}

// orderTransition runs a command of type C by calling one domain method on
// the stored order. Each command's handler embeds it, so the handler keeps a
// type of its own (and the decorators a use-case name of their own).
type orderTransition[C orderCommand] struct {
	deps
	apply func(o *order.Order, cmd C, now time.Time) error
}

func newOrderTransition[C orderCommand](repo *repository.Orders, clock ports.Clock,
	apply func(o *order.Order, cmd C, now time.Time) error) orderTransition[C] {
	return orderTransition[C]{deps: newDeps(repo, clock), apply: apply}
}

// Handle applies the command; see repository.Orders.Update for concurrency.
func (t orderTransition[C]) Handle(ctx context.Context, cmd C) (Result, error) {
	orderID, ifMatch := cmd.target()
	return t.update(ctx, orderID, ifMatch, func(o *order.Order) error {
		return t.apply(o, cmd, t.clock.Now())
	})
}
