package repository_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
)

// BenchmarkLoad10kEvents loads one order whose stream holds 10,000 events,
// by folding every event and from a snapshot at its last version.
func BenchmarkLoad10kEvents(b *testing.B) {
	const n = 10_000
	for _, backend := range []struct {
		name string
		open func(testing.TB) storetest.Stores
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}} {
		s := backend.open(b)
		id := uuid.Must(uuid.NewV7()).String()
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		var version int64
		for version < n {
			var batch []ports.NewEvent
			for len(batch) < 1000 {
				var e order.Event = order.Confirmed{OrderID: id, ConfirmedAt: at}
				if version == 0 && len(batch) == 0 {
					e = order.Placed{OrderID: id, CustomerID: "c", Currency: "EUR",
						Items:           []order.Item{{SKU: "A", Quantity: 1, UnitPrice: 1, LineTotal: 1}},
						ShippingAddress: order.Address{Name: "N", Line1: "L", City: "C", PostalCode: "1", Country: "DE"},
						PaymentMethod:   "tok", Total: 1, PlacedAt: at}
				}
				data, err := order.EncodeEvent(e)
				if err != nil {
					b.Fatal(err)
				}
				batch = append(batch, ports.NewEvent{Type: e.EventType(), Data: data,
					Metadata: ports.EventMetadata{EventID: uuid.Must(uuid.NewV7()).String(), OccurredAt: at}})
			}
			res, err := s.Events.Append(b.Context(), repository.Stream(id), version, batch)
			if err != nil {
				b.Fatal(err)
			}
			version = res.NextExpectedVersion
		}
		full := repository.NewOrders(s.Events, ports.SystemClock{})
		snap := repository.NewOrders(s.Events, ports.SystemClock{}).EnableSnapshots(s.Snapshots, repository.DefaultSnapshotEvery, quiet)
		if o, err := snap.Load(b.Context(), id); err != nil || o.Version() != n { // takes the snapshot
			b.Fatalf("load: %v", err)
		}
		for name, repo := range map[string]*repository.Orders{"FullStream": full, "Snapshot": snap} {
			b.Run(backend.name+"/"+name, func(b *testing.B) {
				for b.Loop() {
					o, err := repo.Load(b.Context(), id)
					if err != nil || o.Version() != n {
						b.Fatalf("load: version %d, %v", o.Version(), err)
					}
				}
			})
		}
	}
}
