package query_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/orderflow/orderflow/app"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/query"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
)

// scriptedReader is a read model whose answer the test sets.
type scriptedReader struct {
	ports.OrderSummaryReader
	mu      sync.Mutex
	summary *ports.OrderSummary
	err     error
	next    []*ports.OrderSummary // answered one per read before summary
	n       int
}

// script makes the next reads answer answers in turn, the last one for good.
func (r *scriptedReader) script(answers ...*ports.OrderSummary) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next, r.summary = answers[:len(answers)-1], answers[len(answers)-1]
}

func (r *scriptedReader) reads() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

func (r *scriptedReader) set(s *ports.OrderSummary, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.summary, r.err = s, err
}

func (r *scriptedReader) Get(context.Context, string) (ports.OrderSummary, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	if len(r.next) > 0 {
		s := r.next[0]
		r.next = r.next[1:]
		if s == nil {
			return ports.OrderSummary{}, ports.ErrNotFound
		}
		return *s, nil
	}
	switch {
	case r.err != nil:
		return ports.OrderSummary{}, r.err
	case r.summary == nil:
		return ports.OrderSummary{}, ports.ErrNotFound
	}
	return *r.summary, nil
}

// watchEnv is an application on a fresh SQLite store whose read model is
// scripted, with one order placed then cancelled (versions 1 and 2).
func watchEnv(t *testing.T) (app.Application, *scriptedReader, string) {
	s := storetest.SQLite(t)
	reader := &scriptedReader{}
	a := app.New(app.Deps{Events: s.Events, Orders: reader, Logger: slog.New(slog.DiscardHandler)})
	id := placeOrder(t, a)
	if _, err := a.Commands.CancelOrder.Handle(t.Context(), command.CancelOrder{OrderID: id, Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	return a, reader, id
}

// watch runs WatchOrder to its end and returns every change it emitted.
func watch(ctx context.Context, a app.Application, q query.WatchOrder) ([]query.OrderChange, error) {
	var got []query.OrderChange
	var mu sync.Mutex
	q.Emit = func(_ context.Context, c query.OrderChange) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, c)
		return nil
	}
	_, err := a.Queries.WatchOrder.Handle(ctx, q)
	mu.Lock()
	defer mu.Unlock()
	return got, err
}

func versions(c query.OrderChange) []int64 {
	var v []int64
	for _, e := range c.Events {
		v = append(v, e.Version)
	}
	return v
}

// Given the read model behind the store, the watch waits for the projection,
// emits the current state with its events, then each newer state with the
// events since the last one, and ends at a terminal status.
func TestWatchOrderFollowsTheReadModelToATerminalStatus(t *testing.T) {
	a, reader, id := watchEnv(t)
	placed := &ports.OrderSummary{OrderID: id, Status: "placed", Version: 1}
	reader.script(nil, nil, placed) // two reads before the projection has it
	var got []query.OrderChange
	_, err := a.Queries.WatchOrder.Handle(t.Context(), query.WatchOrder{OrderID: id,
		Emit: func(_ context.Context, c query.OrderChange) error {
			got = append(got, c)
			if c.Order.Version == 1 { // the projection moves on
				reader.script(&ports.OrderSummary{OrderID: id, Status: "cancelled", Version: 2})
			}
			return nil
		}})
	if err != nil || len(got) != 2 {
		t.Fatalf("%d changes, %v", len(got), err)
	}
	if c := got[0]; c.Order.Version != 1 || len(versions(c)) != 1 || versions(c)[0] != 1 {
		t.Errorf("first change: version %d, events %v", c.Order.Version, versions(c))
	}
	if c := got[1]; c.Order.Status != "cancelled" || len(versions(c)) != 1 || versions(c)[0] != 2 {
		t.Errorf("second change: %s, events %v", c.Order.Status, versions(c))
	}
	if n := reader.reads(); n < 4 {
		t.Errorf("%d reads of the read model", n)
	}
}

// A resumed watch starts with the current state and only the events after
// the version the client has seen; resumed at the latest, it carries none.
func TestWatchOrderResumesFromAVersion(t *testing.T) {
	a, reader, id := watchEnv(t)
	reader.set(&ports.OrderSummary{OrderID: id, Status: "cancelled", Version: 2}, nil)
	for from, want := range map[int64]int{0: 2, 1: 1, 2: 0} {
		got, err := watch(t.Context(), a, query.WatchOrder{OrderID: id, FromVersion: from})
		if err != nil || len(got) != 1 || len(got[0].Events) != want {
			t.Errorf("from %d: %v, %v", from, got, err)
		}
	}
}

func TestWatchOrderRefusals(t *testing.T) {
	a, reader, id := watchEnv(t)
	for _, c := range []struct {
		name string
		q    query.WatchOrder
		want apperr.Code
	}{
		{"unknown order", query.WatchOrder{OrderID: "0193a7a0-0000-7000-8000-000000000009"}, apperr.NotFound},
		{"not a uuid", query.WatchOrder{OrderID: "x"}, apperr.NotFound},
		{"negative version", query.WatchOrder{OrderID: id, FromVersion: -1}, apperr.Invalid},
		{"past the latest version", query.WatchOrder{OrderID: id, FromVersion: 3}, apperr.Invalid},
	} {
		if _, err := watch(t.Context(), a, c.q); apperr.CodeOf(err) != c.want {
			t.Errorf("%s: %v, want %s", c.name, err, c.want)
		}
	}
	reader.set(nil, errors.New("read model down"))
	if _, err := watch(t.Context(), a, query.WatchOrder{OrderID: id}); apperr.CodeOf(err) != apperr.Unavailable {
		t.Errorf("read model down: %v", err)
	}
	reader.set(&ports.OrderSummary{OrderID: id, Status: "placed", Version: 1}, nil)
	refused := errors.New("client gone")
	_, err := a.Queries.WatchOrder.Handle(t.Context(), query.WatchOrder{OrderID: id,
		Emit: func(context.Context, query.OrderChange) error { return refused }})
	if !errors.Is(err, refused) {
		t.Errorf("Emit's error: %v", err)
	}
	// Not terminal: the watch goes on until its context ends, then returns nil.
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	got, err := watch(ctx, a, query.WatchOrder{OrderID: id})
	if err != nil || len(got) != 1 {
		t.Errorf("cancelled watch: %d changes, %v", len(got), err)
	}
}
