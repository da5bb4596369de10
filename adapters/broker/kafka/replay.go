package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/IBM/sarama"
	"github.com/orderflow/orderflow/adapters/broker"
)

// ReplaySource reads a Kafka topic with a plain partition consumer:
// no consumer group is joined and no offset is committed, so the live
// handlers' offsets stay where they are.
//
// Kafka offsets are per partition, so broker.ReplayFrom applies to each partition:
// Offset N starts every partition at its offset N (0: the first message
// still stored; Kafka counts from 0, so N itself is read, unlike the SQL
// sources which start after N), and Since starts it at the first offset
// whose record timestamp is at or after Since (ListOffsets by time); with
// both, the later of the two. Records stamped before Since are skipped.
//
// Partitions are read one after another, in partition order; within a
// partition messages come in offset order, up to the high watermark seen
// when that partition's read began. broker.StoredMessage.Partition and Offset
// place the message and CreatedAt is the record timestamp. Because the
// order is fixed, a replay that stopped at partition P offset N resumes
// exactly with broker.ReplayFrom{FromPartition: true, Partition: P, Offset: N}:
// the partitions before P are skipped, P starts at N and the later ones at
// their first message.
type ReplaySource struct{ Config Config }

var _ broker.ReplaySource = ReplaySource{}

// Read implements broker.ReplaySource.
func (s ReplaySource) Read(ctx context.Context, topic string, from broker.ReplayFrom, fn func(broker.StoredMessage) error) error {
	cfg := s.Config
	cfg.setDefaults()
	sc := saramaConfig(cfg)
	// Asking for a topic that was never published to must not create it.
	sc.Metadata.AllowAutoTopicCreation = false
	client, err := sarama.NewClient(cfg.Brokers, sc)
	if err != nil {
		return fmt.Errorf("replay %s: connect to %v: %w", topic, cfg.Brokers, err)
	}
	defer client.Close()
	partitions, err := client.Partitions(topic)
	if errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
		return nil // nothing was ever published to it
	}
	if err != nil {
		return fmt.Errorf("replay %s: partitions: %w", topic, err)
	}
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return fmt.Errorf("replay %s: consumer: %w", topic, err)
	}
	defer consumer.Close()
	if from.FromPartition && !slices.Contains(partitions, from.Partition) {
		return fmt.Errorf("replay %s: no partition %d (the topic has %d)", topic, from.Partition, len(partitions))
	}
	slices.Sort(partitions)
	for _, p := range partitions {
		pfrom := from
		if from.FromPartition {
			if p < from.Partition {
				continue
			}
			if p > from.Partition {
				pfrom.Offset = 0
			}
		}
		if err := s.readPartition(ctx, client, consumer, topic, p, pfrom, fn); err != nil {
			return err
		}
	}
	return nil
}

func (s ReplaySource) readPartition(ctx context.Context, client sarama.Client, consumer sarama.Consumer,
	topic string, p int32, from broker.ReplayFrom, fn func(broker.StoredMessage) error,
) error {
	start, end, err := partitionRange(client, topic, p, from)
	if err != nil {
		return fmt.Errorf("replay %s partition %d: %w", topic, p, err)
	}
	if start >= end {
		return nil
	}
	pc, err := consumer.ConsumePartition(topic, p, start)
	if err != nil {
		return fmt.Errorf("replay %s partition %d from %d: %w", topic, p, start, err)
	}
	defer pc.AsyncClose()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case cerr, ok := <-pc.Errors():
			if ok {
				return fmt.Errorf("replay %s partition %d: %w", topic, p, cerr)
			}
		case rec, ok := <-pc.Messages():
			if !ok {
				return fmt.Errorf("replay %s partition %d: consumer closed before offset %d", topic, p, end-1)
			}
			if rec.Offset >= end {
				return nil
			}
			if !rec.Timestamp.Before(from.Since) {
				msg, err := kafkaMarshaler.Unmarshal(rec)
				if err != nil {
					return fmt.Errorf("replay %s partition %d offset %d: %w", topic, p, rec.Offset, err)
				}
				if err := fn(broker.StoredMessage{Partition: p, Offset: rec.Offset, CreatedAt: rec.Timestamp, Message: msg}); err != nil {
					return err
				}
			}
			if rec.Offset >= end-1 {
				return nil
			}
		}
	}
}

// partitionRange is the offsets [start, end) a replay reads from partition
// p: end is the high watermark now.
func partitionRange(client sarama.Client, topic string, p int32, from broker.ReplayFrom) (start, end int64, err error) {
	if end, err = client.GetOffset(topic, p, sarama.OffsetNewest); err != nil {
		return 0, 0, fmt.Errorf("high watermark: %w", err)
	}
	oldest, err := client.GetOffset(topic, p, sarama.OffsetOldest)
	if err != nil {
		return 0, 0, fmt.Errorf("oldest offset: %w", err)
	}
	start = max(from.Offset, oldest)
	if !from.Since.IsZero() {
		at, err := client.GetOffset(topic, p, from.Since.UnixMilli())
		if err != nil {
			return 0, 0, fmt.Errorf("offset at %s: %w", from.Since, err)
		}
		if at < 0 { // no record at or after Since
			at = end
		}
		start = max(start, at)
	}
	return start, end, nil
}
