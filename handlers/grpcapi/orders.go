package grpcapi

import (
	"context"

	"github.com/google/uuid"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/domain/order"
	pb "github.com/orderflow/orderflow/handlers/grpcapi/orderflowv1"
)

// orders is OrderService. The write side is here, the reads in orders_read.go.
type orders struct {
	*server
	// Every method is implemented; this is what generated servers must embed.
	pb.UnimplementedOrderServiceServer
}

var _ pb.OrderServiceServer = orders{}

// PlaceOrder places an order whose id is a new UUIDv7. With an
// idempotency-key, the order and the key's record commit in one transaction
// (app/idempotency), as over HTTP.
func (s orders) PlaceOrder(ctx context.Context, req *pb.PlaceOrderRequest) (*pb.PlaceOrderResponse, error) {
	return idempotent(ctx, s.server, req, func() *pb.PlaceOrderResponse { return &pb.PlaceOrderResponse{} },
		func(ctx context.Context) (*pb.PlaceOrderResponse, error) {
			v7, err := uuid.NewV7()
			if err != nil {
				return nil, apperr.Wrap(apperr.Internal, err, "generate order id")
			}
			id := v7.String()
			items := make([]order.Item, len(req.GetItems()))
			for i, it := range req.GetItems() {
				items[i] = order.Item{SKU: it.GetSku(), Quantity: it.GetQuantity(), UnitPrice: it.GetUnitPrice()}
			}
			a := req.GetShippingAddress()
			res, err := s.app.Commands.PlaceOrder.Handle(ctx, command.PlaceOrder{PlaceParams: order.PlaceParams{
				OrderID:    id,
				CustomerID: req.GetCustomerId(),
				Currency:   req.GetCurrency(),
				Items:      items,
				ShippingAddress: order.Address{Name: a.GetName(), Line1: a.GetLine1(), Line2: a.GetLine2(),
					City: a.GetCity(), PostalCode: a.GetPostalCode(), Country: a.GetCountry()},
				PaymentMethod: req.GetPaymentMethod(),
			}})
			if err != nil {
				return nil, err
			}
			return &pb.PlaceOrderResponse{OrderId: res.OrderID, Status: string(res.Status), Version: res.Version,
				Total: &pb.Money{Amount: res.Total, Currency: res.Currency}}, nil
		})
}

func (s orders) CancelOrder(ctx context.Context, req *pb.CancelOrderRequest) (*pb.CancelOrderResponse, error) {
	return idempotent(ctx, s.server, req, func() *pb.CancelOrderResponse { return &pb.CancelOrderResponse{} },
		func(ctx context.Context) (*pb.CancelOrderResponse, error) {
			r, err := transition(req.GetOrderId(), req.GetExpectedVersion(), func(id string, v int64) (command.Result, error) {
				return s.app.Commands.CancelOrder.Handle(ctx, command.CancelOrder{OrderID: id, Reason: req.GetReason(), IfMatch: v})
			})
			return &pb.CancelOrderResponse{Result: r}, err
		})
}

func (s orders) ShipOrder(ctx context.Context, req *pb.ShipOrderRequest) (*pb.ShipOrderResponse, error) {
	return idempotent(ctx, s.server, req, func() *pb.ShipOrderResponse { return &pb.ShipOrderResponse{} },
		func(ctx context.Context) (*pb.ShipOrderResponse, error) {
			r, err := transition(req.GetOrderId(), req.GetExpectedVersion(), func(id string, v int64) (command.Result, error) {
				return s.app.Commands.ShipOrder.Handle(ctx, command.ShipOrder{OrderID: id, Carrier: req.GetCarrier(),
					TrackingNumber: req.GetTrackingNumber(), IfMatch: v})
			})
			return &pb.ShipOrderResponse{Result: r}, err
		})
}

func (s orders) DeliverOrder(ctx context.Context, req *pb.DeliverOrderRequest) (*pb.DeliverOrderResponse, error) {
	return idempotent(ctx, s.server, req, func() *pb.DeliverOrderResponse { return &pb.DeliverOrderResponse{} },
		func(ctx context.Context) (*pb.DeliverOrderResponse, error) {
			r, err := transition(req.GetOrderId(), req.GetExpectedVersion(), func(id string, v int64) (command.Result, error) {
				return s.app.Commands.DeliverOrder.Handle(ctx, command.DeliverOrder{OrderID: id, IfMatch: v})
			})
			return &pb.DeliverOrderResponse{Result: r}, err
		})
}

// transition checks the order id and expected_version (0: no check; the
// command compares it with the stored version, so it holds when two calls
// race), runs the command and answers the order's new status and version.
func transition(rawID string, expected int64, run func(orderID string, ifMatch int64) (command.Result, error)) (*pb.CommandResult, error) {
	id, err := orderID(rawID)
	if err != nil {
		return nil, err
	}
	if expected < 0 {
		return nil, invalid("invalid expected version", "expected_version", "must be 0 (no check) or an order version of at least 1")
	}
	res, err := run(id, expected)
	if err != nil {
		return nil, err
	}
	return resultOf(res), nil
}
