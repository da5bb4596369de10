package porttest

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/ports"
)

// RunPoisonStore runs the ports.PoisonStore contract against the stores that
// newStore returns: one fresh, empty store per subtest.
func RunPoisonStore(t *testing.T, newStore func(t *testing.T) ports.PoisonStore) {
	runContract(t, newStore, []contractCase[ports.PoisonStore]{
		{"AddGetRoundTrip", testPoisonRoundTrip},
		{"AddIsIdempotent", testPoisonAddTwice},
		{"ListPagesInIDOrder", testPoisonList},
		{"DeleteAndNotFound", testPoisonDelete},
	})
}

func newPoisoned(reason string) ports.PoisonedMessage {
	return ports.PoisonedMessage{
		ID:            uuid.Must(uuid.NewV7()).String(),
		MessageID:     uuid.NewString(),
		Topic:         "orderflow.order.events.v1",
		Handler:       "orderflow.projection.order_summary.v1",
		Reason:        reason,
		Payload:       []byte{0xff, 0x00, '{'},
		Metadata:      map[string]string{"event_type": "order.placed.v1", "stream_id": "x"},
		FirstFailedAt: baseTime,
		PoisonedAt:    baseTime.Add(time.Second),
	}
}

func samePoisoned(a, b ports.PoisonedMessage) bool {
	return a.ID == b.ID && a.MessageID == b.MessageID && a.Topic == b.Topic && a.Handler == b.Handler &&
		a.Reason == b.Reason && bytes.Equal(a.Payload, b.Payload) && reflect.DeepEqual(a.Metadata, b.Metadata) &&
		a.FirstFailedAt.Truncate(time.Millisecond).Equal(b.FirstFailedAt.Truncate(time.Millisecond)) &&
		a.PoisonedAt.Truncate(time.Millisecond).Equal(b.PoisonedAt.Truncate(time.Millisecond))
}

func testPoisonRoundTrip(t *testing.T, s ports.PoisonStore) {
	ctx := testContext(t, 10*time.Second)
	m := newPoisoned("invalid: bad payload")
	if err := s.Add(ctx, m); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !samePoisoned(got, m) {
		t.Fatalf("Get = %+v, want %+v", got, m)
	}
}

func testPoisonAddTwice(t *testing.T, s ports.PoisonStore) {
	ctx := testContext(t, 10*time.Second)
	m := newPoisoned("first")
	if err := s.Add(ctx, m); err != nil {
		t.Fatal(err)
	}
	again := m
	again.Reason = "second"
	if err := s.Add(ctx, again); err != nil {
		t.Fatalf("second Add: %v", err)
	}
	list, err := s.List(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Reason != "first" {
		t.Fatalf("List = %+v, want the one first entry", list)
	}
}

func testPoisonList(t *testing.T, s ports.PoisonStore) {
	ctx := testContext(t, 10*time.Second)
	var want []ports.PoisonedMessage
	for range 5 {
		m := newPoisoned("r")
		want = append(want, m)
	}
	for i := len(want) - 1; i >= 0; i-- { // insertion order must not matter
		if err := s.Add(ctx, want[i]); err != nil {
			t.Fatal(err)
		}
	}
	var got []ports.PoisonedMessage
	after := ""
	for {
		page, err := s.List(ctx, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 2 {
			t.Fatalf("page of %d entries, limit 2", len(page))
		}
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		after = page[len(page)-1].ID
	}
	if len(got) != len(want) {
		t.Fatalf("listed %d entries, want %d", len(got), len(want))
	}
	for i := range want {
		if !samePoisoned(got[i], want[i]) {
			t.Fatalf("entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func testPoisonDelete(t *testing.T, s ports.PoisonStore) {
	ctx := testContext(t, 10*time.Second)
	m := newPoisoned("r")
	if err := s.Add(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, m.ID); !errors.Is(err, ports.ErrPoisonNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrPoisonNotFound", err)
	}
	if err := s.Delete(ctx, m.ID); !errors.Is(err, ports.ErrPoisonNotFound) {
		t.Fatalf("second Delete: %v, want ErrPoisonNotFound", err)
	}
}
