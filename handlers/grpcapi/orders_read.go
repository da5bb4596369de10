package grpcapi

import (
	"context"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/query"
	pb "github.com/orderflow/orderflow/handlers/grpcapi/orderflowv1"
)

// The read side of OrderService. Numbers that HTTP reads from the query
// string are fields here; the same values are refused with the same field
// names (a negative limit is "limit").

// GetOrder answers the read model's view; with min_version it waits up to
// ReadWait, and never past the call's deadline, for that version, and
// answers what it has with stale set if the read model did not get there.
func (s orders) GetOrder(ctx context.Context, req *pb.GetOrderRequest) (*pb.GetOrderResponse, error) {
	id, err := orderID(req.GetOrderId())
	if err != nil {
		return nil, err
	}
	if req.GetMinVersion() < 0 {
		return nil, invalid("invalid request", "min_version", "must be an integer of at least 0")
	}
	q := query.GetOrder{OrderID: id, MinVersion: req.GetMinVersion()}
	if q.MinVersion > 0 {
		q.Wait = s.readWait
		if deadline, ok := ctx.Deadline(); ok {
			// Leave a tenth of what remains for the answer to travel back.
			q.Wait = min(q.Wait, time.Until(deadline)*9/10)
		}
	}
	view, err := s.app.Queries.GetOrder.Handle(ctx, q)
	if err != nil {
		return nil, err
	}
	o := orderOf(view.OrderSummary)
	if o.Checkout, err = s.checkoutBrief(ctx, id); err != nil {
		return nil, err
	}
	return &pb.GetOrderResponse{Order: o, Stale: view.Stale}, nil
}

// checkoutBrief is the order's checkout state and reason while it runs or
// after it failed; nil once it confirmed the order, or before it started.
func (s orders) checkoutBrief(ctx context.Context, orderID string) (*pb.CheckoutBrief, error) {
	if s.app.Queries.GetCheckout == nil {
		return nil, nil
	}
	c, err := query.CheckoutOnOrder(s.app.Queries.GetCheckout.Handle(ctx, query.GetCheckout{OrderID: orderID}))
	if c == nil || err != nil {
		return nil, err
	}
	return &pb.CheckoutBrief{State: c.State, Reason: c.Reason}, nil
}

// ListOrders answers one page, newest first: limit 0 is the default
// (query.DefaultLimit), above query.MaxLimit it is capped.
func (s orders) ListOrders(ctx context.Context, req *pb.ListOrdersRequest) (*pb.ListOrdersResponse, error) {
	if req.GetLimit() < 0 {
		return nil, invalid("invalid order listing", "limit", "must be an integer of at least 1")
	}
	page, err := s.app.Queries.ListOrders.Handle(ctx, query.ListOrders{
		CustomerID: req.GetCustomerId(),
		Status:     req.GetStatus(),
		Limit:      int(min(req.GetLimit(), query.MaxLimit)),
		Cursor:     req.GetCursor(),
	})
	if err != nil {
		return nil, err
	}
	out := &pb.ListOrdersResponse{Items: make([]*pb.Order, len(page.Items)), NextCursor: page.NextCursor}
	for i, o := range page.Items {
		out.Items[i] = orderOf(o)
	}
	return out, nil
}

// ListOrderEvents answers every stored event of the order, oldest first.
func (s orders) ListOrderEvents(ctx context.Context, req *pb.ListOrderEventsRequest) (*pb.ListOrderEventsResponse, error) {
	id, err := orderID(req.GetOrderId())
	if err != nil {
		return nil, err
	}
	events, err := s.app.Queries.OrderEvents.Handle(ctx, query.OrderEvents{OrderID: id})
	if err != nil {
		return nil, err
	}
	return &pb.ListOrderEventsResponse{Events: eventsOf(events)}, nil
}

// GetOrderHistory answers the order as it was at version or at; the query
// insists on exactly one of them. Both bad are both named, as over HTTP.
func (s orders) GetOrderHistory(ctx context.Context, req *pb.GetOrderHistoryRequest) (*pb.GetOrderHistoryResponse, error) {
	id, err := orderID(req.GetOrderId())
	if err != nil {
		return nil, err
	}
	var fields []apperr.FieldError
	if req.GetVersion() < 0 {
		fields = append(fields, apperr.FieldError{Field: "version", Message: "must be an integer of at least 1"})
	}
	q := query.OrderHistory{OrderID: id, Version: req.GetVersion()}
	if req.GetAt() != nil {
		if err := req.GetAt().CheckValid(); err != nil {
			fields = append(fields, apperr.FieldError{Field: "at", Message: "must be a valid timestamp"})
		}
		at := req.GetAt().AsTime()
		q.At = &at
	}
	if err := apperr.Validation("invalid history query", fields); err != nil {
		return nil, err
	}
	summary, err := s.app.Queries.OrderHistory.Handle(ctx, q)
	if err != nil {
		return nil, err
	}
	return &pb.GetOrderHistoryResponse{Order: orderOf(summary)}, nil
}

// GetCheckout answers the order's checkout: NOT_FOUND until it has started.
func (s orders) GetCheckout(ctx context.Context, req *pb.GetCheckoutRequest) (*pb.GetCheckoutResponse, error) {
	id, err := orderID(req.GetOrderId())
	if err != nil {
		return nil, err
	}
	if s.app.Queries.GetCheckout == nil {
		return nil, apperr.New(apperr.NotFound, "checkout is not run by this service")
	}
	c, err := s.app.Queries.GetCheckout.Handle(ctx, query.GetCheckout{OrderID: id})
	if err != nil {
		return nil, err
	}
	return &pb.GetCheckoutResponse{Checkout: checkoutOf(c)}, nil
}

// ListNotifications answers the order's notifications, oldest first.
func (s orders) ListNotifications(ctx context.Context, req *pb.ListNotificationsRequest) (*pb.ListNotificationsResponse, error) {
	id, err := orderID(req.GetOrderId())
	if err != nil {
		return nil, err
	}
	if s.app.Queries.ListNotifications == nil {
		return nil, apperr.New(apperr.NotFound, "notifications are not kept by this service")
	}
	ns, err := s.app.Queries.ListNotifications.Handle(ctx, query.ListNotifications{OrderID: id})
	if err != nil {
		return nil, err
	}
	out := make([]*pb.Notification, len(ns))
	for i, n := range ns {
		out[i] = &pb.Notification{Id: n.ID, Kind: n.Kind, Reason: n.Reason, At: ts(n.At)}
	}
	return &pb.ListNotificationsResponse{Notifications: out}, nil
}
