package sqlitepubsub

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill"
)

// The lease scheme. A group's row in the offsets table holds its last
// acknowledged offset on the topic and a lease: an owner id and an expiry in
// Unix milliseconds. Only the owner delivers and advances the offset, which
// gives one-at-a-time, in-order handling across every consumer of the group
// in every process. Each change is one UPDATE statement (its own short write
// transaction) whose WHERE clause is the compare-and-set:
//
//   - take: owner is NULL, or is this consumer, or the lease has expired;
//   - renew: owner is this consumer;
//   - advance on Ack: owner is this consumer AND the offset is still the one
//     it read, so a consumer whose lease was taken over cannot move it;
//   - release on exit: owner is this consumer.
//
// Expiry compares the clocks of the processes sharing the file, which are
// the clock of one machine.

// errLeaseLost means another consumer of the group took the lease: this one
// must not advance the offset and goes back to polling.
var errLeaseLost = errors.New("lease lost to another consumer of the group")

// claim reports whether this consumer holds the lease and there is a message
// to deliver. Only then does it write: an idle group costs one read a poll.
func (c *consumer) claim(ctx context.Context) (bool, error) {
	var (
		acked   int64
		owner   string
		until   int64
		hasWork bool
	)
	err := c.sub.db.QueryRowContext(ctx, `
		SELECT o.acked_offset, COALESCE(o.lease_owner, ''), o.lease_until,
		       EXISTS (SELECT 1 FROM `+messagesTable+` m
		               WHERE m.topic = o.topic AND m."offset" > o.acked_offset)
		FROM `+offsetsTable+` o
		WHERE o.consumer_group = ? AND o.topic = ?`,
		c.sub.cfg.ConsumerGroup, c.topic).Scan(&acked, &owner, &until, &hasWork)
	if errors.Is(err, sql.ErrNoRows) {
		return false, c.sub.SubscribeInitialize(c.topic) // the row was deleted: start over
	}
	if err != nil {
		return false, fmt.Errorf("read group offset: %w", err)
	}
	if !hasWork {
		return false, nil
	}
	now := time.Now()
	if owner != c.owner && owner != "" && until > now.UnixMilli() {
		c.held = false
		return false, nil // another consumer of the group is working
	}
	if owner == c.owner && c.held && acked == c.acked && time.Until(c.leaseUntil) > c.sub.cfg.LeaseTimeout/2 {
		return true, nil
	}
	until = now.Add(c.sub.cfg.LeaseTimeout).UnixMilli()
	c.mayHold = true
	err = c.sub.db.QueryRowContext(ctx, `
		UPDATE `+offsetsTable+` SET lease_owner = ?, lease_until = ?
		WHERE consumer_group = ? AND topic = ?
		  AND (lease_owner IS NULL OR lease_owner = ? OR lease_until < ?)
		RETURNING acked_offset`,
		c.owner, until, c.sub.cfg.ConsumerGroup, c.topic, c.owner, now.UnixMilli()).Scan(&c.acked)
	if errors.Is(err, sql.ErrNoRows) {
		c.held = false
		return false, nil // someone else took it between the read and the write
	}
	if err != nil {
		c.held = false
		return false, fmt.Errorf("take lease: %w", err)
	}
	if !c.held {
		c.logger.Debug("Lease taken", watermill.LogFields{"acked_offset": c.acked})
	}
	c.held = true
	c.leaseUntil = time.UnixMilli(until)
	return true, nil
}

// commit advances the group's offset to offset, if this consumer still holds
// the lease and nobody moved the offset, and extends the lease.
func (c *consumer) commit(ctx context.Context, offset int64) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
	defer cancel()
	until := time.Now().Add(c.sub.cfg.LeaseTimeout)
	res, err := c.sub.db.ExecContext(ctx, `
		UPDATE `+offsetsTable+` SET acked_offset = ?, lease_until = ?
		WHERE consumer_group = ? AND topic = ? AND lease_owner = ? AND acked_offset = ?`,
		offset, until.UnixMilli(), c.sub.cfg.ConsumerGroup, c.topic, c.owner, c.acked)
	if err != nil {
		return fmt.Errorf("advance offset to %d: %w", offset, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		c.held = false
		return errors.Join(errLeaseLost, err)
	}
	c.acked = offset
	c.leaseUntil = until
	return nil
}

func (c *consumer) renew(ctx context.Context) error {
	until := time.Now().Add(c.sub.cfg.LeaseTimeout)
	res, err := c.sub.db.ExecContext(ctx, `
		UPDATE `+offsetsTable+` SET lease_until = ?
		WHERE consumer_group = ? AND topic = ? AND lease_owner = ?`,
		until.UnixMilli(), c.sub.cfg.ConsumerGroup, c.topic, c.owner)
	if err != nil {
		return fmt.Errorf("renew lease: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		c.held = false
		return errors.Join(errLeaseLost, err)
	}
	c.leaseUntil = until
	return nil
}

// release frees the lease so that another consumer of the group takes over
// at once rather than after LeaseTimeout.
func (c *consumer) release() {
	if !c.mayHold {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), ackTimeout)
	defer cancel()
	_, err := c.sub.db.ExecContext(ctx, `
		UPDATE `+offsetsTable+` SET lease_owner = NULL, lease_until = 0
		WHERE consumer_group = ? AND topic = ? AND lease_owner = ?`,
		c.sub.cfg.ConsumerGroup, c.topic, c.owner)
	if err != nil {
		c.logger.Error("Cannot release the lease; the group resumes after LeaseTimeout", err, nil)
	}
}
