package router

import (
	"context"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/orderflow/orderflow/ports"
)

// ExpiringKeys lets Watermill's own middleware.Deduplicator use a durable
// ports.DedupStore instead of its in-process map: IsDuplicate marks the key
// done for Retention at first sight. That is Watermill's semantics (a key is
// spent even when the handler then fails), which is why the routes use Dedup
// instead; ExpiringKeys is for Deduplicator's other use, as a publisher
// decorator, where a key spent on a failed publish is what is wanted.
type ExpiringKeys struct {
	Store     ports.DedupStore
	Retention time.Duration
}

var _ middleware.ExpiringKeyRepository = ExpiringKeys{}

// IsDuplicate implements middleware.ExpiringKeyRepository; key is the whole
// key (see MessageIDKey).
func (k ExpiringKeys) IsDuplicate(ctx context.Context, key string) (bool, error) {
	dk := ports.DedupKey{Handler: "deduplicator", MessageID: key}
	claim, err := k.Store.Claim(ctx, dk, k.Retention)
	if err != nil {
		return false, err
	}
	if claim.State != ports.ClaimAcquired {
		return true, nil
	}
	return false, k.Store.Complete(ctx, dk, claim.Token, k.Retention)
}

// MessageIDKey is a middleware.MessageHasher keyed by the handler name (when
// there is one) and the message UUID, never by the payload: two different
// orders may carry identical payloads.
func MessageIDKey(msg *message.Message) (string, error) {
	return handlerName(msg.Context()) + "/" + msg.UUID, nil
}
