package command_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/app"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
)

// republisher is the broker side of a requeue: it records what it was given
// and fails with err.
type republisher struct {
	mu   sync.Mutex
	sent []ports.PoisonedMessage
	err  error
}

func (r *republisher) Republish(_ context.Context, m ports.PoisonedMessage) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.sent = append(r.sent, m)
	return nil
}

func parkOne(t *testing.T, store ports.PoisonStore, topic string) ports.PoisonedMessage {
	t.Helper()
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	m := ports.PoisonedMessage{ID: uuid.Must(uuid.NewV7()).String(), MessageID: uuid.NewString(), Topic: topic,
		Handler: "orderflow.projection.order_summary.v1", Reason: "invalid: not an event",
		Payload: []byte("{}"), Metadata: map[string]string{"k": "v"}, FirstFailedAt: at, PoisonedAt: at}
	if err := store.Add(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	return m
}

func remaining(t *testing.T, store ports.PoisonStore) int {
	t.Helper()
	list, err := store.List(t.Context(), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

func newAdmin(s storetest.Stores, rp ports.PoisonRepublisher) app.Admin {
	return app.NewAdmin(app.AdminDeps{Poison: s.Poison, Republisher: rp, Logger: slog.New(slog.DiscardHandler)})
}

// A requeue republishes the parked message and then removes it; when the
// message cannot be republished it stays parked.
func TestRequeuePoisoned(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		rp := &republisher{}
		a := newAdmin(s, rp)
		m := parkOne(t, s.Poison, "orderflow.order.events.v1")
		got, err := a.RequeuePoisoned.Handle(t.Context(), command.RequeuePoisoned{ID: m.ID})
		if err != nil || got.ID != m.ID || got.MessageID != m.MessageID {
			t.Fatalf("requeue = %+v, %v", got, err)
		}
		if len(rp.sent) != 1 || rp.sent[0].MessageID != m.MessageID || rp.sent[0].Topic != m.Topic || string(rp.sent[0].Payload) != "{}" {
			t.Fatalf("republished %+v", rp.sent)
		}
		if n := remaining(t, s.Poison); n != 0 {
			t.Fatalf("%d messages parked after the requeue, want 0", n)
		}

		_, err = a.RequeuePoisoned.Handle(t.Context(), command.RequeuePoisoned{ID: m.ID})
		if !errors.Is(err, ports.ErrPoisonNotFound) || !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("requeue again: %v, want not found", err)
		}

		broken := errors.New("broker down")
		rp.err = broken
		m = parkOne(t, s.Poison, "orderflow.order.events.v1")
		if _, err := a.RequeuePoisoned.Handle(t.Context(), command.RequeuePoisoned{ID: m.ID}); !errors.Is(err, broken) {
			t.Fatalf("requeue on a broken broker: %v", err)
		}
		if n := remaining(t, s.Poison); n != 1 {
			t.Fatalf("%d messages parked after a failed requeue, want 1", n)
		}
	})
}

func TestRequeuePoisonedRefuses(t *testing.T) {
	s := storetest.SQLite(t)
	rp := &republisher{}
	a := newAdmin(s, rp)
	if _, err := a.RequeuePoisoned.Handle(t.Context(), command.RequeuePoisoned{}); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("no id: %v, want invalid", err)
	}
	m := parkOne(t, s.Poison, "")
	if _, err := a.RequeuePoisoned.Handle(t.Context(), command.RequeuePoisoned{ID: m.ID}); err == nil {
		t.Fatal("a message without its original topic was requeued")
	}
	if len(rp.sent) != 0 || remaining(t, s.Poison) != 1 {
		t.Fatalf("republished %d, %d parked; want 0 and 1", len(rp.sent), remaining(t, s.Poison))
	}
}

func TestPurgePoisoned(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		a := newAdmin(s, nil)
		if a.RequeuePoisoned != nil {
			t.Fatal("RequeuePoisoned without a republisher")
		}
		one := parkOne(t, s.Poison, "t")
		for range 3 {
			parkOne(t, s.Poison, "t")
		}
		if got, err := a.PurgePoisoned.Handle(t.Context(), command.PurgePoisoned{ID: one.ID}); err != nil || got.Count != 1 {
			t.Fatalf("purge one = %+v, %v", got, err)
		}
		if n := remaining(t, s.Poison); n != 3 {
			t.Fatalf("%d parked after purging one of 4", n)
		}
		if _, err := a.PurgePoisoned.Handle(t.Context(), command.PurgePoisoned{ID: one.ID}); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("purge it again: %v, want not found", err)
		}
		if got, err := a.PurgePoisoned.Handle(t.Context(), command.PurgePoisoned{All: true}); err != nil || got.Count != 3 {
			t.Fatalf("purge all = %+v, %v", got, err)
		}
		if n := remaining(t, s.Poison); n != 0 {
			t.Fatalf("%d parked after purging all", n)
		}
		if got, err := a.PurgePoisoned.Handle(t.Context(), command.PurgePoisoned{All: true}); err != nil || got.Count != 0 {
			t.Fatalf("purge an empty queue = %+v, %v", got, err)
		}
		for _, bad := range []command.PurgePoisoned{{}, {ID: one.ID, All: true}} {
			if _, err := a.PurgePoisoned.Handle(t.Context(), bad); !apperr.Is(err, apperr.Invalid) {
				t.Errorf("purge %+v: %v, want invalid", bad, err)
			}
		}
	})
}

// Purging all reads the queue page by page until it is empty.
func TestPurgePoisonedMoreThanAPage(t *testing.T) {
	s := storetest.SQLite(t)
	a := newAdmin(s, nil)
	for range 501 {
		parkOne(t, s.Poison, "t")
	}
	if got, err := a.PurgePoisoned.Handle(t.Context(), command.PurgePoisoned{All: true}); err != nil || got.Count != 501 {
		t.Fatalf("purge all = %+v, %v; want 501", got, err)
	}
}
