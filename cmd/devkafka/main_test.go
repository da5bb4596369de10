package main

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/orderflow/orderflow/adapters/broker/kafka"
)

// TestDevKafkaServesTheKafkaBroker: devkafka prints its address, orderflow's
// Kafka broker publishes and consumes through it, and it stops when its
// context ends (SIGTERM in main).
func TestDevKafkaServesTheKafkaBroker(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--partitions", "2"}, w, io.Discard) }()
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	addr = strings.TrimSpace(addr)
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("address %q", addr)
	}

	b, err := kafka.New(kafka.Config{Brokers: []string{addr}, Partitions: 2}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := b.Subscriber("devkafka-test")
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := sub.Subscribe(ctx, "devkafka.check")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publisher.Publish("devkafka.check", message.NewMessage("m1", []byte("hello"))); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-msgs:
		m.Ack()
		if m.UUID != "m1" || string(m.Payload) != "hello" {
			t.Fatalf("got %s %q", m.UUID, m.Payload)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no message through devkafka within 30s")
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Shutdown(); err != nil {
		t.Fatal(err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("devkafka did not stop")
	}
}
