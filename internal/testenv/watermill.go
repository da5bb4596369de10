package testenv

import (
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// ReceiveAcked subscribes sub to topic, acks n messages and returns their
// UUIDs, failing the test if they do not arrive within 10 s. The
// subscription lives on until the subscriber is closed: cancelling it right
// after the last ack could roll back the batch that records the acks.
func ReceiveAcked(t testing.TB, sub message.Subscriber, topic string, n int) []string {
	t.Helper()
	ch, err := sub.Subscribe(t.Context(), topic)
	if err != nil {
		t.Fatal(err)
	}
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	var ids []string
	for range n {
		select {
		case msg := <-ch:
			ids = append(ids, msg.UUID)
			msg.Ack()
		case <-timeout.C:
			t.Fatalf("received %d of %d messages", len(ids), n)
		}
	}
	return ids
}

// WaitCount polls count until it returns want, failing the test after 10 s
// with what (e.g. "acked rows") and the last count.
func WaitCount(t testing.TB, what string, want int, count func() (int, error)) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := count()
		if err != nil {
			t.Fatal(err)
		}
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d, want %d", what, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
