// Package usecasetest is a test helper for inbound adapters: a use case test
// double that any decorator.Handler slot of app.Application takes.
package usecasetest

import (
	"context"
	"sync"

	"github.com/orderflow/orderflow/app/meta"
)

// Stub records every call with the ids its context carried, and answers
// with Result and Err, or Run when set. Set the fields before the calls, or
// use SetRun while an earlier call may still be running.
type Stub[C, R any] struct {
	mu     sync.Mutex
	calls  []C
	ids    [][2]string // correlation and causation id of each call
	Result R
	Err    error
	Run    func(context.Context, C) (R, error)
}

func (s *Stub[C, R]) Handle(ctx context.Context, c C) (R, error) {
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.ids = append(s.ids, [2]string{meta.CorrelationID(ctx), meta.CausationID(ctx)})
	run, result, err := s.Run, s.Result, s.Err
	s.mu.Unlock()
	if run != nil {
		return run(ctx, c)
	}
	return result, err
}

// SetRun replaces Run, safely while an earlier call still runs.
func (s *Stub[C, R]) SetRun(run func(context.Context, C) (R, error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Run = run
}

// Calls are the calls so far, oldest first.
func (s *Stub[C, R]) Calls() []C {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]C(nil), s.calls...)
}

// LastIDs are the correlation and causation ids of the last call.
func (s *Stub[C, R]) LastIDs() [2]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ids) == 0 {
		return [2]string{}
	}
	return s.ids[len(s.ids)-1]
}
