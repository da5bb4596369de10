package router

import (
	"context"
	"github.com/orderflow/orderflow/adapters/broker"

	"github.com/orderflow/orderflow/ports"
)

// TopicReplayer is the ports.TopicReplayer of the replay use case
// (app/command.ReplayTopic): ReplayTopic over Source, through the routes
// and middleware Config describes.
type TopicReplayer struct {
	Config Config
	Source broker.ReplaySource
}

var _ ports.TopicReplayer = TopicReplayer{}

// Replay implements ports.TopicReplayer.
func (r TopicReplayer) Replay(ctx context.Context, req ports.TopicReplay) (ports.ReplayStats, error) {
	rr := ReplayRequest{Topic: req.Topic, Handler: req.Handler, DryRun: req.DryRun, From: req.From}
	if req.Each != nil {
		rr.Each = func(m broker.StoredMessage, err error) {
			req.Each(ports.ReplayedMessage{Partition: m.Partition, Offset: m.Offset, CreatedAt: m.CreatedAt,
				MessageID: m.Message.UUID, Metadata: m.Message.Metadata}, err)
		}
	}
	st, err := ReplayTopic(ctx, r.Config, r.Source, rr)
	return ports.ReplayStats{Read: st.Read, Handled: st.Handled, LastOffset: st.LastOffset}, err
}
