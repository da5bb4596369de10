package projection_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/adapters/postgres"
	"github.com/orderflow/orderflow/adapters/sqlite"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/projection"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
)

// seedOrders stores n orders of 5 events each (placed, confirmed, shipped,
// delivered... and a cancellation of a placed one for variety).
func seedOrders(b *testing.B, es ports.EventStore, n int) int {
	b.Helper()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	total := 0
	for i := range n {
		id := uuid.Must(uuid.NewV7()).String()
		evs := []order.Event{
			order.Placed{OrderID: id, CustomerID: fmt.Sprintf("c-%d", i%50), Currency: "EUR",
				Items:           []order.Item{{SKU: "A", Quantity: 2, UnitPrice: 1250, LineTotal: 2500}},
				ShippingAddress: order.Address{Name: "N", Line1: "L", City: "C", PostalCode: "1", Country: "DE"},
				PaymentMethod:   "tok", Total: 2500, PlacedAt: at},
			order.Confirmed{OrderID: id, ConfirmedAt: at},
			order.Shipped{OrderID: id, Carrier: "DHL", TrackingNumber: "1", ShippedAt: at},
			order.Delivered{OrderID: id, DeliveredAt: at},
			order.Delivered{OrderID: id, DeliveredAt: at},
		}
		var batch []ports.NewEvent
		for _, e := range evs {
			data, err := order.EncodeEvent(e)
			if err != nil {
				b.Fatal(err)
			}
			batch = append(batch, ports.NewEvent{Type: e.EventType(), Data: data,
				Metadata: ports.EventMetadata{EventID: uuid.Must(uuid.NewV7()).String(), OccurredAt: at}})
		}
		if _, err := es.Append(b.Context(), repository.Stream(id), 0, batch); err != nil {
			b.Fatal(err)
		}
		total += len(batch)
	}
	return total
}

// BenchmarkReplay compares, on the same stored events in the same run, a
// raw ReadAll of every event with a full rebuild of order_summary into a
// shadow table (ReadAll + upcast + projection + swap). Both report events/s.
func BenchmarkReplay(b *testing.B) {
	const orders = 1000
	for _, backend := range []struct {
		name   string
		open   func(testing.TB) storetest.Stores
		shadow func(storetest.Stores) ports.ShadowOrderSummary
	}{
		{"sqlite", storetest.SQLite, func(s storetest.Stores) ports.ShadowOrderSummary { return sqlite.Stores(s.SQLite).Shadow }},
		{"postgres", storetest.Postgres, func(s storetest.Stores) ports.ShadowOrderSummary {
			return postgres.Stores(s.Postgres).Shadow
		}},
	} {
		s := backend.open(b)
		events := seedOrders(b, s.Events, orders)
		storetest.ReadAll(b, s.Events, events) // visible to every reader before timing
		b.Run(backend.name+"/ReadAll", func(b *testing.B) {
			for b.Loop() {
				n, pos := 0, ports.Position{}
				for {
					batch, err := s.Events.ReadAll(b.Context(), pos, 500)
					if err != nil {
						b.Fatal(err)
					}
					if len(batch) == 0 {
						break
					}
					n += len(batch)
					pos = batch[len(batch)-1].Position
				}
				if n != events {
					b.Fatalf("read %d events, stored %d", n, events)
				}
			}
			b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
		b.Run(backend.name+"/Rebuild", func(b *testing.B) {
			for b.Loop() {
				res, err := projection.OrderSummaryRebuild{Events: s.Events, Live: s.Orders, Shadow: backend.shadow(s)}.
					Run(b.Context(), ports.Position{})
				if err != nil {
					b.Fatal(err)
				}
				if res.Events != int64(events) {
					b.Fatalf("rebuilt from %d events, stored %d", res.Events, events)
				}
			}
			b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
