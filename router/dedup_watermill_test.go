package router_test

import (
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/google/uuid"
	"github.com/orderflow/orderflow/adapters/sqlite"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/router"
)

// Watermill's Deduplicator on the durable store: the same message id is a
// duplicate, also for a second deduplicator (another process) on the same
// store; an identical payload under another id is not.
func TestWatermillDeduplicatorOnDurableStore(t *testing.T) {
	db := storetest.SQLiteDB(t)
	newDedup := func() *middleware.Deduplicator {
		return &middleware.Deduplicator{KeyFactory: router.MessageIDKey,
			Repository: router.ExpiringKeys{Store: sqlite.Stores(db).Inbox, Retention: time.Hour}, Timeout: 5 * time.Second}
	}
	a, b := newDedup(), newDedup()
	msg := message.NewMessage(uuid.NewString(), []byte(`{"same":"payload"}`))
	twin := message.NewMessage(uuid.NewString(), []byte(`{"same":"payload"}`))
	for _, step := range []struct {
		d    *middleware.Deduplicator
		m    *message.Message
		want bool
	}{{a, msg, false}, {a, msg, true}, {b, msg, true}, {b, twin, false}} {
		got, err := step.d.IsDuplicate(step.m)
		if err != nil {
			t.Fatal(err)
		}
		if got != step.want {
			t.Fatalf("IsDuplicate(%s) = %v, want %v", step.m.UUID, got, step.want)
		}
	}
}
