package router

import (
	"context"
	"errors"
	"fmt"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/orderflow/orderflow/adapters/broker"
)

// ReplayRequest replays Topic through the handler named Handler.
type ReplayRequest struct {
	Topic   string
	Handler string
	From    broker.ReplayFrom
	// DryRun reads the messages and reports them without handling any.
	DryRun bool
	// Each, optional, is called for every message read, after it was
	// handled (or, in a dry run, instead), with the handling error.
	Each func(m broker.StoredMessage, err error)
}

// ReplayStats sums up a replay.
type ReplayStats struct {
	Read       int64
	Handled    int64
	LastOffset int64
}

// ReplayTopic feeds the messages of a topic through one handler of the
// router, wrapped in the router's own middleware (recoverer, correlation id,
// poison queue, retry), so a message is handled exactly as the live router
// would handle it: a permanent failure is parked in the poison queue and the
// replay goes on; a failure that outlives the retries stops the replay with
// an error naming the offset to resume after.
//
// The handler may be given any topic: replaying PoisonTopic through the
// handler that parked its messages retries them after a fix.
func ReplayTopic(ctx context.Context, cfg Config, source broker.ReplaySource, req ReplayRequest) (ReplayStats, error) {
	cfg.setDefaults()
	if source == nil {
		return ReplayStats{}, errors.New("replay: this broker has no replay source")
	}
	var h message.HandlerFunc
	var inbox bool
	for _, rt := range routes(cfg) {
		if rt.name == req.Handler {
			h = func(msg *message.Message) ([]*message.Message, error) { return nil, rt.handler(msg) }
			inbox = rt.inbox
		}
	}
	if h == nil {
		return ReplayStats{}, fmt.Errorf("replay: unknown handler %q (known: %s)", req.Handler, HandlerNames(cfg))
	}
	if !req.DryRun {
		mw, err := routeMiddlewares(inbox, cfg.Reliability, cfg.Broker.Publisher, cfg.Registry, watermill.NewSlogLogger(cfg.Logger))
		if err != nil {
			return ReplayStats{}, err
		}
		for i := len(mw) - 1; i >= 0; i-- {
			h = mw[i](h)
		}
	}
	var st ReplayStats
	err := source.Read(ctx, req.Topic, req.From, func(m broker.StoredMessage) error {
		st.Read++
		var err error
		if !req.DryRun {
			m.Message.SetContext(withRoute(ctx, req.Handler, req.Topic))
			if _, err = h(m.Message); err == nil {
				st.Handled++
			}
		}
		if req.Each != nil {
			req.Each(m, err)
		}
		if err != nil {
			if m.Partition >= 0 {
				// A Kafka partition starts at its offset itself: this resumes
				// with the message that failed.
				return fmt.Errorf("replay %s: message %s at partition %d offset %d: %w (resume with --from-partition %d --from-offset %d)",
					req.Topic, m.Message.UUID, m.Partition, m.Offset, err, m.Partition, m.Offset)
			}
			return fmt.Errorf("replay %s: message %s at offset %d: %w (resume with --from-offset %d)",
				req.Topic, m.Message.UUID, m.Offset, err, st.LastOffset)
		}
		st.LastOffset = m.Offset
		return nil
	})
	return st, err
}

// HandlerNames lists the handlers ReplayTopic knows.
func HandlerNames(cfg Config) []string {
	var names []string
	for _, rt := range routes(cfg) {
		names = append(names, rt.name)
	}
	return names
}
