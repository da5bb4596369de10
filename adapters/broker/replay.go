package broker

import (
	"context"
	"github.com/orderflow/orderflow/ports"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// ReplayFrom is where a topic replay starts (ports.ReplayFrom: the replay
// use case and the brokers' replay sources share it).
type ReplayFrom = ports.ReplayFrom

// StoredMessage is one message of a topic as the broker keeps it.
type StoredMessage struct {
	// Partition is the Kafka partition of the message; -1 on a source
	// without partitions, where Offset alone places it.
	Partition int32
	Offset    int64
	CreatedAt time.Time
	Message   *message.Message
}

// ReplaySource reads a broker topic from a point, outside any consumer
// group, so a replay never moves the live handlers' offsets.
//
// Read calls fn with each message of topic from `from`, in offset order,
// up to the last message stored when Read began; it stops at fn's first
// error and returns it.
//
// The SQL brokers read their message tables directly (package sql's
// PostgresReplaySource and SQLiteReplaySource). Package kafka's ReplaySource
// reads partitions one after another with no consumer group; its offsets
// are per partition, so Offset applies to each (and is where each
// partition starts, Kafka counting from 0), unless FromPartition names the
// one partition it applies to.
type ReplaySource interface {
	Read(ctx context.Context, topic string, from ReplayFrom, fn func(StoredMessage) error) error
}
