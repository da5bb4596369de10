package grpcapi

import (
	"context"
	"errors"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/orderflow/orderflow/app/query"
	pb "github.com/orderflow/orderflow/handlers/grpcapi/orderflowv1"
)

// WatchOrder runs the WatchOrder use case beside the call and sends what it
// emits. The use case never waits for the client: it hands each change to a
// buffer of WatchBuffer changes that the call drains into the stream; once a
// client lets the buffer fill, the use case stops and the client gets
// RESOURCE_EXHAUSTED (after what was already on its way) naming the last
// version it was sent, so one slow reader holds at most WatchBuffer changes
// of memory and no store reads. A Drain ends every watch with UNAVAILABLE;
// a client's cancel or deadline ends its own; a panic in the use case is an
// internal error, as in any call. The use case has returned before the call
// does.
func (s orders) WatchOrder(req *pb.WatchOrderRequest, stream grpc.ServerStreamingServer[pb.WatchOrderResponse]) error {
	id, err := orderID(req.GetOrderId())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	stopOnDrain := context.AfterFunc(s.watches, cancel)
	defer stopOnDrain()

	var sent atomic.Int64
	sent.Store(req.GetFromVersion())
	changes := make(chan *pb.WatchOrderResponse, s.watchBuffer)
	done := make(chan error, 1)
	go func() {
		var err error
		defer func() { done <- err }()
		// Beside the call, out of reach of the interceptor that recovers
		// the call's own panics.
		defer s.recovered(ctx, pb.OrderService_WatchOrder_FullMethodName, &err)
		_, err = s.app.Queries.WatchOrder.Handle(ctx, query.WatchOrder{OrderID: id, FromVersion: req.GetFromVersion(),
			Emit: func(_ context.Context, c query.OrderChange) error {
				select {
				case changes <- &pb.WatchOrderResponse{Order: orderOf(c.Order), Events: eventsOf(c.Events)}:
					return nil
				default:
					return status.Errorf(codes.ResourceExhausted,
						"the client reads too slowly: %d changes were waiting; watch again with from_version %d",
						s.watchBuffer, sent.Load())
				}
			}})
	}()
	send := func(msg *pb.WatchOrderResponse) error {
		if err := stream.Send(msg); err != nil {
			return err
		}
		sent.Store(msg.GetOrder().GetVersion())
		return nil
	}
	for {
		select {
		case msg := <-changes:
			if err := send(msg); err != nil {
				cancel()
				// Ended by the cancel: the failed send is the answer.
				if werr := <-done; werr != nil && !errors.Is(werr, context.Canceled) {
					return errors.Join(err, werr)
				}
				return err
			}
		case err := <-done:
			if err != nil {
				return err
			}
			return s.watchEnded(stream.Context(), changes, send, sent.Load())
		}
	}
}

// watchEnded sends what the use case left in the buffer when it ended on its
// own (a terminal order), or says why it ended.
func (s orders) watchEnded(call context.Context, changes chan *pb.WatchOrderResponse,
	send func(*pb.WatchOrderResponse) error, sent int64) error {
	switch {
	case call.Err() != nil:
		return status.FromContextError(call.Err()).Err()
	case s.watches.Err() != nil:
		return status.Errorf(codes.Unavailable, "the server is shutting down; watch again with from_version %d", sent)
	}
	for {
		select {
		case msg := <-changes:
			if err := send(msg); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}
