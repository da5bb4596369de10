package grpcapi_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/handlers/grpcapi"
	pb "github.com/orderflow/orderflow/handlers/grpcapi/orderflowv1"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
)

func withKey(t *testing.T, key string, md ...string) context.Context {
	return metadata.AppendToOutgoingContext(ctx(t), append([]string{"idempotency-key", key}, md...)...)
}

// idempotency-key has HTTP's semantics: a retry replays the first answer
// without running the command, the key is scoped to the API key, another
// request with the key is refused naming the key.
func TestIdempotencyKeys(t *testing.T) {
	st := storetest.SQLite(t)
	e := newEnv(t, func(c *grpcapi.Config) { c.Idempotency = guard(st, st.Idempotency); c.APIKeys = []string{"k1", "k2"} })
	e.app.place.Run = func(_ context.Context, c command.PlaceOrder) (command.Result, error) {
		return command.Result{OrderID: c.OrderID, Status: order.StatusPlaced, Version: 1}, nil
	}
	req := &pb.PlaceOrderRequest{CustomerId: "c", Currency: "EUR"}
	auth := []string{"authorization", "Bearer k1"}
	var h1, h2 metadata.MD
	first, err := e.orders.PlaceOrder(withKey(t, "key-1", auth...), req, grpc.Header(&h1))
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.orders.PlaceOrder(withKey(t, "key-1", auth...), req, grpc.Header(&h2))
	if err != nil || again.GetOrderId() != first.GetOrderId() {
		t.Fatalf("replay %v, %v; first %v", again, err, first)
	}
	if n := len(e.app.place.Calls()); n != 1 {
		t.Errorf("placed %d times", n)
	}
	if len(h1.Get("idempotent-replayed")) != 0 || h2.Get("idempotent-replayed")[0] != "true" {
		t.Errorf("headers %v, %v", h1, h2)
	}
	// The same key of another API key is another order.
	other, err := e.orders.PlaceOrder(withKey(t, "key-1", "authorization", "Bearer k2"), req)
	if err != nil || other.GetOrderId() == first.GetOrderId() {
		t.Fatalf("other API key: %v, %v", other, err)
	}
	if first.GetOrderId() != e.app.place.Calls()[0].OrderID {
		t.Errorf("order id %s", first.GetOrderId())
	}

	_, err = e.orders.PlaceOrder(withKey(t, "key-1", auth...), &pb.PlaceOrderRequest{CustomerId: "someone else"})
	_, _, br := details(wantCode(t, err, codes.InvalidArgument))
	if v := br.GetFieldViolations()[0]; v.GetField() != "idempotency-key" {
		t.Errorf("violation %v", v)
	}
	_, err = e.orders.PlaceOrder(withKey(t, "not a key!", auth...), req)
	_, _, br = details(wantCode(t, err, codes.InvalidArgument))
	if v := br.GetFieldViolations()[0]; v.GetField() != "idempotency-key" {
		t.Errorf("violation %v", v)
	}
}

// A client error is kept and replayed like a response; the server's own
// errors release the key, so a retry runs again; a key in flight is refused.
//
// On Postgres: on the embedded store a call in flight holds the database's
// one write lock in its unit of work, so a second call waits for it.
func TestIdempotencyKeysKeepClientErrorsOnly(t *testing.T) {
	st := storetest.Postgres(t)
	e := newEnv(t, func(c *grpcapi.Config) { c.Idempotency = guard(st, st.Idempotency) })
	req := &pb.CancelOrderRequest{OrderId: orderID}
	e.app.cancel.Err = apperr.New(apperr.Conflict, "already shipped")
	for range 2 {
		_, err := e.orders.CancelOrder(withKey(t, "c-1"), req)
		wantCode(t, err, codes.FailedPrecondition)
	}
	if n := len(e.app.cancel.Calls()); n != 1 {
		t.Errorf("a kept error ran %d times", n)
	}
	e.app.deliver.Err = errors.New("the store fell over")
	for range 2 {
		_, err := e.orders.DeliverOrder(withKey(t, "d-1"), &pb.DeliverOrderRequest{OrderId: orderID})
		wantCode(t, err, codes.Internal)
	}
	if n := len(e.app.deliver.Calls()); n != 2 {
		t.Errorf("a released key ran %d times, want 2", n)
	}

	inside, release := make(chan struct{}), make(chan struct{})
	e.app.ship.SetRun(func(context.Context, command.ShipOrder) (command.Result, error) {
		close(inside)
		<-release
		return command.Result{OrderID: orderID, Status: order.StatusShipped, Version: 3}, nil
	})
	done := make(chan error, 1)
	go func() {
		_, err := e.orders.ShipOrder(withKey(t, "s-1"), &pb.ShipOrderRequest{OrderId: orderID})
		done <- err
	}()
	<-inside
	_, err := e.orders.ShipOrder(withKey(t, "s-1"), &pb.ShipOrderRequest{OrderId: orderID})
	wantCode(t, err, codes.FailedPrecondition)
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// brokenIdempotency fails as told: Reserve with reserveErr, Complete with
// doneErr; otherwise it is the real store.
type brokenIdempotency struct {
	ports.IdempotencyStore
	reserveErr, doneErr error
}

func (b *brokenIdempotency) Reserve(ctx context.Context, key, fp string, lock, ttl time.Duration) (ports.IdempotencyRecord, bool, error) {
	if b.reserveErr != nil {
		return ports.IdempotencyRecord{}, false, b.reserveErr
	}
	return b.IdempotencyStore.Reserve(ctx, key, fp, lock, ttl)
}

func (b *brokenIdempotency) Complete(ctx context.Context, key, token string, resp ports.StoredResponse) error {
	if b.doneErr != nil {
		return b.doneErr
	}
	return b.IdempotencyStore.Complete(ctx, key, token, resp)
}

// An idempotency store that cannot reserve the key fails the call with its
// error before anything runs, as over HTTP; one that cannot record the
// answer fails the call too, its effects rolled back with the record (they
// commit together), and frees the key, so a retry runs again.
func TestIdempotencyStoreFailures(t *testing.T) {
	st := storetest.SQLite(t)
	store := &brokenIdempotency{IdempotencyStore: st.Idempotency, reserveErr: apperr.New(apperr.Unavailable, "idempotency store down")}
	e := newEnv(t, func(c *grpcapi.Config) { c.Idempotency = guard(st, store) })
	e.app.setStock.Result = command.StockLevels{SKU: "S", OnHand: 1}
	req := &pb.SetStockRequest{Sku: "S", OnHand: new(int64(1))}
	_, err := e.stock.SetStock(withKey(t, "k-1"), req)
	wantCode(t, err, codes.Unavailable)
	if n := len(e.app.setStock.Calls()); n != 0 {
		t.Errorf("ran %d times without a reserved key", n)
	}
	store.reserveErr, store.doneErr = nil, errors.New("cannot record")
	_, err = e.stock.SetStock(withKey(t, "k-1"), req)
	wantCode(t, err, codes.Internal)
	store.doneErr = nil
	if res, err := e.stock.SetStock(withKey(t, "k-1"), req); err != nil || res.GetStock().GetOnHand() != 1 {
		t.Errorf("retry after an unrecorded answer: %v, %v", res, err)
	}
	if n := len(e.app.setStock.Calls()); n != 2 {
		t.Errorf("ran %d times, want 2 (the unrecorded call, then its retry)", n)
	}
}
