// Package command holds the write-side use cases, one file per command. Each
// handler validates through the Order aggregate and stores the resulting
// events through the repository; none of them knows about HTTP or messages.
package command

import (
	"context"

	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/ports"
)

// Result is what a command reports back: the order's state and version after
// the command, so a client can send If-Match and ?min_version= next.
type Result struct {
	OrderID  string
	Status   order.Status
	Version  int64
	Total    int64
	Currency string
}

func resultOf(o *order.Order) Result {
	return Result{OrderID: o.ID(), Status: o.Status(), Version: o.Version(), Total: o.Total(), Currency: o.Currency()}
}

// deps is what every order command needs.
type deps struct {
	repo  *repository.Orders
	clock ports.Clock
}

func newDeps(repo *repository.Orders, clock ports.Clock) deps {
	if repo == nil || clock == nil {
		panic("command: nil repository or clock")
	}
	return deps{repo: repo, clock: clock}
}

// update runs fn on the stored order through repository.Orders.Update and
// reports the result.
func (d deps) update(ctx context.Context, orderID string, ifMatch int64, fn func(*order.Order) error) (Result, error) {
	o, err := d.repo.Update(ctx, orderID, ifMatch, fn)
	if err != nil {
		return Result{}, err
	}
	return resultOf(o), nil
}
