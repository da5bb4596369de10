package notification_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/adapters/sqlite"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/notification"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
)

// Ignores says yes only for events that Handle turns into no notification,
// and no for every one it notifies: the router skips the inbox for the
// events it ignores, so an ignored event that should notify would be lost.
func TestIgnoresOnlyWhatHandleIgnores(t *testing.T) {
	store := sqlite.Stores(storetest.SQLiteDB(t)).Notifications
	h := notification.New(store)
	now := time.Now().UTC()
	events := []order.Event{
		order.Placed{Currency: "EUR", Items: []order.Item{{SKU: "A", Quantity: 1, UnitPrice: 100}}, Total: 100, PlacedAt: now},
		order.Confirmed{ConfirmedAt: now},
		order.Cancelled{Reason: "customer", CancelledAt: now},
		order.Shipped{Carrier: "ups", TrackingNumber: "1Z", ShippedAt: now},
		order.Delivered{DeliveredAt: now},
	}
	for _, ev := range events {
		t.Run(ev.EventType(), func(t *testing.T) {
			orderID := uuid.NewString()
			data, err := order.EncodeEvent(ev)
			if err != nil {
				t.Fatal(err)
			}
			e := ports.RecordedEvent{Stream: ports.Stream{Type: order.AggregateType, ID: orderID}, Version: 1,
				Type: ev.EventType(), Data: data,
				Metadata: ports.EventMetadata{EventID: uuid.NewString(), OccurredAt: now}}
			if err := h.Handle(t.Context(), e); err != nil {
				t.Fatal(err)
			}
			stored, err := store.List(t.Context(), orderID)
			if err != nil {
				t.Fatal(err)
			}
			if ignored := h.Ignores(order.AggregateType, ev.EventType()); ignored != (len(stored) == 0) {
				t.Fatalf("Ignores = %v, but Handle stored %d notifications", ignored, len(stored))
			}
		})
	}
	if !h.Ignores("inventory", "inventory.reserved.v1") {
		t.Error("an inventory event is not ignored")
	}
	if h.Ignores(order.AggregateType, order.EventPlacedV1) {
		t.Error("an older event version is ignored before it is upcast")
	}
}
