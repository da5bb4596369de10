package command_test

import (
	"context"
	"log/slog"
	"slices"
	"testing"

	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/decorator"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/ports"
)

// noEvents is an event store without any stream.
type noEvents struct{ ports.EventStore }

func (noEvents) Load(context.Context, ports.Stream, int64) ([]ports.RecordedEvent, error) {
	return nil, nil
}

// The order-transition handlers share their Handle, but each keeps a type of
// its own: the decorators name the use case in logs and metrics after it.
func TestOrderTransitionUseCaseNames(t *testing.T) {
	clock := ports.SystemClock{}
	repo := repository.NewOrders(noEvents{}, clock)
	rec := &metrics{}
	logger := slog.New(slog.DiscardHandler)
	ctx := t.Context()
	_, _ = decorator.Apply(command.NewConfirmOrderHandler(repo, clock), logger, rec).Handle(ctx, command.ConfirmOrder{OrderID: "o1"})
	_, _ = decorator.Apply(command.NewCancelOrderHandler(repo, clock), logger, rec).Handle(ctx, command.CancelOrder{OrderID: "o1"})
	_, _ = decorator.Apply(command.NewShipOrderHandler(repo, clock), logger, rec).Handle(ctx, command.ShipOrder{OrderID: "o1"})
	_, _ = decorator.Apply(command.NewDeliverOrderHandler(repo, clock), logger, rec).Handle(ctx, command.DeliverOrder{OrderID: "o1"})
	want := []string{"confirm_order:not_found", "cancel_order:not_found", "ship_order:not_found", "deliver_order:not_found"}
	if !slices.Equal(rec.names, want) {
		t.Fatalf("use cases observed %q, want %q", rec.names, want)
	}
}
