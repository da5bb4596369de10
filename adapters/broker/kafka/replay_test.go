package kafka_test

import (
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/orderflow/orderflow/adapters/broker"
	"github.com/orderflow/orderflow/internal/eventwire"
)

// The replay source reads a namespaced, partitioned topic outside any
// consumer group: every message as the subscriber would decode it, per
// partition in offset order, from an offset or a time.
func TestReplaySource(t *testing.T) {
	b := open(t)
	const topic = "orders.events.v1"
	publish := func(batch string, n int) map[string]*message.Message {
		sent := map[string]*message.Message{}
		for i := range n {
			msg := message.NewMessage(fmt.Sprintf("0193a1b2-0000-7000-8000-%s%011d", batch, i), []byte(fmt.Sprint(i)))
			msg.Metadata.Set(eventwire.KeyPartition, fmt.Sprintf("order-%s-%02d", batch, i))
			msg.Metadata.Set(eventwire.KeyEventType, "order.placed.v2")
			if err := b.Publisher.Publish(topic, msg); err != nil {
				t.Fatal(err)
			}
			sent[msg.UUID] = msg
		}
		return sent
	}
	read := func(from broker.ReplayFrom) []broker.StoredMessage {
		t.Helper()
		var got []broker.StoredMessage
		if err := b.Replay.Read(t.Context(), topic, from, func(m broker.StoredMessage) error {
			got = append(got, m)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}

	start := time.Now().Add(-time.Second)
	first := publish("a", 12)
	all := read(broker.ReplayFrom{})
	if len(all) != len(first) {
		t.Fatalf("replay from 0 read %d messages, want %d", len(all), len(first))
	}
	// Partitions come one after another, each from offset 0 with no gap.
	var perPartition []int
	for i, m := range all {
		want, ok := first[m.Message.UUID]
		if !ok || string(m.Message.Payload) != string(want.Payload) || !maps.Equal(m.Message.Metadata, want.Metadata) {
			t.Fatalf("message %d: %s %v, want one of those sent (metadata %v)", i, m.Message.UUID, m.Message.Metadata, want)
		}
		if m.CreatedAt.Before(start) || m.CreatedAt.After(time.Now()) {
			t.Fatalf("message %s: record timestamp %s out of the test's window", m.Message.UUID, m.CreatedAt)
		}
		if m.Offset == 0 {
			perPartition = append(perPartition, 0)
		} else if i == 0 || m.Offset != all[i-1].Offset+1 {
			t.Fatalf("message %d at offset %d after offset %d", i, m.Offset, all[i-1].Offset)
		}
		perPartition[len(perPartition)-1]++
	}
	if len(perPartition) < 2 {
		t.Fatalf("12 aggregates read from %d partition(s)", len(perPartition))
	}

	// Resuming at a partition and offset reads exactly the rest of a full
	// read: what it stopped at, and everything after it.
	resumeAt := perPartition[0] + min(1, perPartition[1]-1) // within the second partition
	rest := read(broker.ReplayFrom{FromPartition: true, Partition: all[resumeAt].Partition, Offset: all[resumeAt].Offset})
	if len(rest) != len(all)-resumeAt {
		t.Fatalf("resume at partition %d offset %d read %d messages, want %d", all[resumeAt].Partition, all[resumeAt].Offset, len(rest), len(all)-resumeAt)
	}
	for i, m := range rest {
		if w := all[resumeAt+i]; m.Message.UUID != w.Message.UUID || m.Partition != w.Partition || m.Offset != w.Offset {
			t.Fatalf("resumed message %d: %s at %d/%d, want %s at %d/%d", i, m.Message.UUID, m.Partition, m.Offset, w.Message.UUID, w.Partition, w.Offset)
		}
	}
	if err := b.Replay.Read(t.Context(), topic, broker.ReplayFrom{FromPartition: true, Partition: 7}, func(broker.StoredMessage) error { return nil }); err == nil {
		t.Fatal("resume at partition 7 of a 3-partition topic: no error")
	}

	wantFrom2 := 0
	for _, n := range perPartition {
		wantFrom2 += max(0, n-2)
	}
	from2 := read(broker.ReplayFrom{Offset: 2})
	if len(from2) != wantFrom2 {
		t.Fatalf("--from-offset 2 read %d messages, want %d (partition sizes %v)", len(from2), wantFrom2, perPartition)
	}
	for _, m := range from2 {
		if m.Offset < 2 {
			t.Fatalf("--from-offset 2 read offset %d", m.Offset)
		}
	}

	// Since: a millisecond boundary after every record of the first batch
	// and at or before every record of the second.
	since := time.Now().Truncate(time.Millisecond).Add(time.Millisecond)
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(since) {
		if time.Now().After(deadline) {
			t.Fatal("the clock did not pass the boundary")
		}
	}
	second := publish("b", 6)
	got := read(broker.ReplayFrom{Since: since})
	if len(got) != len(second) {
		t.Fatalf("--since read %d messages, want the %d published after it", len(got), len(second))
	}
	for _, m := range got {
		if second[m.Message.UUID] == nil || m.CreatedAt.Before(since) {
			t.Fatalf("--since %s read %s stamped %s", since, m.Message.UUID, m.CreatedAt)
		}
	}
	if n := len(read(broker.ReplayFrom{Since: time.Now().Add(time.Hour)})); n != 0 {
		t.Fatalf("--since in the future read %d messages", n)
	}

	// The first error of fn stops the read and is returned.
	stop, calls := errors.New("stop"), 0
	err := b.Replay.Read(t.Context(), topic, broker.ReplayFrom{}, func(broker.StoredMessage) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Fatalf("fn failing at the 3rd message: %v after %d calls", err, calls)
	}

	if err := b.Replay.Read(t.Context(), "never.published.v1", broker.ReplayFrom{}, func(broker.StoredMessage) error {
		t.Fatal("a message on a topic never published to")
		return nil
	}); err != nil {
		t.Fatalf("unknown topic: %v", err)
	}
}
