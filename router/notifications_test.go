package router_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/google/uuid"
	sqlbroker "github.com/orderflow/orderflow/adapters/broker/sql"
	"github.com/orderflow/orderflow/adapters/sqlite"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/notification"
	"github.com/orderflow/orderflow/internal/eventwire"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
	"github.com/orderflow/orderflow/router"
	"github.com/prometheus/client_golang/prometheus"
)

// receiver stands for a webhook receiver: it records what it was sent.
type receiver struct {
	mu   sync.Mutex
	sent []string
}

func (r *receiver) Notify(_ context.Context, n ports.Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, n.ID)
	return nil
}

// The notifications route claims in the inbox only what needs it. With a
// webhook, it acks the order events its handler ignores (a placed order)
// without a claim, and claims and completes the ones it handles (a
// confirmed order). Without a webhook, the stored notification (one row per
// event id) is its only effect, and it runs without the inbox at all.
func TestNotificationsUseTheInboxOnlyForWhatNeedsIt(t *testing.T) {
	for _, tc := range []struct {
		name          string
		webhook       bool
		confirmedDone bool
	}{
		{"with a webhook", true, true},
		{"without", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := storetest.SQLiteDB(t)
			b, err := sqlbroker.NewSQLite(t.Context(), db, 5*time.Millisecond, watermill.NopLogger{})
			if err != nil {
				t.Fatal(err)
			}
			stores := sqlite.Stores(db)
			var sinks []ports.Notifier
			hook := &receiver{}
			if tc.webhook {
				sinks = append(sinks, hook)
			}
			r, err := router.New(router.Config{
				Broker: b, Registry: prometheus.NewRegistry(), Roles: router.Roles{router.RoleSaga},
				Notifications: notification.New(stores.Notifications, sinks...),
				Reliability:   router.Reliability{Poison: stores.Poison, Dedup: stores.Inbox},
			})
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { defer close(done); _ = r.Run(context.Background()) }()
			<-r.Running()
			t.Cleanup(func() { _ = r.Close(); <-done })

			orderID, now := uuid.NewString(), time.Now().UTC()
			publish := func(version int64, ev order.Event) string {
				t.Helper()
				data, err := order.EncodeEvent(ev)
				if err != nil {
					t.Fatal(err)
				}
				msg := eventwire.ToMessage(ports.RecordedEvent{Stream: ports.Stream{Type: order.AggregateType, ID: orderID},
					Version: version, Type: ev.EventType(), Data: data,
					Metadata: ports.EventMetadata{EventID: uuid.NewString(), OccurredAt: now}})
				if err := b.Publisher.Publish(router.EventTopic(order.AggregateType), msg); err != nil {
					t.Fatal(err)
				}
				return msg.UUID
			}
			placed := publish(1, order.Placed{OrderID: orderID, Currency: "EUR", Total: 100, PlacedAt: now,
				Items: []order.Item{{SKU: "A", Quantity: 1, UnitPrice: 100}}})
			confirmed := publish(2, order.Confirmed{OrderID: orderID, ConfirmedAt: now})
			// One consumer group takes them in order: once the confirmation
			// is notified, the placed event was handled before it.
			waitUntil(t, "the confirmation notified", func() bool {
				list, err := stores.Notifications.List(t.Context(), orderID)
				return err == nil && len(list) == 1
			})
			claim := func(id string) ports.Claim {
				t.Helper()
				var res ports.ClaimResult
				waitUntil(t, "the inbox to answer", func() bool {
					res, err = stores.Inbox.Claim(t.Context(), ports.DedupKey{Handler: router.HandlerNotifications, MessageID: id}, time.Minute)
					return err == nil && res.State != ports.ClaimInFlight // completion lands just after the effect
				})
				return res.State
			}
			want := ports.ClaimAcquired // no entry: acquired by this probe
			if tc.confirmedDone {
				want = ports.ClaimDone
			}
			if got := claim(confirmed); got != want {
				t.Errorf("the confirmed event's inbox entry is %v, want %v", got, want)
			}
			if got := claim(placed); got != ports.ClaimAcquired {
				t.Errorf("the placed event's inbox entry is %v, want none (acquired by this probe)", got)
			}
			hook.mu.Lock()
			defer hook.mu.Unlock()
			if tc.webhook && len(hook.sent) != 1 {
				t.Errorf("the webhook got %d notifications, want 1", len(hook.sent))
			}
		})
	}
}
