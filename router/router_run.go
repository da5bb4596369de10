package router

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// Router is the Watermill router of the event handlers plus, with
// RoleForwarder, the outbox forwarder, which runs beside it rather than as
// one of its handlers so that it can publish in batches. Run and Close
// start and stop both.
type Router struct {
	*message.Router
	forwarder    *Forwarder // nil without RoleForwarder
	closeTimeout time.Duration

	mu            sync.Mutex
	closed        bool
	stopForwarder context.CancelFunc
	forwarderDone chan struct{}
}

// Run runs the handlers and, once they are subscribed, the forwarder, until
// Close (or until every handler stopped on its own). See message.Router.Run.
func (r *Router) Run(ctx context.Context) error {
	if r.forwarder != nil {
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			return errors.New("router: closed before it ran")
		}
		fctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		r.stopForwarder, r.forwarderDone = cancel, done
		r.mu.Unlock()
		go func() {
			defer close(done)
			// After the handlers subscribed: a broker without persistence
			// (memory) would drop what nobody listens to yet.
			select {
			case <-r.Router.Running():
			case <-fctx.Done():
				return
			}
			_ = r.forwarder.Run(fctx)
		}()
	}
	err := r.Router.Run(ctx)
	return errors.Join(err, r.stopForwarding())
}

// Close stops the forwarder after the batch it is publishing (up to the
// close timeout), then closes the handlers. The forwarder stops first so
// that its last publishes still find the handlers (the memory broker waits
// for them).
func (r *Router) Close() error {
	ferr := r.stopForwarding()
	return errors.Join(ferr, r.Router.Close())
}

// stopForwarding cancels the forwarder and waits for it, up to the close
// timeout. Later calls return at once.
func (r *Router) stopForwarding() error {
	r.mu.Lock()
	r.closed = true
	cancel, done := r.stopForwarder, r.forwarderDone
	r.stopForwarder = nil
	r.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	t := time.NewTimer(r.closeTimeout)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-t.C:
		return fmt.Errorf("router: the outbox forwarder did not stop within %s", r.closeTimeout)
	}
}
