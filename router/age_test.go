package router

import (
	"context"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/google/uuid"
	"github.com/orderflow/orderflow/internal/eventwire"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A handler stuck on a message shows it in
// orderflow_router_oldest_unhandled_age_seconds{handler}, growing with the
// message's age; once it finishes, the age it had then stays.
func TestOldestUnhandledAgePerHandler(t *testing.T) {
	reg := prometheus.NewRegistry()
	age, err := newHandlerAge(reg)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	var now time.Time
	age.now = func() time.Time { return now }

	pubsub := gochannel.NewGoChannel(gochannel.Config{}, watermill.NopLogger{})
	r, err := message.NewRouter(message.RouterConfig{}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	r.AddMiddleware(age.middleware)
	started, release := make(chan struct{}), make(chan struct{})
	r.AddConsumerHandler("h1", "t", pubsub, func(*message.Message) error {
		started <- struct{}{}
		<-release
		return nil
	})
	go func() { _ = r.Run(context.Background()) }()
	defer r.Close()
	<-r.Running()

	stored := clock
	msg := message.NewMessage(uuid.NewString(), []byte("{}"))
	msg.Metadata.Set(eventwire.KeyRecordedAt, stored.Format(time.RFC3339Nano))
	now = clock.Add(3 * time.Second)
	go func() { _ = pubsub.Publish("t", msg) }()
	<-started

	want := func(v float64) {
		t.Helper()
		if got := testutil.ToFloat64(age); got != v {
			t.Fatalf("age %v, want %v", got, v)
		}
	}
	want(3)
	now = clock.Add(90 * time.Second) // stuck: it grows
	want(90)
	now = clock.Add(100 * time.Second)
	release <- struct{}{}
	deadline := time.Now().Add(5 * time.Second)
	for {
		age.mu.Lock()
		n := len(age.inFlight["h1"])
		age.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the message did not finish")
		}
		time.Sleep(time.Millisecond)
	}
	now = clock.Add(500 * time.Second) // idle: the last message's age stays
	want(100)
}
