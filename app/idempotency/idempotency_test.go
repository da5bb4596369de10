package idempotency_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/orderflow/orderflow/app/idempotency"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
)

var created = ports.StoredResponse{Status: 201, Body: []byte(`{"order_id":"x"}`)}

func appendOne(ctx context.Context, t *testing.T, st storetest.Stores, stream ports.Stream) {
	t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	_, err := st.Events.Append(ctx, stream, ports.NoStream, []ports.NewEvent{{Type: "test.v1", Data: []byte(`{}`),
		Metadata: ports.EventMetadata{EventID: id, OccurredAt: time.Now().UTC()}}})
	if err != nil {
		t.Fatal(err)
	}
}

func stored(t *testing.T, st storetest.Stores, stream ports.Stream) int {
	t.Helper()
	events, err := st.Events.Load(t.Context(), stream, 1)
	if err != nil {
		t.Fatal(err)
	}
	return len(events)
}

// Replay, 422 and 409 on both databases; the run's effects and the
// response commit together.
func TestGuard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st storetest.Stores) {
		g := idempotency.New(idempotency.Config{Store: st.Idempotency, Tx: st.Tx})
		ctx := t.Context()
		key, stream := uuid.NewString(), ports.Stream{Type: "test", ID: uuid.NewString()}
		runs := 0
		run := func(ctx context.Context) (ports.StoredResponse, error) {
			runs++
			if _, ok := idempotency.ReservationFrom(ctx); !ok {
				t.Error("run's context carries no reservation")
			}
			appendOne(ctx, t, st, stream)
			return created, nil
		}
		out, err := g.Do(ctx, key, "fp", run)
		if err != nil || out.Replayed || out.Response.Status != 201 {
			t.Fatalf("first Do = %+v, %v", out, err)
		}
		out, err = g.Do(ctx, key, "fp", run)
		if err != nil || !out.Replayed || string(out.Response.Body) != string(created.Body) || runs != 1 {
			t.Fatalf("retry = %+v, %v after %d runs; want the replay and one run", out, err, runs)
		}
		if _, err := g.Do(ctx, key, "other", run); !errors.Is(err, idempotency.ErrReused) {
			t.Fatalf("another request with the key = %v, want ErrReused", err)
		}
		if rec, ok, err := st.Idempotency.Reserve(ctx, "busy-"+key, "fp", time.Minute, time.Hour); err != nil || !ok {
			t.Fatalf("Reserve = %+v, %v, %v", rec, ok, err)
		}
		if _, err := g.Do(ctx, "busy-"+key, "fp", run); !errors.Is(err, idempotency.ErrInFlight) {
			t.Fatalf("same request in flight = %v, want ErrInFlight", err)
		}
		if _, err := g.Do(ctx, "busy-"+key, "other", run); !errors.Is(err, idempotency.ErrReused) {
			t.Fatalf("another request in flight = %v, want ErrReused", err)
		}
		if n := stored(t, st, stream); n != 1 {
			t.Fatalf("%d events, want 1", n)
		}
	})
}

// A run that fails stores nothing, rolls its effects back and frees the key.
func TestGuardFailedRunRollsBackAndFreesTheKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st storetest.Stores) {
		g := idempotency.New(idempotency.Config{Store: st.Idempotency, Tx: st.Tx})
		key, stream := uuid.NewString(), ports.Stream{Type: "test", ID: uuid.NewString()}
		refused := errors.New("refused")
		out, err := g.Do(t.Context(), key, "fp", func(ctx context.Context) (ports.StoredResponse, error) {
			appendOne(ctx, t, st, stream)
			return ports.StoredResponse{Status: 400}, refused
		})
		if !errors.Is(err, refused) || out.Response.Status != 400 {
			t.Fatalf("Do = %+v, %v; want run's response and error", out, err)
		}
		if n := stored(t, st, stream); n != 0 {
			t.Fatalf("the failed run left %d events", n)
		}
		if _, ok, err := st.Idempotency.Reserve(t.Context(), key, "fp-corrected", time.Minute, time.Hour); err != nil || !ok {
			t.Fatalf("the key is still held after a failed run: %v, %v", ok, err)
		}
	})
}

// A request whose lock ran out and whose key another request took over
// cannot complete it: its unit rolls back, effects and all.
func TestGuardTakenOverKeyIsNotCompletedByItsFormerHolder(t *testing.T) {
	st := storetest.Postgres(t)
	g := idempotency.New(idempotency.Config{Store: st.Idempotency, Tx: st.Tx, Lock: 50 * time.Millisecond})
	key, stream := uuid.NewString(), ports.Stream{Type: "test", ID: uuid.NewString()}
	var taker ports.IdempotencyRecord
	_, err := g.Do(t.Context(), key, "fp", func(ctx context.Context) (ports.StoredResponse, error) {
		appendOne(ctx, t, st, stream)
		// Stalled past the lock: another request takes the key over.
		deadline := time.Now().Add(10 * time.Second)
		for {
			rec, ok, err := st.Idempotency.Reserve(context.WithoutCancel(t.Context()), key, "fp", time.Minute, time.Hour)
			if err != nil {
				return ports.StoredResponse{}, err
			}
			if ok {
				taker = rec
				return created, nil
			}
			if time.Now().After(deadline) {
				t.Fatal("the lock never ran out")
			}
			time.Sleep(5 * time.Millisecond) // poll interval
		}
	})
	if !errors.Is(err, ports.ErrIdempotencyKeyLost) {
		t.Fatalf("Do by the former holder = %v, want ErrIdempotencyKeyLost", err)
	}
	if n := stored(t, st, stream); n != 0 {
		t.Fatalf("the former holder's unit left %d events", n)
	}
	rec, ok, err := st.Idempotency.Reserve(t.Context(), key, "fp", time.Minute, time.Hour)
	if err != nil || ok || rec.Response != nil {
		t.Fatalf("the new holder's reservation = %+v, %v, %v; want it still in flight", rec, ok, err)
	}
	if err := st.Idempotency.Complete(t.Context(), key, taker.Token, created); err != nil {
		t.Fatalf("the new holder's Complete: %v", err)
	}
}
