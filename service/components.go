package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/orderflow/orderflow/outbox"
	"github.com/orderflow/orderflow/router"
	"golang.org/x/sync/errgroup"
)

// component is one long-running part of the service. Run works until ctx
// is cancelled, then stops gracefully and returns; an error it returns
// before that is a failure of the whole service (Main.Failed).
type component interface {
	Run(ctx context.Context) error
}

// The shutdown order, the one place it is decided. Close stops the stages
// one after the other, each once the one before has returned:
//
//  1. stageHTTP: the HTTP server stops accepting and lets the requests in
//     flight finish, so that no command is cut off between its append and
//     its response;
//  2. stageForwarder: the outbox forwarder publishes the batch in hand, so
//     that its last publishes still find the handlers (the memory broker
//     waits for them);
//  3. stageRouter: the handlers finish the message in hand and ack it;
//  4. stageLoops: the checkout deadline scanner and the outbox cleaner.
//
// Then Close closes the read cache and the stores, which every stage uses.
// Run starts the router first, the forwarder once the router runs (its
// handlers have subscribed), then the loops, and the HTTP server last, so
// that requests find everything running.
const (
	stageHTTP = iota
	stageForwarder
	stageRouter
	stageLoops
	numStages
)

var stageNames = [numStages]string{"http server", "outbox forwarder", "router", "background loops"}

// stage runs the components that stop together, under one errgroup.
type stage struct {
	ctx    context.Context
	cancel context.CancelFunc
	group  errgroup.Group
}

// start runs c in stage i until Close stops that stage.
func (m *Main) start(i int, c component) {
	s := m.stages[i]
	if s == nil {
		s = &stage{}
		s.ctx, s.cancel = context.WithCancel(context.Background())
		m.stages[i] = s
	}
	s.group.Go(func() error {
		err := c.Run(s.ctx)
		if err != nil && s.ctx.Err() == nil {
			m.fail(err)
			return nil // reported once, through Failed
		}
		return err
	})
}

// stop stops the stages in order, each bounded by ctx.
func (m *Main) stop(ctx context.Context) error {
	var errs []error
	for i, s := range m.stages {
		if s == nil {
			continue
		}
		s.cancel()
		done := make(chan error, 1)
		go func() { done <- s.group.Wait() }()
		select {
		case err := <-done:
			errs = append(errs, err)
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("%s did not stop in time", stageNames[i]))
		}
	}
	return errors.Join(errs...)
}

// httpServer serves the API on a listener that Run (of Main) opened, so
// that a busy address fails the start and Addr is known at once.
type httpServer struct {
	server   *http.Server
	listener net.Listener
	// drain bounds how long the requests in flight may take to finish.
	drain time.Duration
}

func (s *httpServer) Run(ctx context.Context) error {
	served := make(chan error, 1)
	go func() { served <- s.server.Serve(s.listener) }()
	select {
	case err := <-served:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.drain)
	defer cancel()
	if err := s.server.Shutdown(sctx); err != nil {
		return fmt.Errorf("http shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	return nil
}

// routerRunner runs the Watermill router. It is stopped through Close, not
// through its context: cancelling the context would cut the subscriptions
// under the handlers in flight. It closes stopped when the router has
// stopped, for whatever reason.
type routerRunner struct {
	router  *router.Router
	stopped chan<- struct{}
}

func (r routerRunner) Run(ctx context.Context) error {
	done := make(chan error, 1)
	go func() {
		defer close(r.stopped)
		done <- r.router.Run(context.WithoutCancel(ctx))
	}()
	select {
	case err := <-done:
		return err // stopped on its own: every handler stopped
	case <-ctx.Done():
	}
	var errs []error
	if err := r.router.Close(); err != nil {
		errs = append(errs, fmt.Errorf("router close: %w", err))
	}
	return errors.Join(append(errs, <-done)...)
}

// forwarderRunner runs the outbox forwarder beside the router, until its
// stage stops or the router stops on its own: a router that stopped takes
// the forwarder with it. The forwarder logs its own errors.
type forwarderRunner struct {
	forwarder     *outbox.Forwarder
	routerStopped <-chan struct{}
}

func (f forwarderRunner) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-f.routerStopped:
			cancel()
		case <-ctx.Done():
		}
	}()
	_ = f.forwarder.Run(ctx) // returns when ctx ends
	return nil
}

// loop is a background loop that returns when its context ends.
type loop func(ctx context.Context)

func (l loop) Run(ctx context.Context) error {
	l(ctx)
	return nil
}
