package repository_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
)

var quiet = slog.New(slog.DiscardHandler)

// randomEvents returns a random history of an order: placed (as v1 or v2,
// the way it was stored by one release or the next) then any mix of the
// other events. apply never validates, so any sequence is a history the
// aggregate must fold.
func randomEvents(rng *rand.Rand, id string, n int, first bool) []ports.NewEvent {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(1e6)) * time.Second)
	var out []ports.NewEvent
	for i := range n {
		at = at.Add(time.Duration(rng.IntN(1e9)) * time.Microsecond)
		var e order.Event
		typ := ""
		switch k := rng.IntN(5); {
		case first && i == 0, k == 0:
			items := make([]order.Item, 1+rng.IntN(4))
			for j := range items {
				q, p := int64(1+rng.IntN(9)), int64(rng.IntN(10000))
				items[j] = order.Item{SKU: fmt.Sprintf("SKU-%d", rng.IntN(100)), Quantity: q, UnitPrice: p, LineTotal: q * p}
			}
			e = order.Placed{OrderID: id, CustomerID: fmt.Sprintf("c-%d", rng.IntN(10)), Currency: "EUR",
				Items: items, ShippingAddress: order.Address{Name: "N", Line1: "L", City: "C", PostalCode: "1", Country: "DE"},
				PaymentMethod: "tok", Total: rng.Int64N(1e6), PlacedAt: at}
			if rng.IntN(2) == 0 {
				typ = order.EventPlacedV1 // line_total is dropped below, as v1 never had it
			}
		case k == 1:
			e = order.Confirmed{OrderID: id, ConfirmedAt: at}
		case k == 2:
			e = order.Cancelled{OrderID: id, Reason: fmt.Sprintf("r%d", rng.IntN(100)), CancelledAt: at}
		case k == 3:
			e = order.Shipped{OrderID: id, Carrier: "DHL", TrackingNumber: fmt.Sprint(rng.Int()), ShippedAt: at}
		default:
			e = order.Delivered{OrderID: id, DeliveredAt: at}
		}
		data, err := order.EncodeEvent(e)
		if err != nil {
			panic(err)
		}
		if typ == "" {
			typ = e.EventType()
		} else {
			data = bytes.ReplaceAll(data, []byte(`,"line_total":`), []byte(`,"was_line_total":`))
		}
		out = append(out, ports.NewEvent{Type: typ, Data: data, Metadata: ports.EventMetadata{
			EventID: uuid.Must(uuid.NewV7()).String(), OccurredAt: at}})
	}
	return out
}

func stateOf(t *testing.T, o *order.Order) string {
	t.Helper()
	b, err := order.EncodeSnapshot(o)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Property: for random histories, random snapshot intervals and random
// growth after a snapshot, snapshot + tail gives the state the whole stream
// gives.
func TestSnapshotPlusTailEqualsFullStream(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		seed := time.Now().UnixNano()
		t.Logf("seed %d", seed)
		rng := rand.New(rand.NewPCG(uint64(seed), 1))
		full := repository.NewOrders(s.Events, ports.SystemClock{})
		for round := range 25 {
			every := 1 + rng.IntN(15)
			snap := repository.NewOrders(s.Events, ports.SystemClock{}).EnableSnapshots(s.Snapshots, every, quiet)
			id := uuid.Must(uuid.NewV7()).String()
			stream := repository.Stream(id)
			version := int64(0)
			for step := range 3 {
				batch := randomEvents(rng, id, 1+rng.IntN(30), step == 0)
				res, err := s.Events.Append(t.Context(), stream, version, batch)
				if err != nil {
					t.Fatal(err)
				}
				version = res.NextExpectedVersion
				got, err := snap.Load(t.Context(), id)
				if err != nil {
					t.Fatal(err)
				}
				want, err := full.Load(t.Context(), id)
				if err != nil {
					t.Fatal(err)
				}
				if stateOf(t, got) != stateOf(t, want) || got.Version() != version {
					t.Fatalf("round %d step %d (every %d): snapshot+tail\n %s\nfull stream\n %s", round, step, every, stateOf(t, got), stateOf(t, want))
				}
				stored, err := s.Snapshots.LoadSnapshot(t.Context(), stream)
				switch {
				case version >= int64(every) && err != nil:
					t.Fatalf("round %d: no snapshot after %d events with every %d: %v", round, version, every, err)
				case version < int64(every) && !errors.Is(err, ports.ErrNotFound):
					t.Fatalf("round %d: snapshot %+v after %d events with every %d", round, stored, version, every)
				case err == nil && version-stored.Version >= int64(every):
					t.Fatalf("round %d: snapshot at %d lags %d events (every %d)", round, stored.Version, version, every)
				}
			}
		}
	})
}

// A snapshot of another schema is ignored, the order is folded from its
// events, and a current snapshot replaces it.
func TestSnapshotOfOldSchemaIsRebuilt(t *testing.T) {
	s := storetest.SQLite(t)
	rng := rand.New(rand.NewPCG(7, 7))
	id := uuid.Must(uuid.NewV7()).String()
	if _, err := s.Events.Append(t.Context(), repository.Stream(id), 0, randomEvents(rng, id, 12, true)); err != nil {
		t.Fatal(err)
	}
	stale := ports.Snapshot{Stream: repository.Stream(id), Version: 12, SchemaVersion: order.SnapshotSchemaVersion - 1,
		Data: []byte(`{"id":"` + id + `","version":12,"status":"from an old schema"}`), TakenAt: time.Now()}
	if err := s.Snapshots.SaveSnapshot(t.Context(), stale); err != nil {
		t.Fatal(err)
	}
	got, err := repository.NewOrders(s.Events, ports.SystemClock{}).EnableSnapshots(s.Snapshots, 5, quiet).Load(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	want, err := repository.NewOrders(s.Events, ports.SystemClock{}).Load(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if stateOf(t, got) != stateOf(t, want) {
		t.Fatalf("loaded from a stale snapshot:\n %s\nwant\n %s", stateOf(t, got), stateOf(t, want))
	}
	fresh, err := s.Snapshots.LoadSnapshot(t.Context(), repository.Stream(id))
	if err != nil || fresh.SchemaVersion != order.SnapshotSchemaVersion || fresh.Version != 12 {
		t.Fatalf("stale snapshot not rebuilt: %+v, %v", fresh, err)
	}
}
