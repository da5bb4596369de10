// Package redisinbox is the consumers' deduplication store on Redis: one key
// per (handler, message id), taken with SET NX and an expiry, so several
// processes share it and it forgets on its own after the retention window.
// A claim's value is its owner's token (a UUID); a handled message's is
// "done". Renew, Complete and Release compare the value with the caller's
// token and act in the same Lua script, so that no other consumer's claim
// can come between the check and the write.
package redisinbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/ports"
	goredis "github.com/redis/go-redis/v9"
)

var _ ports.DedupStore = (*Inbox)(nil)

const (
	done = "done"
	// DefaultPrefix starts every key the inbox writes.
	DefaultPrefix = "orderflow:inbox:"
)

// The scripts act on KEYS[1] only while its value is the token ARGV[1], and
// return 1 when they did, 0 when the token does not own the claim.
var (
	// renew sets the claim's expiry to ARGV[2] milliseconds from now.
	renew = goredis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`)
	// complete replaces the claim by the done mark, kept for ARGV[2] ms.
	complete = goredis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then
	redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[2]) return 1 end return 0`)
	// release deletes the claim; a done mark never carries a token.
	release = goredis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1]) end return 0`)
)

// Inbox implements ports.DedupStore on Redis.
type Inbox struct {
	client goredis.UniversalClient
	prefix string
}

// New returns an inbox on client whose keys start with prefix
// (DefaultPrefix when empty). It panics on a nil client.
func New(client goredis.UniversalClient, prefix string) *Inbox {
	if client == nil {
		panic("redisinbox.New: nil client")
	}
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &Inbox{client: client, prefix: prefix}
}

// key is prefix + handler + ":" + message id; handler names never contain
// ':' and ids are UUIDs, so keys cannot collide.
func (s *Inbox) key(k ports.DedupKey) string { return s.prefix + k.Handler + ":" + k.MessageID }

func unavailable(err error, what string) error {
	return apperr.Wrap(apperr.Unavailable, err, "redis inbox: %s", what)
}

// Claim implements ports.DedupStore with SET NX PX, the value being a new
// token.
func (s *Inbox) Claim(ctx context.Context, k ports.DedupKey, lease time.Duration) (ports.ClaimResult, error) {
	token := uuid.NewString()
	ok, err := s.client.SetNX(ctx, s.key(k), token, lease).Result()
	if err != nil {
		return ports.ClaimResult{}, unavailable(err, "claim")
	}
	if ok {
		return ports.ClaimResult{State: ports.ClaimAcquired, Token: token}, nil
	}
	v, err := s.client.Get(ctx, s.key(k)).Result()
	switch {
	case errors.Is(err, goredis.Nil):
		// expired or released meanwhile: the caller tries again
		return ports.ClaimResult{State: ports.ClaimInFlight}, nil
	case err != nil:
		return ports.ClaimResult{}, unavailable(err, "read")
	case v == done:
		return ports.ClaimResult{State: ports.ClaimDone}, nil
	default:
		return ports.ClaimResult{State: ports.ClaimInFlight}, nil
	}
}

// Renew implements ports.DedupStore. A claim whose lease ran out is gone
// from Redis, so renewing it too reports ErrClaimLost.
func (s *Inbox) Renew(ctx context.Context, k ports.DedupKey, token string, lease time.Duration) error {
	n, err := renew.Run(ctx, s.client, []string{s.key(k)}, token, lease.Milliseconds()).Int()
	if err != nil {
		return unavailable(err, "renew")
	}
	if n == 0 {
		return fmt.Errorf("redis inbox: renew: %w", ports.ErrClaimLost)
	}
	return nil
}

// Complete implements ports.DedupStore. A claim whose lease ran out is gone
// from Redis, so completing it too reports ErrClaimLost.
func (s *Inbox) Complete(ctx context.Context, k ports.DedupKey, token string, retention time.Duration) error {
	n, err := complete.Run(ctx, s.client, []string{s.key(k)}, token, retention.Milliseconds(), done).Int()
	if err != nil {
		return unavailable(err, "complete")
	}
	if n == 0 {
		return fmt.Errorf("redis inbox: complete: %w", ports.ErrClaimLost)
	}
	return nil
}

// Release implements ports.DedupStore; a done mark is never released.
func (s *Inbox) Release(ctx context.Context, k ports.DedupKey, token string) error {
	if err := release.Run(ctx, s.client, []string{s.key(k)}, token).Err(); err != nil {
		return unavailable(err, "release")
	}
	return nil
}
