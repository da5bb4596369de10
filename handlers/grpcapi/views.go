package grpcapi

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/domain/order"
	pb "github.com/orderflow/orderflow/handlers/grpcapi/orderflowv1"
	"github.com/orderflow/orderflow/ports"
)

// The messages the API answers with, from the ports' and the use cases'
// types: the contract is proto/orderflow/v1, kept apart from them so that a
// change inside the service never changes the API by accident.

func ts(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t.UTC()) }

func resultOf(r command.Result) *pb.CommandResult {
	return &pb.CommandResult{OrderId: r.OrderID, Status: string(r.Status), Version: r.Version}
}

func orderOf(s ports.OrderSummary) *pb.Order {
	items := make([]*pb.Item, len(s.Items))
	for i, it := range s.Items {
		items[i] = &pb.Item{Sku: it.SKU, Quantity: it.Quantity, UnitPrice: it.UnitPrice}
	}
	return &pb.Order{
		OrderId:            s.OrderID,
		CustomerId:         s.CustomerID,
		Status:             s.Status,
		Items:              items,
		Total:              &pb.Money{Amount: s.Total, Currency: s.Currency},
		Version:            s.Version,
		CreatedAt:          ts(s.CreatedAt),
		UpdatedAt:          ts(s.UpdatedAt),
		CancellationReason: s.CancellationReason,
		Carrier:            s.Carrier,
		TrackingNumber:     s.TrackingNumber,
	}
}

func eventsOf(events []ports.RecordedEvent) []*pb.Event {
	out := make([]*pb.Event, len(events))
	for i, e := range events {
		out[i] = &pb.Event{
			EventId:    e.Metadata.EventID,
			Type:       e.Type,
			Version:    e.Version,
			Position:   e.Position.Prepare,
			OccurredAt: ts(e.Metadata.OccurredAt),
			RecordedAt: ts(e.RecordedAt),
			Data:       string(e.Data),
			Metadata:   &pb.EventMetadata{CorrelationId: e.Metadata.CorrelationID, CausationId: e.Metadata.CausationID},
		}
	}
	return out
}

func stepsOf(steps []ports.CheckoutStep) []*pb.CheckoutStep {
	out := make([]*pb.CheckoutStep, len(steps))
	for i, st := range steps {
		out[i] = &pb.CheckoutStep{Step: st.Step, Status: st.Status, At: ts(st.At), Detail: st.Detail}
	}
	return out
}

func checkoutOf(c ports.Checkout) *pb.Checkout {
	return &pb.Checkout{OrderId: c.OrderID, State: c.State, Reason: c.Reason, Steps: stepsOf(c.Steps),
		Compensations: stepsOf(c.Compensations), StartedAt: ts(c.StartedAt), DeadlineAt: ts(c.DeadlineAt),
		UpdatedAt: ts(c.UpdatedAt)}
}

func stockOf(l command.StockLevels) *pb.Stock {
	return &pb.Stock{Sku: l.SKU, OnHand: l.OnHand, Reserved: l.Reserved, Available: l.Available}
}

// orderID is order.ParseID: NOT_FOUND without asking the store for an id
// that is not a UUID, as over HTTP.
func orderID(raw string) (string, error) { return order.ParseID(raw) }
