package router

import (
	"fmt"
	"hash/fnv"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/orderflow/orderflow/internal/eventwire"
)

// PartitionName is the handler name (and consumer group) of partition i of
// n of a partitioned handler.
func PartitionName(handler string, i, n int) string {
	return fmt.Sprintf("%s.p%dof%d", handler, i, n)
}

// partition runs h on the messages whose partition key (the stream id the
// outbox stamps on every event) hashes to i of n, and acks the others at
// once: n handlers over one topic, each in its own consumer group, share
// its messages by key, and every key's messages reach one of them in order.
func partition(i, n int, h message.NoPublishHandlerFunc) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		if partitionOf(msg.Metadata.Get(eventwire.KeyPartition), n) != i {
			return nil
		}
		return h(msg)
	}
}

// partitionOf maps key to one of n partitions (FNV-1a, as stable across
// releases as the consumer groups named after it must be).
func partitionOf(key string, n int) int {
	f := fnv.New32a()
	_, _ = f.Write([]byte(key))
	return int(f.Sum32() % uint32(n))
}
