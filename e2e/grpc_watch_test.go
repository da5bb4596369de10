package e2e

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/orderflow/orderflow/handlers/grpcapi/orderflowv1"
)

// placeOverGRPC stocks the SKU and places an order, returning its id.
func placeOverGRPC(t *testing.T, orders pb.OrderServiceClient, stock pb.InventoryServiceClient) string {
	t.Helper()
	ctx := authorized(t.Context())
	if _, err := stock.SetStock(ctx, &pb.SetStockRequest{Sku: "SKU-W", OnHand: new(int64(1000))}); err != nil {
		t.Fatal(err)
	}
	res, err := orders.PlaceOrder(ctx, &pb.PlaceOrderRequest{CustomerId: "c", Currency: "EUR",
		Items:           []*pb.Item{{Sku: "SKU-W", Quantity: 1, UnitPrice: 100}},
		ShippingAddress: &pb.Address{Name: "A", Line1: "B", City: "C", PostalCode: "1", Country: "DE"},
		PaymentMethod:   "tok_visa"})
	if err != nil {
		t.Fatal(err)
	}
	return res.GetOrderId()
}

// An order watched with the generated client from placed, through
// confirmed (checkout) and shipped, to delivered, where the watch ends; then
// a watch resumed from version 2 gets only what came after.
func TestGRPCWatchOrder(t *testing.T) {
	b := startGRPCBinary(t)
	orders, stock := b.client(t)
	id := placeOverGRPC(t, orders, stock)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	stream, err := orders.WatchOrder(ctx, &pb.WatchOrderRequest{OrderId: id})
	if err != nil {
		t.Fatal(err)
	}
	var events, statuses []string
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("after %v: %v", statuses, err)
		}
		statuses = append(statuses, msg.GetOrder().GetStatus())
		for _, e := range msg.GetEvents() {
			events = append(events, e.GetType())
		}
		v := msg.GetOrder().GetVersion()
		switch msg.GetOrder().GetStatus() {
		case "confirmed":
			_, err = orders.ShipOrder(authorized(ctx), &pb.ShipOrderRequest{OrderId: id, Carrier: "DHL", TrackingNumber: "T1", ExpectedVersion: v})
		case "shipped":
			_, err = orders.DeliverOrder(authorized(ctx), &pb.DeliverOrderRequest{OrderId: id, ExpectedVersion: v})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	want := "order.placed.v2 order.confirmed.v1 order.shipped.v1 order.delivered.v1"
	if strings.Join(events, " ") != want || statuses[len(statuses)-1] != "delivered" {
		t.Fatalf("events %v, statuses %v; want %s", events, statuses, want)
	}

	resumed, err := orders.WatchOrder(ctx, &pb.WatchOrderRequest{OrderId: id, FromVersion: 2})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := resumed.Recv()
	if err != nil || msg.GetOrder().GetStatus() != "delivered" || len(msg.GetEvents()) != 2 ||
		msg.GetEvents()[0].GetVersion() != 3 {
		t.Fatalf("resumed: %v, %v", msg, err)
	}
	if _, err := resumed.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("resumed watch did not end: %v", err)
	}
}

// Cancelled watches leave no goroutine behind in the server (go_goroutines
// on /metrics returns to where it was); SIGTERM ends an open watch with
// UNAVAILABLE and the process exits 0.
func TestGRPCWatchCancelAndDrain(t *testing.T) {
	b := startGRPCBinary(t)
	orders, stock := b.client(t)
	id := placeOverGRPC(t, orders, stock)
	waitFor(t, 20*time.Second, "the order confirmed", func() bool {
		res, err := orders.GetOrder(t.Context(), &pb.GetOrderRequest{OrderId: id})
		return err == nil && res.GetOrder().GetStatus() == "confirmed"
	})
	baseline := goroutines(t, b.base)
	const watches = 20
	cancels := make([]context.CancelFunc, watches)
	for i := range cancels {
		ctx, cancel := context.WithCancel(t.Context())
		cancels[i] = cancel
		s, err := orders.WatchOrder(ctx, &pb.WatchOrderRequest{OrderId: id})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Recv(); err != nil {
			t.Fatal(err)
		}
	}
	if during := goroutines(t, b.base); during < baseline+watches {
		t.Fatalf("%d goroutines with %d watches open, %d before", during, watches, baseline)
	}
	for _, cancel := range cancels {
		cancel()
	}
	waitFor(t, 10*time.Second, "the watches' goroutines to end", func() bool {
		return goroutines(t, b.base) <= baseline+2 // the process's own background work varies a little
	})

	s, err := orders.WatchOrder(t.Context(), &pb.WatchOrderRequest{OrderId: id})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	if err := b.proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_, err = s.Recv()
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "from_version") {
		t.Errorf("watch on SIGTERM: %v", err)
	}
	select {
	case err := <-b.proc.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, b.proc.out)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("did not stop within 30s of SIGTERM")
	}
}

// goroutines is the process's go_goroutines gauge.
func goroutines(t *testing.T, base string) int {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return int(n)
		}
	}
	t.Fatal("no go_goroutines on /metrics")
	return 0
}
