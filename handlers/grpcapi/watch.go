package grpcapi

import (
	"context"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/orderflow/orderflow/app/query"
	pb "github.com/orderflow/orderflow/handlers/grpcapi/orderflowv1"
)

// WatchOrder runs the WatchOrder use case and sends what it emits. The use
// case never waits for the client: it hands each change to a buffer of
// WatchBuffer changes that a sender drains into the stream; a client that
// lets the buffer fill is dropped with RESOURCE_EXHAUSTED naming the last
// version it was sent, so one slow reader holds neither the use case nor more
// than WatchBuffer changes of memory. A Drain ends every watch with
// UNAVAILABLE, and a client that cancels ends its own.
func (s orders) WatchOrder(req *pb.WatchOrderRequest, stream grpc.ServerStreamingServer[pb.WatchOrderResponse]) error {
	id, err := orderID(req.GetOrderId())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	stopDrain := context.AfterFunc(s.watches, cancel)
	defer stopDrain()

	buffer := make(chan *pb.WatchOrderResponse, s.watchBuffer)
	var sent atomic.Int64
	sent.Store(req.GetFromVersion())
	sendErr := make(chan error, 1)
	go func() {
		defer close(sendErr)
		for msg := range buffer {
			if err := stream.Send(msg); err != nil {
				sendErr <- err
				cancel()
				return
			}
			sent.Store(msg.GetOrder().GetVersion())
		}
	}()

	_, err = s.app.Queries.WatchOrder.Handle(ctx, query.WatchOrder{OrderID: id, FromVersion: req.GetFromVersion(),
		Emit: func(_ context.Context, c query.OrderChange) error {
			msg := &pb.WatchOrderResponse{Order: orderOf(c.Order), Events: eventsOf(c.Events)}
			select {
			case buffer <- msg:
				return nil
			default:
				return status.Errorf(codes.ResourceExhausted,
					"the client reads too slowly: %d changes were waiting; watch again with from_version %d",
					s.watchBuffer, sent.Load())
			}
		}})
	close(buffer)
	if err != nil {
		cancel() // the sender stops at its next Send
		<-sendErr
		return err
	}
	// Everything emitted is sent before the call ends, unless the client left.
	if err := <-sendErr; err != nil {
		return err
	}
	switch {
	case stream.Context().Err() != nil:
		return status.FromContextError(stream.Context().Err()).Err()
	case s.watches.Err() != nil:
		return status.Errorf(codes.Unavailable, "the server is shutting down; watch again with from_version %d", sent.Load())
	}
	return nil
}
