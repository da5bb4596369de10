package grpcapi_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/query"
	pb "github.com/orderflow/orderflow/handlers/grpcapi/orderflowv1"
)

// Every application error code maps to its gRPC code through the one table,
// with the correlation id in ErrorInfo and RequestInfo; invalid input names
// its fields in BadRequest; an internal error's cause is never shown.
func TestErrorsMapFromApplicationCodes(t *testing.T) {
	cases := []struct {
		err     error
		code    codes.Code
		reason  string
		message string
	}{
		{apperr.Validation("invalid stock", []apperr.FieldError{{Field: "on_hand", Message: "must be 0 or more"}}),
			codes.InvalidArgument, "INVALID", "invalid stock"},
		{apperr.New(apperr.NotFound, "no such SKU"), codes.NotFound, "NOT_FOUND", "no such SKU"},
		{apperr.New(apperr.Conflict, "cannot ship a cancelled order"), codes.FailedPrecondition, "CONFLICT", "cannot ship a cancelled order"},
		{apperr.New(apperr.PreconditionFailed, "version 3, not 2"), codes.Aborted, "PRECONDITION_FAILED", "version 3, not 2"},
		{apperr.New(apperr.Unauthorized, "no"), codes.Unauthenticated, "UNAUTHORIZED", "no"},
		{apperr.New(apperr.Unavailable, "store down"), codes.Unavailable, "UNAVAILABLE", "store down"},
		{apperr.Wrap(apperr.Internal, errors.New("secret cause"), "boom"), codes.Internal, "INTERNAL", "unexpected error"},
		{errors.New("a plain error"), codes.Internal, "INTERNAL", "unexpected error"},
		{&apperr.Error{Code: "unheard_of", Message: "x"}, codes.Internal, "INTERNAL", "unexpected error"},
	}
	e := newEnv(t)
	for _, c := range cases {
		e.app.getStock.Err = c.err
		call := metadata.AppendToOutgoingContext(ctx(t), "x-correlation-id", "corr-1")
		var header metadata.MD
		_, err := e.stock.GetStock(call, &pb.GetStockRequest{Sku: "S"}, grpc.Header(&header))
		st := wantCode(t, err, c.code)
		if !strings.Contains(st.Message(), c.message) || strings.Contains(st.Message(), "secret") {
			t.Errorf("%v: message %q, want it to say %q", c.err, st.Message(), c.message)
		}
		info, req, bad := details(st)
		if info == nil || info.GetReason() != c.reason || info.GetDomain() != "orderflow" || info.GetMetadata()["correlation_id"] != "corr-1" {
			t.Errorf("%v: ErrorInfo %v", c.err, info)
		}
		if req.GetRequestId() != "corr-1" || header.Get("x-correlation-id")[0] != "corr-1" {
			t.Errorf("%v: RequestInfo %v, header %v", c.err, req, header)
		}
		if (bad != nil) != (c.code == codes.InvalidArgument) {
			t.Errorf("%v: BadRequest %v", c.err, bad)
		}
	}
	v := bad(t, e, apperr.Validation("x", []apperr.FieldError{{Field: "items[0].quantity", Message: "must be greater than 0"}}))
	if len(v) != 1 || v[0] != "items[0].quantity: must be greater than 0" {
		t.Errorf("field violations %v", v)
	}
}

// bad answers GetStock with err and returns the field violations.
func bad(t *testing.T, e *env, err error) []string {
	e.app.getStock.Err = err
	_, err = e.stock.GetStock(ctx(t), &pb.GetStockRequest{Sku: "S"})
	_, _, br := details(wantCode(t, err, codes.InvalidArgument))
	var out []string
	for _, v := range br.GetFieldViolations() {
		out = append(out, v.GetField()+": "+v.GetDescription())
	}
	return out
}

// A client's deadline or cancel reaching the use case is answered as such,
// not as an internal error; a panic is an internal error.
func TestContextEndsAndPanics(t *testing.T) {
	e := newEnv(t)
	e.app.getStock.SetRun(func(ctx context.Context, _ query.GetStock) (command.StockLevels, error) {
		<-ctx.Done()
		return command.StockLevels{}, ctx.Err()
	})
	call, cancel := context.WithTimeout(ctx(t), 50_000_000) // 50 ms
	defer cancel()
	_, err := e.stock.GetStock(call, &pb.GetStockRequest{Sku: "S"})
	wantCode(t, err, codes.DeadlineExceeded)

	e.app.getStock.SetRun(func(context.Context, query.GetStock) (command.StockLevels, error) { panic("oops") })
	_, err = e.stock.GetStock(ctx(t), &pb.GetStockRequest{Sku: "S"})
	if st := wantCode(t, err, codes.Internal); strings.Contains(st.Message(), "oops") {
		t.Errorf("panic shown to the client: %s", st.Message())
	}
}

// Calls are counted per method and status code under the conventional names.
func TestMetricsPerMethodAndCode(t *testing.T) {
	e := newEnv(t)
	e.app.getStock.Err = apperr.New(apperr.NotFound, "x")
	for range 2 {
		_, _ = e.stock.GetStock(ctx(t), &pb.GetStockRequest{Sku: "S"})
	}
	_, _ = e.stock.SetStock(ctx(t), &pb.SetStockRequest{Sku: "S"}) // no on_hand: invalid
	if n := handled(t, e, "GetStock", "NotFound"); n != 2 {
		t.Errorf("GetStock NotFound handled %v times, want 2", n)
	}
	if n := handled(t, e, "SetStock", "InvalidArgument"); n != 1 {
		t.Errorf("SetStock InvalidArgument handled %v times, want 1", n)
	}
	count, err := testutil.GatherAndCount(e.registry, "grpc_server_handling_seconds", "grpc_server_started_total")
	if err != nil || count == 0 {
		t.Errorf("handling_seconds and started_total: %d series, %v", count, err)
	}
}

// handled is grpc_server_handled_total of one method and code.
func handled(t *testing.T, e *env, method, code string) float64 {
	t.Helper()
	families, err := e.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "grpc_server_handled_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["grpc_method"] == method && labels["grpc_code"] == code {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// Every method answers its use case's error through the table, whatever
// the method.
func TestEveryMethodAnswersItsUseCaseError(t *testing.T) {
	e := newEnv(t)
	fail := apperr.New(apperr.PreconditionFailed, "the use case refused")
	a := e.app
	a.place.Err, a.cancel.Err, a.ship.Err, a.deliver.Err, a.setStock.Err = fail, fail, fail, fail, fail
	a.get.Err, a.list.Err, a.events.Err, a.history.Err, a.checkout.Err, a.notes.Err, a.watch.Err = fail, fail, fail, fail, fail, fail, fail
	o := e.orders
	for name, call := range map[string]func() error{
		"PlaceOrder":  func() error { _, err := o.PlaceOrder(ctx(t), &pb.PlaceOrderRequest{}); return err },
		"CancelOrder": func() error { _, err := o.CancelOrder(ctx(t), &pb.CancelOrderRequest{OrderId: orderID}); return err },
		"ShipOrder":   func() error { _, err := o.ShipOrder(ctx(t), &pb.ShipOrderRequest{OrderId: orderID}); return err },
		"DeliverOrder": func() error {
			_, err := o.DeliverOrder(ctx(t), &pb.DeliverOrderRequest{OrderId: orderID})
			return err
		},
		"GetOrder":   func() error { _, err := o.GetOrder(ctx(t), &pb.GetOrderRequest{OrderId: orderID}); return err },
		"ListOrders": func() error { _, err := o.ListOrders(ctx(t), &pb.ListOrdersRequest{}); return err },
		"ListOrderEvents": func() error {
			_, err := o.ListOrderEvents(ctx(t), &pb.ListOrderEventsRequest{OrderId: orderID})
			return err
		},
		"GetOrderHistory": func() error {
			_, err := o.GetOrderHistory(ctx(t), &pb.GetOrderHistoryRequest{OrderId: orderID, Version: 1})
			return err
		},
		"GetCheckout": func() error { _, err := o.GetCheckout(ctx(t), &pb.GetCheckoutRequest{OrderId: orderID}); return err },
		"ListNotifications": func() error {
			_, err := o.ListNotifications(ctx(t), &pb.ListNotificationsRequest{OrderId: orderID})
			return err
		},
		"SetStock": func() error {
			_, err := e.stock.SetStock(ctx(t), &pb.SetStockRequest{Sku: "S", OnHand: new(int64(1))})
			return err
		},
		"WatchOrder": func() error {
			s, err := o.WatchOrder(ctx(t), &pb.WatchOrderRequest{OrderId: orderID})
			if err == nil {
				_, err = s.Recv()
			}
			return err
		},
	} {
		if st := wantCode(t, call(), codes.Aborted); st.Message() != "the use case refused" {
			t.Errorf("%s: message %q", name, st.Message())
		}
	}
}
