package grpcapi_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/orderflow/orderflow/app/query"
	"github.com/orderflow/orderflow/handlers/grpcapi"
	pb "github.com/orderflow/orderflow/handlers/grpcapi/orderflowv1"
	"github.com/orderflow/orderflow/ports"
)

func change(version int64, status string) query.OrderChange {
	return query.OrderChange{Order: ports.OrderSummary{OrderID: orderID, Version: version, Status: status},
		Events: []ports.RecordedEvent{{Version: version, Type: "order." + status + ".v1"}}}
}

// Every change the use case emits reaches the client, in order, and the
// call ends OK when the use case ends.
func TestWatchOrderSendsEveryChange(t *testing.T) {
	e := newEnv(t)
	e.app.watch.Run = func(ctx context.Context, q query.WatchOrder) (struct{}, error) {
		for i, s := range []string{"placed", "confirmed", "cancelled"} {
			if err := q.Emit(ctx, change(q.FromVersion+int64(i)+1, s)); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	}
	stream, err := e.orders.WatchOrder(ctx(t), &pb.WatchOrderRequest{OrderId: orderID, FromVersion: 4})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, msg.GetOrder().GetStatus()+"@"+msg.GetEvents()[0].GetType())
	}
	if strings.Join(got, " ") != "placed@order.placed.v1 confirmed@order.confirmed.v1 cancelled@order.cancelled.v1" {
		t.Errorf("got %v", got)
	}
	if q := e.app.watch.Calls()[0]; q.OrderID != orderID || q.FromVersion != 4 {
		t.Errorf("query %+v", q)
	}
}

// A client that does not read is dropped once WatchBuffer changes wait for
// it, with RESOURCE_EXHAUSTED saying where to resume; the use case is never
// held up by it.
func TestWatchOrderDropsASlowClient(t *testing.T) {
	e := newEnv(t, func(c *grpcapi.Config) { c.WatchBuffer = 4 })
	emitted := make(chan error, 1)
	e.app.watch.Run = func(ctx context.Context, q query.WatchOrder) (struct{}, error) {
		for v := int64(1); ; v++ { // far more than flow control and the buffer hold
			if err := q.Emit(ctx, change(v, "placed")); err != nil {
				emitted <- err
				return struct{}{}, err
			}
		}
	}
	stream, err := e.orders.WatchOrder(ctx(t), &pb.WatchOrderRequest{OrderId: orderID})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-emitted; err == nil { // the buffer filled while the client read nothing
		t.Fatal("Emit stopped without an error")
	}
	for {
		_, err = stream.Recv()
		if err != nil {
			break
		}
	}
	st := wantCode(t, err, codes.ResourceExhausted)
	if !strings.Contains(st.Message(), "too slowly") || !strings.Contains(st.Message(), "from_version") {
		t.Errorf("message %q", st.Message())
	}
	if info, req, _ := details(st); info.GetReason() != "RESOURCE_EXHAUSTED" || req.GetRequestId() == "" {
		t.Errorf("details %v, %v", info, req)
	}
}

// Draining ends every watch with UNAVAILABLE; a client's cancel ends the use
// case's context.
func TestWatchOrderEndsOnDrainAndOnCancel(t *testing.T) {
	e := newEnv(t)
	started := make(chan struct{}, 2)
	ended := make(chan struct{}, 2)
	e.app.watch.Run = func(ctx context.Context, q query.WatchOrder) (struct{}, error) {
		if err := q.Emit(ctx, change(1, "placed")); err != nil {
			return struct{}{}, err
		}
		started <- struct{}{}
		<-ctx.Done()
		ended <- struct{}{}
		return struct{}{}, nil
	}

	call, cancel := context.WithCancel(ctx(t))
	stream, err := e.orders.WatchOrder(call, &pb.WatchOrderRequest{OrderId: orderID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	<-started
	cancel()
	<-ended
	_, err = stream.Recv()
	wantCode(t, err, codes.Canceled)

	stream, err = e.orders.WatchOrder(ctx(t), &pb.WatchOrderRequest{OrderId: orderID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	<-started
	e.server.Drain()
	<-ended
	_, err = stream.Recv()
	if st := wantCode(t, err, codes.Unavailable); !strings.Contains(st.Message(), "from_version 1") {
		t.Errorf("message %q", st.Message())
	}
}

// A panic in the use case, which runs beside the call, ends the call as an
// internal error, as a panic in a unary call does, and leaves the process up.
func TestWatchOrderRecoversAPanic(t *testing.T) {
	e := newEnv(t)
	e.app.watch.Run = func(ctx context.Context, q query.WatchOrder) (struct{}, error) {
		if err := q.Emit(ctx, change(1, "placed")); err != nil {
			return struct{}{}, err
		}
		panic("the read model broke")
	}
	stream, err := e.orders.WatchOrder(ctx(t), &pb.WatchOrderRequest{OrderId: orderID})
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		_, err = stream.Recv()
	}
	if st := wantCode(t, err, codes.Internal); strings.Contains(st.Message(), "broke") {
		t.Errorf("panic shown to the client: %s", st.Message())
	}
}
