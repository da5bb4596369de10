package sqlitepubsub

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
)

// Executor runs one statement. *sql.DB, *sql.Tx and *sql.Conn satisfy it.
type Executor interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// ErrPublisherClosed is returned by Publish after Close.
var ErrPublisherClosed = errors.New("sqlitepubsub: publisher closed")

// maxRowsPerInsert keeps one INSERT well under SQLite's bound-parameter limit
// (5 parameters a row).
const maxRowsPerInsert = 500

// PublisherConfig configures a Publisher. It has no options yet; it exists so
// that adding one does not change NewPublisher's signature.
type PublisherConfig struct{}

func (c *PublisherConfig) setDefaults() {}

// Validate reports a configuration that cannot work.
func (c PublisherConfig) Validate() error { return nil }

// Publisher writes messages to the messages table through an Executor.
//
// On a *sql.Tx the messages become visible to subscribers when, and only
// when, the transaction commits; a rollback discards them. On a *sql.DB or
// *sql.Conn each Publish call of up to 500 messages is one INSERT statement
// and so atomic; larger calls are split and may be partly written on error.
// Messages of one Publish call are numbered in argument order, so they are
// delivered in that order. The publisher never retries: an error means the
// statement failed, and on a transaction the caller should roll back.
type Publisher struct {
	db     Executor
	logger watermill.LoggerAdapter
	closed atomic.Bool
}

var _ message.Publisher = (*Publisher)(nil)

// NewPublisher returns a Publisher writing through db, which may be a
// transaction. The schema must exist (InitializeSchema). A nil logger logs
// nothing.
func NewPublisher(db Executor, cfg PublisherConfig, logger watermill.LoggerAdapter) (*Publisher, error) {
	if db == nil {
		return nil, errors.New("sqlitepubsub: nil executor")
	}
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = watermill.NopLogger{}
	}
	return &Publisher{db: db, logger: logger}, nil
}

// Publish appends messages to topic. The statement runs with the first
// message's context.
func (p *Publisher) Publish(topic string, messages ...*message.Message) error {
	if topic == "" {
		return errors.New("sqlitepubsub: empty topic")
	}
	all := make([]Addressed, len(messages))
	for i, m := range messages {
		all[i] = Addressed{Topic: topic, Msg: m}
	}
	return p.PublishAll(all)
}

// Addressed is a message and the topic it is bound for.
type Addressed struct {
	Topic string
	Msg   *message.Message
}

// PublishAll appends messages bound for any topics, numbered in slice order
// (so each topic's messages are delivered in it), with one INSERT per 500
// of them: the outbox forwarder's batch, which interleaves three topics,
// is one statement (one write transaction of the file) instead of one per
// run of a topic. The statement runs with the first message's context.
func (p *Publisher) PublishAll(messages []Addressed) error {
	if p.closed.Load() {
		return ErrPublisherClosed
	}
	if len(messages) == 0 {
		return nil
	}
	for _, m := range messages {
		if m.Topic == "" {
			return errors.New("sqlitepubsub: empty topic")
		}
	}
	ctx := messages[0].Msg.Context()
	createdAt := time.Now().UTC().Format(time.RFC3339Nano)
	for start := 0; start < len(messages); start += maxRowsPerInsert {
		batch := messages[start:min(start+maxRowsPerInsert, len(messages))]
		query, args, err := insertQuery(createdAt, batch)
		if err != nil {
			return err
		}
		if _, err := p.db.ExecContext(ctx, query, args...); err != nil {
			return fmt.Errorf("sqlitepubsub: insert %d messages (topic %q first): %w", len(batch), batch[0].Topic, err)
		}
	}
	p.logger.Trace("Messages published", watermill.LogFields{"topic": messages[0].Topic, "count": len(messages)})
	return nil
}

func insertQuery(createdAt string, messages []Addressed) (string, []any, error) {
	var b strings.Builder
	b.WriteString(`INSERT INTO ` + messagesTable + ` (topic, uuid, payload, metadata, created_at) VALUES `)
	args := make([]any, 0, 5*len(messages))
	for i, m := range messages {
		msg := m.Msg
		metadata, err := json.Marshal(msg.Metadata)
		if err != nil {
			return "", nil, fmt.Errorf("sqlitepubsub: encode metadata of message %s: %w", msg.UUID, err)
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?)")
		payload := []byte(msg.Payload)
		if payload == nil {
			payload = []byte{}
		}
		args = append(args, m.Topic, msg.UUID, payload, string(metadata), createdAt)
	}
	return b.String(), args, nil
}

// Close makes later Publish calls fail. It does not close the Executor,
// which the caller owns.
func (p *Publisher) Close() error {
	p.closed.Store(true)
	return nil
}
