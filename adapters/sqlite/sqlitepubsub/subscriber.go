package sqlitepubsub

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/orderflow/orderflow/internal/defaults"
)

// DefaultConsumerGroup is the group of a subscriber configured without one.
const DefaultConsumerGroup = "default"

// ErrSubscriberClosed is returned by Subscribe after Close.
var ErrSubscriberClosed = errors.New("sqlitepubsub: subscriber closed")

// SubscriberConfig configures a Subscriber.
type SubscriberConfig struct {
	// ConsumerGroup names whose offsets the subscriber reads and advances.
	// Every group receives every message of a topic; within a group, each
	// message is handled by one subscriber at a time, whichever process it
	// lives in. A group that never subscribed to a topic starts at its first
	// message. Default DefaultConsumerGroup.
	ConsumerGroup string
	// PollInterval is how long a subscriber with nothing to do waits before
	// it looks for new messages, or for a lease it can take, again. It bounds
	// the delivery latency of an idle subscriber. Default 100ms.
	PollInterval time.Duration
	// NackResendSleep is the pause before a nacked message is delivered
	// again. Default 1s.
	NackResendSleep time.Duration
	// LeaseTimeout is how long a subscriber's claim on a topic for its group
	// lasts unless renewed. The holder renews it while it works (every third
	// of it while a message is being handled), so it only matters when a
	// holder dies: the others take over after at most this long. Default 30s.
	LeaseTimeout time.Duration
	// BatchSize is how many messages one query reads ahead. Read-ahead
	// messages are still delivered one at a time. Default 100.
	BatchSize int
}

func (c *SubscriberConfig) setDefaults() {
	defaults.Set(&c.ConsumerGroup, DefaultConsumerGroup)
	defaults.Set(&c.PollInterval, 100*time.Millisecond)
	defaults.Set(&c.NackResendSleep, time.Second)
	defaults.Set(&c.LeaseTimeout, 30*time.Second)
	defaults.Set(&c.BatchSize, 100)
}

// Validate reports a configuration that cannot work.
func (c SubscriberConfig) Validate() error {
	var errs []error
	if c.PollInterval <= 0 {
		errs = append(errs, errors.New("PollInterval must be positive"))
	}
	if c.NackResendSleep < 0 {
		errs = append(errs, errors.New("NackResendSleep must not be negative"))
	}
	if c.LeaseTimeout < 3*time.Millisecond {
		errs = append(errs, errors.New("LeaseTimeout must be at least 3ms"))
	}
	if c.BatchSize < 1 {
		errs = append(errs, errors.New("BatchSize must be at least 1"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlitepubsub: invalid subscriber config: %w", err)
	}
	return nil
}

// Subscriber delivers the messages of a topic to a consumer group, oldest
// first, with at-least-once semantics.
//
// Each Subscribe call starts one consumer. Before delivering, a consumer
// takes its group's lease on the topic; the lease holder is the only one,
// among all consumers of the group in every process sharing the file, that
// delivers, so messages are handled one at a time in offset order. A consumer
// delivers a message on its channel and waits for Ack or Nack with no
// transaction open (the handler is free to write to the same database). Ack
// advances the group's offset with a compare-and-set on the previous offset
// and the lease; Nack redelivers the same message after NackResendSleep.
// A consumer that lost its lease (it stalled past LeaseTimeout) cannot
// advance the offset, so the new holder redelivers the message: a message may
// be delivered more than once, never skipped.
//
// The message's context is cancelled once it is acked or nacked, and when
// the subscription ends.
type Subscriber struct {
	db     *sql.DB
	cfg    SubscriberConfig
	logger watermill.LoggerAdapter

	closeCtx    context.Context // cancelled by Close
	closeFunc   context.CancelFunc
	mu          sync.Mutex // guards closed and consumers.Add
	closed      bool
	consumers   sync.WaitGroup
	ownerPrefix string // host/pid/ of lease owner ids, for operators
}

var (
	_ message.Subscriber           = (*Subscriber)(nil)
	_ message.SubscribeInitializer = (*Subscriber)(nil)
)

// NewSubscriber returns a Subscriber reading from db. It creates the schema
// if needed. A nil logger logs nothing.
func NewSubscriber(db *sql.DB, cfg SubscriberConfig, logger watermill.LoggerAdapter) (*Subscriber, error) {
	if db == nil {
		return nil, errors.New("sqlitepubsub: nil database")
	}
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = watermill.NopLogger{}
	}
	if err := InitializeSchema(context.Background(), db); err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	closeCtx, closeFunc := context.WithCancel(context.Background())
	return &Subscriber{
		db:          db,
		cfg:         cfg,
		logger:      logger.With(watermill.LogFields{"consumer_group": cfg.ConsumerGroup}),
		closeCtx:    closeCtx,
		closeFunc:   closeFunc,
		ownerPrefix: fmt.Sprintf("%s/%d/", host, os.Getpid()),
	}, nil
}

// Subscribe starts a consumer of topic for the subscriber's group. The
// channel is closed when ctx is cancelled or the Subscriber is closed;
// a message delivered but not yet acked then is delivered again later.
func (s *Subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	if topic == "" {
		return nil, errors.New("sqlitepubsub: empty topic")
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrSubscriberClosed
	}
	s.consumers.Add(1)
	s.mu.Unlock()

	if err := s.SubscribeInitialize(topic); err != nil {
		s.consumers.Done()
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.closeCtx, cancel)
	c := &consumer{
		sub:   s,
		topic: topic,
		owner: s.ownerPrefix + watermill.NewShortUUID(),
		out:   make(chan *message.Message),
	}
	c.logger = s.logger.With(watermill.LogFields{"topic": topic, "lease_owner": c.owner})
	go func() {
		defer s.consumers.Done()
		defer stop()
		defer cancel()
		defer close(c.out)
		c.run(ctx)
	}()
	return c.out, nil
}

// SubscribeInitialize registers the group on topic, at its first message,
// unless it already is.
func (s *Subscriber) SubscribeInitialize(topic string) error {
	_, err := s.db.ExecContext(s.closeCtx,
		`INSERT INTO `+offsetsTable+` (consumer_group, topic) VALUES (?, ?)
		 ON CONFLICT (consumer_group, topic) DO NOTHING`,
		s.cfg.ConsumerGroup, topic)
	if err != nil {
		return fmt.Errorf("sqlitepubsub: register group %q on topic %q: %w", s.cfg.ConsumerGroup, topic, err)
	}
	return nil
}

// Close stops every consumer, waits for them to release their leases and
// close their channels, and makes later Subscribe calls fail. It is
// idempotent and does not close the database.
func (s *Subscriber) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()

	s.closeFunc()
	s.consumers.Wait()
	return nil
}
