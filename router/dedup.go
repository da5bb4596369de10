package router

import (
	"context"
	"errors"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/internal/tick"
	"github.com/orderflow/orderflow/ports"
)

// ErrInFlight is returned (as apperr.Unavailable, so retried) when another
// consumer holds the message's claim.
var ErrInFlight = errors.New("message is being handled by another consumer")

// Dedup is the deduplication middleware on a durable store. Unlike
// Watermill's Deduplicator, which marks a message as seen before handling
// it, it claims the message, renews the claim every lease/3 while the
// handler runs, and marks it done only when the handler succeeded; a
// failure releases the claim so the retry or redelivery runs, and a claim
// held by a crashed process frees itself after lease. Keys are (handler
// name, message UUID), never a hash of the payload.
//
// A handler that produces messages must publish them idempotently: if the
// router fails to publish what it returned after the mark, the redelivery is
// dropped as a duplicate.
func Dedup(store ports.DedupStore, lease, retention time.Duration) message.HandlerMiddleware {
	return dedup(store, lease, retention, nil, watermill.NopLogger{})
}

// dedup is Dedup counting duplicates and lost claims in m (when not nil).
func dedup(store ports.DedupStore, lease, retention time.Duration, m *reliabilityMetrics, logger watermill.LoggerAdapter) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			ctx := msg.Context()
			key := ports.DedupKey{Handler: handlerName(ctx), MessageID: msg.UUID}
			fields := watermill.LogFields{"handler": key.Handler, "message_uuid": msg.UUID}
			claim, err := store.Claim(ctx, key, lease)
			if err != nil {
				return nil, err
			}
			switch claim.State {
			case ports.ClaimDone:
				traceDuplicate(ctx)
				if m != nil {
					m.duplicates.WithLabelValues(key.Handler).Inc()
				}
				return nil, nil
			case ports.ClaimInFlight:
				return nil, apperr.Wrap(apperr.Unavailable, ErrInFlight, "message %s", msg.UUID)
			}
			stop := keepClaim(ctx, store, key, claim.Token, lease, logger.With(fields))
			out, err := h(msg)
			stop()
			// The attempt's context may be spent (timeout); bookkeeping must
			// still happen.
			bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if err != nil {
				// A release with a lost claim frees nothing: the new holder
				// handles the message.
				return out, errors.Join(err, store.Release(bg, key, claim.Token))
			}
			err = store.Complete(bg, key, claim.Token, retention)
			if errors.Is(err, ports.ErrClaimLost) {
				// The lease ran out before the handler finished (the renewals
				// failed, or the process stalled) and another consumer took
				// the message over: the handler's effects may have run twice.
				// Nothing here can undo that; the other holder completes or
				// releases the claim, so the message is acked, and the event
				// is logged and counted. Issue 10's transactional inbox
				// removes this for database effects, which then commit with
				// the done mark or not at all.
				logger.Error("deduplication claim lost before completion: the message may have been handled twice",
					err, fields)
				if m != nil {
					m.claimsLost.WithLabelValues(key.Handler).Inc()
				}
				return out, nil
			}
			return out, err
		}
	}
}

// keepClaim renews the claim every lease/3 until stop is called; stop
// returns once no renewal runs any more. A renewal that fails for a
// transient reason is tried again at the next tick; a lost claim ends the
// renewals (Complete reports it).
func keepClaim(ctx context.Context, store ports.DedupStore, key ports.DedupKey, token string, lease time.Duration,
	logger watermill.LoggerAdapter) (stop func()) {
	every := lease / 3
	if every <= 0 {
		return func() {}
	}
	// Renewals outlive a cancelled attempt context until the handler returns.
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick.Every(ctx, every, func(ctx context.Context) bool {
			rctx, rcancel := context.WithTimeout(ctx, every)
			err := store.Renew(rctx, key, token, lease)
			rcancel()
			switch {
			case err == nil, ctx.Err() != nil:
			case errors.Is(err, ports.ErrClaimLost):
				logger.Error("deduplication claim lost while the handler runs", err, nil)
				return false
			default:
				logger.Error("deduplication claim not renewed; trying again", err, nil)
			}
			return true
		})
	}()
	return func() { cancel(); <-done }
}
