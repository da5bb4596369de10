package sqlitepubsub

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
)

// ackTimeout bounds the offset write after an Ack. It outlives the
// subscription's context so that an Ack racing with Close is still recorded.
const ackTimeout = 15 * time.Second

// consumer is one Subscribe call: it delivers one topic to one channel.
// Its fields are used by its own goroutine only.
type consumer struct {
	sub    *Subscriber
	topic  string
	owner  string // lease owner id, unique per consumer
	out    chan *message.Message
	logger watermill.LoggerAdapter

	held       bool      // this consumer holds the lease (as far as it knows)
	mayHold    bool      // a lease write was attempted: release on exit
	leaseUntil time.Time // expiry of the held lease
	acked      int64     // group's acknowledged offset, valid while held
}

type storedMessage struct {
	offset   int64
	uuid     string
	payload  []byte
	metadata string
}

type outcome int

const (
	acked outcome = iota
	nacked
	stopped
)

// maxErrorBackoff caps the pause after consecutive database errors.
const maxErrorBackoff = 10 * time.Second

func (c *consumer) run(ctx context.Context) {
	defer c.release()
	backoff := c.sub.cfg.PollInterval
	for ctx.Err() == nil {
		busy, err := c.step(ctx)
		switch {
		case err == nil:
			backoff = c.sub.cfg.PollInterval
		case errors.Is(err, errLeaseLost):
			c.logger.Info("Lease lost; unacked messages will be delivered again", nil)
		case ctx.Err() == nil:
			c.logger.Error("Cannot consume, retrying", err, watermill.LogFields{"retry_in": backoff})
			sleep(ctx, backoff)
			backoff = min(2*backoff, maxErrorBackoff)
			continue
		}
		if !busy {
			sleep(ctx, c.sub.cfg.PollInterval)
		}
	}
}

// step delivers one batch if there is work and the lease can be had. busy
// reports that the caller should look for more work at once.
//
// The group's offset is written once per batch, after its last Ack (or
// before a Nack's pause, or when the consumer stops), not once per
// message: a write is a transaction and a sync of the file, and the
// embedded default's pipeline is bound by its writes, one at a time.
// Ownership is unchanged: a message is delivered only while the lease
// (renewed every half of it) is held, and the offset write is a
// compare-and-set on the lease and the offset read. What a crash costs
// is the at-least-once redelivery of the batch's acknowledged messages;
// the handlers are exactly-once by their own transactions or inbox.
func (c *consumer) step(ctx context.Context) (busy bool, err error) {
	ok, err := c.claim(ctx)
	if err != nil || !ok {
		return false, err
	}
	batch, err := c.readBatchOf(ctx, c.sub.cfg.BatchSize)
	if err != nil || len(batch) == 0 {
		return false, err
	}
	pending := c.acked // the last Ack of the batch, written at its end
	flush := func() error {
		if pending == c.acked {
			return nil
		}
		return c.commit(ctx, pending)
	}
	for _, m := range batch {
		if time.Until(c.leaseUntil) < c.sub.cfg.LeaseTimeout/2 {
			if err := c.renew(ctx); err != nil {
				return false, err
			}
		}
		switch c.deliver(ctx, m) {
		case acked:
			pending = m.offset
		case nacked:
			if err := flush(); err != nil {
				return false, err
			}
			sleep(ctx, c.sub.cfg.NackResendSleep)
			return true, nil // redelivered from the stored offset
		case stopped:
			return false, flush()
		}
	}
	return true, flush()
}

// readBatchOf reads up to n messages after the group's acknowledged offset.
func (c *consumer) readBatchOf(ctx context.Context, n int) ([]storedMessage, error) {
	rows, err := c.sub.db.QueryContext(ctx, `
		SELECT "offset", uuid, payload, metadata FROM `+messagesTable+`
		WHERE topic = ? AND "offset" > ?
		ORDER BY "offset" LIMIT ?`,
		c.topic, c.acked, n)
	if err != nil {
		return nil, fmt.Errorf("read messages: %w", err)
	}
	defer rows.Close()
	var batch []storedMessage
	for rows.Next() {
		var m storedMessage
		if err := rows.Scan(&m.offset, &m.uuid, &m.payload, &m.metadata); err != nil {
			return nil, fmt.Errorf("read messages: %w", err)
		}
		batch = append(batch, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read messages: %w", err)
	}
	return batch, nil
}

// deliver hands m to the subscriber's channel and waits for its Ack or Nack,
// renewing the lease meanwhile. No transaction is open while it waits.
func (c *consumer) deliver(ctx context.Context, m storedMessage) outcome {
	msg := c.toMessage(m)
	msgCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	msg.SetContext(msgCtx)

	select {
	case c.out <- msg:
	case <-ctx.Done():
		return stopped
	}
	renew := time.NewTicker(c.sub.cfg.LeaseTimeout / 3)
	defer renew.Stop()
	for {
		select {
		case <-msg.Acked():
			return acked
		case <-msg.Nacked():
			return nacked
		case <-renew.C:
			if err := c.renew(ctx); err != nil && ctx.Err() == nil {
				c.logger.Error("Cannot renew the lease while a message is handled; it will be delivered again", err,
					watermill.LogFields{"offset": m.offset, "message_uuid": m.uuid})
			}
		case <-ctx.Done():
			select {
			case <-msg.Acked(): // an Ack racing with Close still counts
				return acked
			default:
				return stopped
			}
		}
	}
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
