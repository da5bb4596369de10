package nats

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmjs "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/jetstream"
	"github.com/ThreeDotsLabs/watermill/message"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsSubscriber is a Watermill subscriber on JetStream durable pull
// consumers. It replaces watermill-nats' jetstream.Subscriber, whose
// consume callback can send on its output channel after another goroutine
// closed it when a subscription ends ("send on closed channel" panics seen
// under the universal suite). Here one goroutine per subscription reads the
// consumer's message iterator, hands each message over, waits for its Ack
// or Nack, and alone closes the output channel.
//
// Every Subscribe uses the durable consumer of (group, topic), created up
// front and never deleted (see New). A message in hand when the
// subscription ends is nacked, so it is redelivered at once rather than
// after AckWait.
type natsSubscriber struct {
	nc      *natsgo.Conn
	js      jetstream.JetStream
	group   string
	ackWait time.Duration
	logger  watermill.LoggerAdapter

	closing   chan struct{}
	closeOnce sync.Once
	connDone  <-chan struct{} // closed by the connection's ClosedHandler
	wg        sync.WaitGroup
}

var unmarshalJS = wmjs.DefaultUnmarshaler{}

func (s *natsSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	select {
	case <-s.closing:
		return nil, errors.New("nats: subscriber closed")
	default:
	}
	consumer, err := natsDurableConsumer(ctx, s.js, topic, s.group, s.ackWait)
	if err != nil {
		return nil, err
	}
	it, err := consumer.Messages(jetstream.PullMaxMessages(16))
	if err != nil {
		return nil, fmt.Errorf("nats: consume %s: %w", topic, err)
	}
	out := make(chan *message.Message)
	stop := make(chan struct{})
	s.wg.Add(2)
	ending := make(chan struct{})
	go func() { // ends the iterator when the subscription ends
		defer s.wg.Done()
		select {
		case <-ctx.Done():
		case <-s.closing:
		case <-stop:
		}
		close(ending)
		// Drain, not Stop: the messages already pulled into the buffer
		// come out of Next and are nacked below, so they are redelivered
		// at once instead of after AckWait.
		it.Drain()
	}()
	go func() {
		defer s.wg.Done()
		defer close(out)
		defer close(stop)
		fields := watermill.LogFields{"topic": topic, "consumer_group": s.group}
		for {
			jm, err := it.Next()
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) || errors.Is(err, natsgo.ErrConnectionClosed) {
				return
			}
			if err != nil {
				s.logger.Error("Cannot read from JetStream; retrying", err, fields)
				continue
			}
			select {
			case <-ending:
				_ = jm.Nak() // buffered, never handed over
				continue
			default:
			}
			// When the subscription ends, deliver nacks its message and
			// the iterator, drained by then, ends the loop.
			s.deliver(ctx, jm, out, fields)
		}
	}()
	return out, nil
}

// deliver hands one message over and settles it: acked or nacked as the
// handler says, nacked if the subscription ends first.
func (s *natsSubscriber) deliver(ctx context.Context, jm jetstream.Msg, out chan<- *message.Message, fields watermill.LogFields) {
	msg, err := unmarshalJS.Unmarshal(jm)
	if err != nil {
		s.logger.Error("Undecodable JetStream message, terminated", err, fields)
		_ = jm.Term() // can never be processed: do not redeliver
		return
	}
	msgCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	msg.SetContext(msgCtx)
	select {
	case out <- msg:
	case <-ctx.Done():
		_ = jm.Nak()
		return
	case <-s.closing:
		_ = jm.Nak()
		return
	}
	select {
	case <-msg.Acked():
		// A plain ack, not DoubleAck: waiting for the server's confirmation
		// of every ack costs a round trip per message and halves a
		// subscription's throughput. An ack lost on the way is a
		// redelivery after AckWait, which handlers dedupe (the same
		// at-least-once contract as Kafka's periodic offset commits); Close
		// drains the connection, so acks sent before it reach the server.
		if err := jm.Ack(); err != nil {
			s.logger.Error("Cannot ack; the message will be redelivered", err, fields)
		}
	case <-msg.Nacked():
		_ = jm.Nak()
	case <-ctx.Done():
		_ = jm.Nak()
	case <-s.closing:
		_ = jm.Nak()
	}
}

// Close ends every subscription, then closes the connection and waits for
// it to be closed, so that the server drops this subscriber's pull requests
// before a replacement subscribes.
func (s *natsSubscriber) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.closing)
		s.wg.Wait()
		if derr := s.nc.Drain(); derr != nil {
			s.nc.Close()
		}
		select {
		case <-s.connDone:
		case <-time.After(natsCloseWait):
			err = errors.New("nats: connection did not close in time")
		}
	})
	return err
}

// SubscribeInitialize creates the topic's stream and the group's durable
// consumer ahead of Subscribe.
func (s *natsSubscriber) SubscribeInitialize(topic string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := natsDurableConsumer(ctx, s.js, topic, s.group, s.ackWait)
	return err
}

// natsCloseWait bounds how long Close waits for the connection to close.
const natsCloseWait = 10 * time.Second
