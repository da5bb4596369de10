package sqlitepubsub

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
)

// BatchReader reads one topic for the subscriber's consumer group a batch
// at a time, for a caller that handles many messages at once (the outbox
// forwarder publishes them in one broker call). It takes the same lease as
// the Subscriber's consumers, so it and they, in every process sharing the
// file, never deliver the group's messages at the same time, and it
// advances the same offset.
type BatchReader struct {
	mu sync.Mutex // one batch at a time; guards c
	c  *consumer
}

// BatchReader registers the group on topic (at its first message, unless it
// already is) and returns a reader of it. Close it to release the lease.
func (s *Subscriber) BatchReader(topic string) (*BatchReader, error) {
	if topic == "" {
		return nil, errors.New("sqlitepubsub: empty topic")
	}
	if err := s.SubscribeInitialize(topic); err != nil {
		return nil, err
	}
	c := &consumer{sub: s, topic: topic, owner: s.ownerPrefix + watermill.NewShortUUID()}
	c.logger = s.logger.With(watermill.LogFields{"topic": topic, "lease_owner": c.owner})
	return &BatchReader{c: c}, nil
}

// ForwardBatch takes the group's lease, reads up to max messages after the
// group's offset, in offset order, and calls forward with them, renewing the
// lease while it runs. No transaction is open meanwhile, so forward may
// write to the same database. When forward returns nil the group's offset
// moves past the last message (compare-and-set on the lease and the offset
// read, as Ack does; the write outlives ctx). It returns how many messages
// it acknowledged: 0 when there are none or another consumer of the group
// holds the lease. If the lease was lost while forward ran (it stalled past
// LeaseTimeout), the offset is left to the new holder, which delivers the
// batch again, and the error says so.
func (b *BatchReader) ForwardBatch(ctx context.Context, max int, forward func(ctx context.Context, msgs []*message.Message) error) (int, error) {
	if max < 1 {
		return 0, errors.New("sqlitepubsub: batch size must be positive")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.c
	ok, err := c.claim(ctx)
	if err != nil || !ok {
		return 0, err
	}
	batch, err := c.readBatchOf(ctx, max)
	if err != nil || len(batch) == 0 {
		return 0, err
	}
	msgs := make([]*message.Message, len(batch))
	for i, m := range batch {
		msgs[i] = c.toMessage(m)
	}

	stopRenew := c.renewWhile(ctx)
	err = forward(ctx, msgs)
	stopRenew()
	if err != nil {
		return 0, err
	}
	if err := c.commit(ctx, batch[len(batch)-1].offset); err != nil {
		return 0, err
	}
	return len(batch), nil
}

// Close releases the lease, so that another reader of the group takes over
// at once. The subscriber stays open.
func (b *BatchReader) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.c.release()
	return nil
}

// renewWhile renews the lease every third of LeaseTimeout until the
// returned function is called; that function waits for the renewer, so the
// consumer's fields are again its caller's alone.
func (c *consumer) renewWhile(ctx context.Context) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(c.sub.cfg.LeaseTimeout / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				// ctx may have ended while the batch is still published:
				// keep the lease for the commit that follows.
				if err := c.renew(context.WithoutCancel(ctx)); err != nil {
					c.logger.Error("Cannot renew the lease while a batch is handled; it will be delivered again", err, nil)
					return
				}
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// toMessage builds the delivered message from a stored one. Undecodable
// metadata is logged and dropped: the message is still delivered.
func (c *consumer) toMessage(m storedMessage) *message.Message {
	msg := message.NewMessage(m.uuid, m.payload)
	if err := json.Unmarshal([]byte(m.metadata), &msg.Metadata); err != nil {
		c.logger.Error("Undecodable message metadata, delivering without it", err,
			watermill.LogFields{"offset": m.offset, "message_uuid": m.uuid})
	}
	if msg.Metadata == nil {
		msg.Metadata = message.Metadata{}
	}
	return msg
}
