package kafka

import (
	"errors"
	"fmt"

	"github.com/IBM/sarama"
	"github.com/orderflow/orderflow/adapters/broker"
)

// kafkaBatchProducer publishes a batch with one SyncProducer.SendMessages:
// Sarama groups the messages by partition leader into produce requests, so
// a batch of a hundred messages costs a few round trips instead of a hundred
// (watermill-kafka's Publisher sends one message and waits for its ack
// before the next). It marshals exactly like the broker's Publisher
// (kafkaMarshaler: same key, headers and UUID) and uses the same Sarama
// settings, RequiredAcks WaitForAll included.
type kafkaBatchProducer struct {
	producer sarama.SyncProducer
	ensurer  *broker.TopicEnsurer
}

func newKafkaBatchProducer(cfg Config, ensurer *broker.TopicEnsurer) (*kafkaBatchProducer, error) {
	sc := saramaConfig(cfg)
	// One produce request in flight per broker connection. With several,
	// a request that fails and is retried can be overtaken by the next one
	// for the same partition, and one aggregate's events would land out of
	// order. The per-message publisher never has two messages in flight, so
	// it did not need this; a batch does.
	sc.Net.MaxOpenRequests = 1
	p, err := sarama.NewSyncProducer(cfg.Brokers, sc)
	if err != nil {
		return nil, fmt.Errorf("kafka: batch producer: %w", err)
	}
	return &kafkaBatchProducer{producer: p, ensurer: ensurer}, nil
}

// publish returns nil once Kafka acknowledged every message on all in-sync
// replicas. On error some messages may have been written: the caller
// publishes the whole batch again (consumers deduplicate by message UUID).
func (p *kafkaBatchProducer) publish(msgs []broker.TopicMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	pms := make([]*sarama.ProducerMessage, len(msgs))
	for i, m := range msgs {
		if err := p.ensurer.Ensure(m.Topic); err != nil {
			return err
		}
		pm, err := kafkaMarshaler.Marshal(m.Topic, m.Msg)
		if err != nil {
			return fmt.Errorf("kafka: marshal message %s for %s: %w", m.Msg.UUID, m.Topic, err)
		}
		pms[i] = pm
	}
	if err := p.producer.SendMessages(pms); err != nil {
		var perrs sarama.ProducerErrors
		if errors.As(err, &perrs) && len(perrs) > 0 {
			return fmt.Errorf("kafka: %d of %d messages not acknowledged (first on %s: %w)",
				len(perrs), len(pms), perrs[0].Msg.Topic, perrs[0].Err)
		}
		return fmt.Errorf("kafka: send %d messages: %w", len(pms), err)
	}
	return nil
}

func (p *kafkaBatchProducer) close() error { return p.producer.Close() }
