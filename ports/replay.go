package ports

import (
	"context"
	"time"
)

// ReplayFrom is where a topic replay starts: after Offset (0: the first
// message) and, if Since is set, at the first message created at or after
// Since.
type ReplayFrom struct {
	Offset int64
	Since  time.Time
	// FromPartition resumes a replay of a partitioned topic (Kafka) exactly
	// where it stopped: the partitions before Partition are skipped,
	// Partition starts at Offset, and the later ones at their first message.
	// Without it, Offset applies to every partition.
	FromPartition bool
	Partition     int32
}

// ReplayedMessage is one message of a replayed topic as the broker keeps it.
type ReplayedMessage struct {
	// Partition is the message's partition; -1 on a topic without
	// partitions, where Offset alone places it.
	Partition int32
	Offset    int64
	CreatedAt time.Time
	MessageID string
	Metadata  map[string]string
}

// TopicReplay asks for Topic to be fed through the handler named Handler.
type TopicReplay struct {
	Topic   string
	Handler string
	From    ReplayFrom
	// DryRun reads the messages and reports them without handling any.
	DryRun bool
	// Each, optional, is called for every message read, after it was
	// handled (or, in a dry run, instead), with the handling error.
	Each func(m ReplayedMessage, err error)
}

// ReplayStats sums up a topic replay.
type ReplayStats struct {
	Read       int64
	Handled    int64
	LastOffset int64
}

// TopicReplayer feeds the stored messages of a broker topic through one
// message handler, outside any consumer group (the live handlers' offsets
// do not move), wrapped in the same middleware as the live route: a message
// that can never be handled is parked in the poison queue and the replay
// goes on; a failure that outlives the retries stops it with an error that
// names where to resume. The stats are valid with the error too.
type TopicReplayer interface {
	Replay(ctx context.Context, r TopicReplay) (ReplayStats, error)
}
