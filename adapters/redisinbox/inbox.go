// Package redisinbox is the consumers' deduplication store on Redis: one key
// per (handler, message id), taken with SET NX and an expiry, so several
// processes share it and it forgets on its own after the retention window.
package redisinbox

import (
	"context"
	"errors"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/ports"
	goredis "github.com/redis/go-redis/v9"
)

var _ ports.DedupStore = (*Inbox)(nil)

const (
	pending = "pending"
	done    = "done"
	// DefaultPrefix starts every key the inbox writes.
	DefaultPrefix = "orderflow:inbox:"
)

// release deletes a key only while it is a claim, never a done mark.
var release = goredis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`)

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

// Claim implements ports.DedupStore with SET NX PX.
func (s *Inbox) Claim(ctx context.Context, k ports.DedupKey, lease time.Duration) (ports.Claim, error) {
	ok, err := s.client.SetNX(ctx, s.key(k), pending, lease).Result()
	if err != nil {
		return 0, unavailable(err, "claim")
	}
	if ok {
		return ports.ClaimAcquired, nil
	}
	v, err := s.client.Get(ctx, s.key(k)).Result()
	switch {
	case errors.Is(err, goredis.Nil):
		return ports.ClaimInFlight, nil // expired or released meanwhile: the caller tries again
	case err != nil:
		return 0, unavailable(err, "read")
	case v == done:
		return ports.ClaimDone, nil
	default:
		return ports.ClaimInFlight, nil
	}
}

// Complete implements ports.DedupStore.
func (s *Inbox) Complete(ctx context.Context, k ports.DedupKey, retention time.Duration) error {
	if err := s.client.Set(ctx, s.key(k), done, retention).Err(); err != nil {
		return unavailable(err, "complete")
	}
	return nil
}

// Release implements ports.DedupStore; a done mark is never released.
func (s *Inbox) Release(ctx context.Context, k ports.DedupKey) error {
	if err := release.Run(ctx, s.client, []string{s.key(k)}, pending).Err(); err != nil {
		return unavailable(err, "release")
	}
	return nil
}
