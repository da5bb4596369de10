// Package nats is the NATS JetStream broker: watermill-nats/v2's jetstream
// publisher, a stream per topic created on first use, and this package's
// subscriber on durable pull consumers that outlive it. It registers itself
// as broker.NATS.
package nats

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmjs "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/jetstream"
	"github.com/ThreeDotsLabs/watermill/message"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/orderflow/orderflow/adapters/broker"
)

// Config configures the NATS JetStream broker.
type Config struct {
	// URL of the NATS server, e.g. nats://127.0.0.1:4222.
	URL string
	// AckWait is how long the server waits for an ack before redelivering a
	// message; it must exceed the longest handler run. Default 30s.
	AckWait time.Duration
}

// natsName turns a topic or group into a JetStream stream, subject or
// consumer name: those may not contain '.', '*', '>' or white space, and the
// publisher publishes to the stream's name as its subject.
func natsName(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '.', '*', '>', ' ', '\t', '/', '\\':
			return '_'
		}
		return r
	}, s)
}

func natsStream(topic string) jetstream.StreamConfig {
	name := natsName(topic)
	return jetstream.StreamConfig{
		Name:     name,
		Subjects: []string{name},
		// Limits, not work-queue, retention: every consumer group (durable
		// consumer) sees every message.
		Retention: jetstream.LimitsPolicy,
		Storage:   jetstream.FileStorage,
	}
}

// New connects to NATS JetStream: watermill-nats/v2's jetstream
// Publisher, and this package's subscriber on durable pull consumers
// (natsSubscriber; watermill-nats' own can panic when a subscription ends).
//
// Traps, and how they are avoided:
//   - A JetStream publish to a subject no stream captures fails ("no
//     responders"): the stream of a topic is created before the first
//     publish or subscribe to it (and left alone if it exists).
//   - Consumers must outlive a subscriber: watermill's default consumer is
//     ephemeral and deleted on Close, and nats.go's legacy js.Subscribe
//     deletes a consumer it created itself on Unsubscribe/Drain, so a
//     restarted process would start over (redeliver everything, or miss what
//     was published while it was down). Here every (consumer group, topic)
//     gets a durable pull consumer created up front with
//     CreateOrUpdateConsumer, which nothing deletes; processes of the same
//     group share it, and a restart resumes at its ack floor.
//   - Each subscriber has its own connection and closes it on Close.
func New(cfg Config, logger watermill.LoggerAdapter) (broker.Broker, error) {
	if cfg.URL == "" {
		return broker.Broker{}, errors.New("nats: URL is required")
	}
	if cfg.AckWait == 0 {
		cfg.AckWait = 30 * time.Second
	}
	connect := func(name string, opts ...natsgo.Option) (*natsgo.Conn, error) {
		nc, err := natsgo.Connect(cfg.URL, append(opts, natsgo.Name(name), natsgo.MaxReconnects(-1))...)
		if err != nil {
			return nil, fmt.Errorf("nats: connect to %s: %w", cfg.URL, err)
		}
		return nc, nil
	}
	admin, err := connect("orderflow-admin")
	if err != nil {
		return broker.Broker{}, err
	}
	js, err := jetstream.New(admin)
	if err != nil {
		admin.Close()
		return broker.Broker{}, fmt.Errorf("nats: jetstream: %w", err)
	}
	ensurer := broker.NewTopicEnsurer(func(topic string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := js.CreateStream(ctx, natsStream(topic))
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return nil // exists, perhaps configured by an operator: keep it
		}
		return err
	})
	pubConn, err := connect("orderflow-publisher")
	if err != nil {
		admin.Close()
		return broker.Broker{}, err
	}
	pub, err := wmjs.NewPublisher(wmjs.PublisherConfig{Conn: pubConn, Logger: logger, ConfigureStream: natsStream})
	if err != nil {
		pubConn.Close()
		admin.Close()
		return broker.Broker{}, fmt.Errorf("nats: publisher: %w", err)
	}
	return broker.Broker{
		Name:      broker.NATS,
		Publisher: ensurer.Publisher(pub),
		Subscriber: func(group string) (message.Subscriber, error) {
			closed := make(chan struct{})
			nc, err := connect("orderflow-"+group, natsgo.ClosedHandler(func(*natsgo.Conn) { close(closed) }))
			if err != nil {
				return nil, err
			}
			js, err := jetstream.New(nc)
			if err != nil {
				nc.Close()
				return nil, fmt.Errorf("nats: jetstream for %s: %w", group, err)
			}
			sub := &natsSubscriber{nc: nc, js: js, group: group, ackWait: cfg.AckWait, logger: logger,
				closing: make(chan struct{}), connDone: closed}
			return ensurer.Subscriber(sub), nil
		},
		Ping: func(ctx context.Context) error {
			_, err := js.AccountInfo(ctx)
			return err
		},
		Close: func() error {
			err := pub.Close() // closes pubConn
			admin.Close()
			return err
		},
	}, nil
}

// natsDurableConsumer creates (or updates) the durable pull consumer of one
// consumer group on one topic's stream. Nothing ever deletes it: the
// consumer and its ack floor survive the subscriber, and the processes of
// the group share it.
func natsDurableConsumer(ctx context.Context, js jetstream.JetStream, topic, group string, ackWait time.Duration) (jetstream.Consumer, error) {
	stream, err := js.Stream(ctx, natsStream(topic).Name)
	if err != nil {
		return nil, fmt.Errorf("nats: stream of topic %s: %w", topic, err)
	}
	consumer, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       natsName(group),
		AckPolicy:     jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckWait:       ackWait,
		MaxDeliver:    -1,
	})
	if err != nil {
		return nil, fmt.Errorf("nats: durable consumer %s on %s: %w", group, topic, err)
	}
	return consumer, nil
}

func init() {
	broker.Register(broker.NATS, func(_ context.Context, cfg broker.Config) (broker.Broker, error) {
		return New(Config{URL: cfg.URL}, cfg.Logger)
	})
}
