package router

import (
	"fmt"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/orderflow/orderflow/internal/eventwire"
)

// Every key reaches exactly one of the n partitioned handlers, always the
// same one, and many keys spread over all of them.
func TestPartitionsShareKeysOncePerKey(t *testing.T) {
	const n, keys = 4, 400
	handled := make([]map[string]int, n)
	handlers := make([]message.NoPublishHandlerFunc, n)
	for i := range n {
		handled[i] = map[string]int{}
		handlers[i] = partition(i, n, func(msg *message.Message) error {
			handled[i][msg.Metadata.Get(eventwire.KeyPartition)]++
			return nil
		})
	}
	for k := range keys {
		for range 2 { // each key's two events
			msg := message.NewMessage(fmt.Sprint(k), nil)
			msg.Metadata.Set(eventwire.KeyPartition, fmt.Sprintf("order-%d", k))
			for _, h := range handlers {
				if err := h(msg); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	owners := map[string]int{}
	for i, m := range handled {
		if len(m) < keys/n/2 {
			t.Errorf("partition %d got %d of %d keys: badly spread", i, len(m), keys)
		}
		for key, count := range m {
			if count != 2 {
				t.Errorf("partition %d handled %s %d times, want 2", i, key, count)
			}
			if prev, ok := owners[key]; ok {
				t.Errorf("%s handled by partitions %d and %d", key, prev, i)
			}
			owners[key] = i
		}
	}
	if len(owners) != keys {
		t.Fatalf("%d keys handled, want %d", len(owners), keys)
	}
}
