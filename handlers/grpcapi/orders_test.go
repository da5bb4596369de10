package grpcapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/query"
	pb "github.com/orderflow/orderflow/handlers/grpcapi/orderflowv1"
	"github.com/orderflow/orderflow/ports"
)

const orderID = "0193a7a0-0000-7000-8000-000000000001"

func TestPlaceOrderMapsTheRequestAndTheResult(t *testing.T) {
	e := newEnv(t)
	e.app.place.Result = command.Result{OrderID: orderID, Status: order.StatusPlaced, Version: 1, Total: 2500, Currency: "EUR"}
	res, err := e.orders.PlaceOrder(ctx(t), &pb.PlaceOrderRequest{CustomerId: "c-1", Currency: "EUR",
		Items:           []*pb.Item{{Sku: "S", Quantity: 2, UnitPrice: 1250}},
		ShippingAddress: &pb.Address{Name: "A", Line1: "B", Line2: "C", City: "D", PostalCode: "E", Country: "GB"},
		PaymentMethod:   "tok_visa"})
	if err != nil {
		t.Fatal(err)
	}
	if res.GetOrderId() != orderID || res.GetVersion() != 1 || res.GetStatus() != "placed" ||
		res.GetTotal().GetAmount() != 2500 || res.GetTotal().GetCurrency() != "EUR" {
		t.Errorf("response %v", res)
	}
	calls := e.app.place.Calls()
	if len(calls) != 1 {
		t.Fatalf("%d calls", len(calls))
	}
	p := calls[0].PlaceParams
	if p.CustomerID != "c-1" || p.Items[0] != (order.Item{SKU: "S", Quantity: 2, UnitPrice: 1250}) ||
		p.ShippingAddress != (order.Address{Name: "A", Line1: "B", Line2: "C", City: "D", PostalCode: "E", Country: "GB"}) ||
		p.PaymentMethod != "tok_visa" || len(p.OrderID) != 36 {
		t.Errorf("command %+v", p)
	}
}

// expected_version is HTTP's If-Match: passed to the command, negative
// refused naming the field; an order id that is not a UUID is NOT_FOUND
// without a call.
func TestTransitionsCarryTheExpectedVersion(t *testing.T) {
	e := newEnv(t)
	e.app.ship.Result = command.Result{OrderID: orderID, Status: order.StatusShipped, Version: 3}
	res, err := e.orders.ShipOrder(ctx(t), &pb.ShipOrderRequest{OrderId: orderID, Carrier: "DHL", TrackingNumber: "T", ExpectedVersion: 2})
	if err != nil || res.GetResult().GetVersion() != 3 || res.GetResult().GetStatus() != "shipped" {
		t.Fatalf("%v, %v", res, err)
	}
	if c := e.app.ship.Calls()[0]; c != (command.ShipOrder{OrderID: orderID, Carrier: "DHL", TrackingNumber: "T", IfMatch: 2}) {
		t.Errorf("command %+v", c)
	}
	e.app.cancel.Err = apperr.New(apperr.PreconditionFailed, "the order is at version 3")
	_, err = e.orders.CancelOrder(ctx(t), &pb.CancelOrderRequest{OrderId: orderID, ExpectedVersion: 2})
	wantCode(t, err, codes.Aborted)
	if c := e.app.cancel.Calls()[0]; c.IfMatch != 2 {
		t.Errorf("cancel %+v", c)
	}

	_, err = e.orders.DeliverOrder(ctx(t), &pb.DeliverOrderRequest{OrderId: orderID, ExpectedVersion: -1})
	_, _, br := details(wantCode(t, err, codes.InvalidArgument))
	if br.GetFieldViolations()[0].GetField() != "expected_version" {
		t.Errorf("violations %v", br)
	}
	_, err = e.orders.DeliverOrder(ctx(t), &pb.DeliverOrderRequest{OrderId: "not-a-uuid"})
	wantCode(t, err, codes.NotFound)
	if n := len(e.app.deliver.Calls()); n != 0 {
		t.Errorf("deliver called %d times", n)
	}
}

// Numbers HTTP reads from the query string are refused with the same field
// names when out of range.
func TestReadsRefuseBadNumbersNamingTheField(t *testing.T) {
	e := newEnv(t)
	for name, call := range map[string]func() error{
		"limit": func() error {
			_, err := e.orders.ListOrders(ctx(t), &pb.ListOrdersRequest{Limit: -1})
			return err
		},
		"min_version": func() error {
			_, err := e.orders.GetOrder(ctx(t), &pb.GetOrderRequest{OrderId: orderID, MinVersion: -1})
			return err
		},
		"version": func() error {
			_, err := e.orders.GetOrderHistory(ctx(t), &pb.GetOrderHistoryRequest{OrderId: orderID, Version: -1})
			return err
		},
		"at": func() error {
			_, err := e.orders.GetOrderHistory(ctx(t), &pb.GetOrderHistoryRequest{OrderId: orderID,
				At: &timestamppb.Timestamp{Seconds: 1, Nanos: -5}})
			return err
		},
	} {
		_, _, br := details(wantCode(t, call(), codes.InvalidArgument))
		if got := br.GetFieldViolations()[0].GetField(); got != name {
			t.Errorf("%s: field %q", name, got)
		}
	}
	// Every bad field at once, as HTTP lists every bad query parameter.
	_, err := e.orders.GetOrderHistory(ctx(t), &pb.GetOrderHistoryRequest{OrderId: orderID, Version: -1,
		At: &timestamppb.Timestamp{Seconds: 1, Nanos: -5}})
	_, _, br := details(wantCode(t, err, codes.InvalidArgument))
	if v := br.GetFieldViolations(); len(v) != 2 || v[0].GetField() != "version" || v[1].GetField() != "at" {
		t.Errorf("violations %v", v)
	}
	for name, call := range map[string]func() error{
		"GetOrder": func() error { _, err := e.orders.GetOrder(ctx(t), &pb.GetOrderRequest{OrderId: "x"}); return err },
		"ListOrderEvents": func() error {
			_, err := e.orders.ListOrderEvents(ctx(t), &pb.ListOrderEventsRequest{OrderId: "x"})
			return err
		},
		"GetOrderHistory": func() error {
			_, err := e.orders.GetOrderHistory(ctx(t), &pb.GetOrderHistoryRequest{OrderId: strings.Repeat("x", 100)})
			return err
		},
		"GetCheckout": func() error { _, err := e.orders.GetCheckout(ctx(t), &pb.GetCheckoutRequest{OrderId: "x"}); return err },
		"ListNotifications": func() error {
			_, err := e.orders.ListNotifications(ctx(t), &pb.ListNotificationsRequest{OrderId: "x"})
			return err
		},
		"WatchOrder": func() error {
			s, err := e.orders.WatchOrder(ctx(t), &pb.WatchOrderRequest{OrderId: "x"})
			if err != nil {
				return err
			}
			_, err = s.Recv()
			return err
		},
	} {
		if st := wantCode(t, call(), codes.NotFound); len(st.Message()) > 120 {
			t.Errorf("%s: message quotes too much: %s", name, st.Message())
		}
	}
}

func TestReadsMapTheQueries(t *testing.T) {
	e := newEnv(t)
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	summary := ports.OrderSummary{OrderID: orderID, CustomerID: "c", Status: "placed", Total: 100, Currency: "EUR",
		Version: 1, CreatedAt: now, UpdatedAt: now, Items: []ports.OrderLine{{SKU: "S", Quantity: 1, UnitPrice: 100}}}
	e.app.get.Result = query.OrderView{OrderSummary: summary, Stale: true}
	e.app.checkout.Err = nil
	e.app.checkout.Result = ports.Checkout{OrderID: orderID, State: "reserving"}
	call, cancel := context.WithTimeout(ctx(t), time.Second)
	defer cancel()
	got, err := e.orders.GetOrder(call, &pb.GetOrderRequest{OrderId: orderID, MinVersion: 2})
	if err != nil || !got.GetStale() || got.GetOrder().GetTotal().GetAmount() != 100 ||
		got.GetOrder().GetCheckout().GetState() != "reserving" || !got.GetOrder().GetCreatedAt().AsTime().Equal(now) {
		t.Fatalf("%v, %v", got, err)
	}
	if q := e.app.get.Calls()[0]; q.MinVersion != 2 || q.Wait <= 0 || q.Wait > time.Second {
		t.Errorf("the wait must respect the deadline: %+v", q)
	}

	e.app.checkout.Result = ports.Checkout{OrderID: orderID, State: "confirmed"}
	if got, err := e.orders.GetOrder(ctx(t), &pb.GetOrderRequest{OrderId: orderID}); err != nil || got.GetOrder().GetCheckout() != nil {
		t.Errorf("a checkout that confirmed the order is not shown: %v, %v", got, err)
	}
	e.app.checkout.Err = apperr.New(apperr.Unavailable, "store down")
	_, err = e.orders.GetOrder(ctx(t), &pb.GetOrderRequest{OrderId: orderID})
	wantCode(t, err, codes.Unavailable)
	e.app.checkout.Err = nil

	e.app.list.Result = ports.OrderPage{Items: []ports.OrderSummary{summary}, NextCursor: "next"}
	page, err := e.orders.ListOrders(ctx(t), &pb.ListOrdersRequest{CustomerId: "c", Status: "placed", Limit: 1000, Cursor: "cur"})
	if err != nil || len(page.GetItems()) != 1 || page.GetNextCursor() != "next" {
		t.Fatalf("%v, %v", page, err)
	}
	if q := e.app.list.Calls()[0]; q != (query.ListOrders{CustomerID: "c", Status: "placed", Limit: query.MaxLimit, Cursor: "cur"}) {
		t.Errorf("list %+v", q)
	}

	e.app.history.Result = summary
	at := timestamppb.New(now)
	if _, err := e.orders.GetOrderHistory(ctx(t), &pb.GetOrderHistoryRequest{OrderId: orderID, At: at}); err != nil {
		t.Fatal(err)
	}
	if q := e.app.history.Calls()[0]; q.At == nil || !q.At.Equal(now) || q.Version != 0 {
		t.Errorf("history %+v", q)
	}

	e.app.events.Result = []ports.RecordedEvent{{Version: 1, Type: "order.placed.v2", Data: []byte(`{"a":1}`),
		Position: ports.Position{Prepare: 7}, Metadata: ports.EventMetadata{EventID: "e1", CorrelationID: "c1"}}}
	ev, err := e.orders.ListOrderEvents(ctx(t), &pb.ListOrderEventsRequest{OrderId: orderID})
	if err != nil || ev.GetEvents()[0].GetData() != `{"a":1}` || ev.GetEvents()[0].GetPosition() != 7 ||
		ev.GetEvents()[0].GetMetadata().GetCorrelationId() != "c1" {
		t.Fatalf("%v, %v", ev, err)
	}

	e.app.notes.Result = []ports.Notification{{ID: "n1", Kind: "confirmed", At: now}}
	ns, err := e.orders.ListNotifications(ctx(t), &pb.ListNotificationsRequest{OrderId: orderID})
	if err != nil || ns.GetNotifications()[0].GetKind() != "confirmed" {
		t.Fatalf("%v, %v", ns, err)
	}
	c, err := e.orders.GetCheckout(ctx(t), &pb.GetCheckoutRequest{OrderId: orderID})
	if err != nil || c.GetCheckout().GetState() != "confirmed" {
		t.Fatalf("%v, %v", c, err)
	}
}

func TestInventory(t *testing.T) {
	e := newEnv(t)
	e.app.setStock.Result = command.StockLevels{SKU: "S", OnHand: 10, Available: 10}
	res, err := e.stock.SetStock(ctx(t), &pb.SetStockRequest{Sku: "S", OnHand: new(int64(10))})
	if err != nil || res.GetStock().GetOnHand() != 10 {
		t.Fatalf("%v, %v", res, err)
	}
	if c := e.app.setStock.Calls()[0]; c != (command.SetStock{SKU: "S", OnHand: 10}) {
		t.Errorf("command %+v", c)
	}
	_, err = e.stock.SetStock(ctx(t), &pb.SetStockRequest{Sku: "S"})
	_, _, br := details(wantCode(t, err, codes.InvalidArgument))
	if v := br.GetFieldViolations()[0]; v.GetField() != "on_hand" || v.GetDescription() != "is required" {
		t.Errorf("violation %v", v)
	}
	e.app.getStock.Result = command.StockLevels{SKU: "S", OnHand: 10, Reserved: 2, Available: 8}
	got, err := e.stock.GetStock(ctx(t), &pb.GetStockRequest{Sku: "S"})
	if err != nil || got.GetStock().GetAvailable() != 8 || got.GetStock().GetReserved() != 2 {
		t.Fatalf("%v, %v", got, err)
	}
}

// A request over the message size limit is refused before any use case runs.
func TestMessageSizeLimit(t *testing.T) {
	e := newEnv(t)
	_, err := e.stock.GetStock(ctx(t), &pb.GetStockRequest{Sku: strings.Repeat("x", 2<<20)})
	wantCode(t, err, codes.ResourceExhausted)
	if n := len(e.app.getStock.Calls()); n != 0 {
		t.Errorf("%d calls", n)
	}
}
