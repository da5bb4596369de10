package broker_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/orderflow/orderflow/adapters/broker"
	_ "github.com/orderflow/orderflow/adapters/broker/all"
)

// TestEveryBrokerIsRegistered: package all registers every --broker value.
func TestEveryBrokerIsRegistered(t *testing.T) {
	want := []string{broker.AMQP, broker.Kafka, broker.Memory, broker.NATS, broker.Postgres, broker.Redis, broker.SQLite}
	if got := broker.Names(); !slices.Equal(got, want) {
		t.Fatalf("registered brokers %v, want %v", got, want)
	}
}

// TestOpen: Open builds the named broker, wrapped in the namespace; an
// unknown name lists the known ones; a store broker without the store's
// handle is an error.
func TestOpen(t *testing.T) {
	ctx := context.Background()
	b, err := broker.Open(ctx, broker.Memory, broker.Config{Namespace: "ns."})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Shutdown() })
	if b.Name != broker.Memory {
		t.Fatalf("opened %q", b.Name)
	}
	raw, err := b.Subscriber("g")
	if err != nil {
		t.Fatal(err)
	}
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := raw.Subscribe(subCtx, "topic")
	if err != nil {
		t.Fatal(err)
	}
	published := make(chan error, 1)
	// The memory broker's Publish returns once the subscriber acked.
	go func() { published <- b.Publisher.Publish("topic", message.NewMessage("m1", nil)) }()
	m := <-ch
	m.Ack()
	if m.UUID != "m1" {
		t.Fatalf("got %s", m.UUID)
	}
	if err := <-published; err != nil {
		t.Fatal(err)
	}

	_, err = broker.Open(ctx, "kinesis", broker.Config{})
	if err == nil || !strings.Contains(err.Error(), broker.Kafka) {
		t.Fatalf("unknown broker: %v", err)
	}
	if _, err := broker.Open(ctx, broker.SQLite, broker.Config{}); !errors.Is(err, broker.ErrStoreDB) {
		t.Fatalf("sqlite without the store's *sql.DB: %v", err)
	}
}
