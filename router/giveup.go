package router

import (
	"errors"
	"fmt"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"
)

// GaveUpError is a transient error of a message that failed
// Reliability.MaxFailedDeliveries deliveries in a row (each with its own
// retries): the poison queue parks it with this error as its reason, so
// that one message whose failure outlasts every retry holds up the
// messages behind it for a bounded time, not for ever. Its effects are not
// lost: an operator requeues it from the poison queue once the cause is
// gone (and a checkout it concerns is advanced meanwhile by the deadline
// scanner, which backs off per checkout and parks it in the end).
type GaveUpError struct {
	Deliveries int
	Err        error
}

func (e *GaveUpError) Error() string {
	return fmt.Sprintf("gave up after %d failed deliveries: %v", e.Deliveries, e.Err)
}

func (e *GaveUpError) Unwrap() error { return e.Err }

func isGaveUp(err error) bool {
	var g *GaveUpError
	return errors.As(err, &g)
}

// maxTracked bounds the failures a handler remembers: messages that failed
// and were then delivered elsewhere (another process took the partition)
// are forgotten wholesale past it.
const maxTracked = 10_000

// giveUpAfter turns the max-th failed delivery in a row of one message into
// a *GaveUpError. Deliveries are counted per handler, in the process (a
// broker's redelivery does not always carry the message's metadata): a
// process that restarts counts again from zero. max < 1 never gives up.
func giveUpAfter(max int) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		if max < 1 {
			return h
		}
		var mu sync.Mutex
		failed := map[string]int{}
		return func(msg *message.Message) ([]*message.Message, error) {
			out, err := h(msg)
			mu.Lock()
			defer mu.Unlock()
			if err == nil || IsPermanent(err) {
				delete(failed, msg.UUID)
				return out, err
			}
			if len(failed) >= maxTracked {
				clear(failed)
			}
			failed[msg.UUID]++
			if n := failed[msg.UUID]; n >= max {
				delete(failed, msg.UUID)
				return out, &GaveUpError{Deliveries: n, Err: err}
			}
			return out, err
		}
	}
}
