package command

import (
	"context"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/wire"
	"github.com/orderflow/orderflow/ports"
)

// ReplayTopic feeds the stored messages of a broker topic through one
// message handler, with the live route's middleware (ports.TopicReplayer).
// Replaying a topic re-handles what was handled: every handler is
// idempotent, so the effect is to restore what was lost, or, given the
// poison topic, to retry parked messages after a fix.
type ReplayTopic struct {
	Topic   string
	Handler string
	From    ports.ReplayFrom
	// DryRun reads the messages and reports them through Each without
	// handling any.
	DryRun bool
	// Each, optional, is called for every message read, after it was
	// handled (or, in a dry run, instead), with the handling error.
	Each func(m ports.ReplayedMessage, err error)
}

// ReplayTopicHandler runs ReplayTopic.
type ReplayTopicHandler struct{ replayer ports.TopicReplayer }

func NewReplayTopicHandler(replayer ports.TopicReplayer) ReplayTopicHandler {
	return ReplayTopicHandler{replayer: wire.Need(replayer, "command: nil topic replayer")}
}

// Handle returns apperr.Invalid without Topic or Handler or with a negative
// offset; otherwise the replayer's stats and error, as they are.
func (h ReplayTopicHandler) Handle(ctx context.Context, cmd ReplayTopic) (ports.ReplayStats, error) {
	var fields []apperr.FieldError
	if cmd.Topic == "" {
		fields = append(fields, apperr.FieldError{Field: "topic", Message: "is required"})
	}
	if cmd.Handler == "" {
		fields = append(fields, apperr.FieldError{Field: "handler", Message: "is required"})
	}
	if cmd.From.Offset < 0 {
		fields = append(fields, apperr.FieldError{Field: "from.offset", Message: "must be 0 or more"})
	}
	if err := apperr.Validation("invalid replay", fields); err != nil {
		return ports.ReplayStats{}, err
	}
	return h.replayer.Replay(ctx, ports.TopicReplay{Topic: cmd.Topic, Handler: cmd.Handler, From: cmd.From,
		DryRun: cmd.DryRun, Each: cmd.Each})
}
