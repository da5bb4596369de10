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
	"github.com/orderflow/orderflow/internal/eventwire"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
	"github.com/orderflow/orderflow/router"
	"github.com/prometheus/client_golang/prometheus"
)

type markKey struct{}

// seen records whether each call's context carried the mark.
type seen struct {
	mu     sync.Mutex
	marked map[string]bool
}

func (s *seen) record(ctx context.Context, what string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.marked[what], _ = ctx.Value(markKey{}).(bool)
}

func (s *seen) get(what string) (marked, called bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	marked, called = s.marked[what]
	return marked, called
}

type advancer struct{ *seen }

func (a advancer) Advance(ctx context.Context, _ string) error { a.record(ctx, "checkout"); return nil }

type notifier struct{ *seen }

func (n notifier) Handle(ctx context.Context, _ ports.RecordedEvent) error {
	n.record(ctx, "notifications")
	return nil
}

// Config.HandlerContext reaches the checkout (on every partition) and the
// notifications handlers: the service marks their contexts for deferred
// commits through it.
func TestHandlerContextReachesTheHandlers(t *testing.T) {
	db := storetest.SQLiteDB(t)
	b, err := sqlbroker.NewSQLite(t.Context(), db, 5*time.Millisecond, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	stores := sqlite.Stores(db)
	s := &seen{marked: map[string]bool{}}
	r, err := router.New(router.Config{
		Broker: b, Registry: prometheus.NewRegistry(), Roles: router.Roles{router.RoleSaga},
		Checkout: advancer{s}, SagaPartitions: 2, Notifications: notifier{s},
		HandlerContext: func(ctx context.Context) context.Context { return context.WithValue(ctx, markKey{}, true) },
		Reliability:    router.Reliability{Poison: stores.Poison, Dedup: stores.Inbox},
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(context.Background()) }()
	<-r.Running()
	t.Cleanup(func() { _ = r.Close(); <-done })

	orderID, now := uuid.NewString(), time.Now().UTC()
	data, err := order.EncodeEvent(order.Cancelled{OrderID: orderID, Reason: "r", CancelledAt: now})
	if err != nil {
		t.Fatal(err)
	}
	msg := eventwire.ToMessage(ports.RecordedEvent{Stream: ports.Stream{Type: order.AggregateType, ID: orderID},
		Version: 2, Type: order.EventCancelled, Data: data,
		Metadata: ports.EventMetadata{EventID: uuid.NewString(), OccurredAt: now}})
	if err := b.Publisher.Publish(router.EventTopic(order.AggregateType), msg); err != nil {
		t.Fatal(err)
	}
	for _, what := range []string{"checkout", "notifications"} {
		waitUntil(t, what+" called", func() bool { _, called := s.get(what); return called })
		if marked, _ := s.get(what); !marked {
			t.Errorf("%s ran without the handler context", what)
		}
	}
}
