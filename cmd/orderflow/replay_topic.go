package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/orderflow/orderflow/adapters/broker"
	"github.com/orderflow/orderflow/app"
	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/internal/eventwire"
	"github.com/orderflow/orderflow/ports"
	"github.com/orderflow/orderflow/router"
	"github.com/orderflow/orderflow/service"
)

// replayTopic feeds a broker topic through one handler's route and
// middleware (the ReplayTopic use case over router.TopicReplayer).
func replayTopic(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		c                     service.Config
		topic, handler, since string
		fromOffset            int64
		fromPartition         int
		dryRun                bool
	)
	if err := parseFlags("replay-topic", args, stderr, &c, func(f flags) {
		// The broker to read: the same flags (and environment) as serve.
		f.brokerFlags(&c.BrokerConfig)
		f.fs.StringVar(&topic, "topic", "", "the broker topic to replay, e.g. "+router.EventTopic("order")+" or "+router.PoisonTopic)
		f.fs.StringVar(&handler, "handler", "", "the handler to replay it through, e.g. "+router.HandlerOrderSummary)
		f.fs.Int64Var(&fromOffset, "from-offset", 0, "replay the messages after this offset (0: from the first); on Kafka, from this offset of every partition, or of --from-partition")
		f.fs.IntVar(&fromPartition, "from-partition", -1, "Kafka: resume where a replay stopped: skip the partitions before this one, start it at --from-offset, the later ones at their first message")
		f.fs.StringVar(&since, "since", "", "replay the messages created at or after this RFC 3339 time")
		f.fs.BoolVar(&dryRun, "dry-run", false, "print what would be replayed, handle nothing")
	}); err != nil {
		return err
	}
	errs := []error{c.Validate()}
	if topic == "" || handler == "" {
		errs = append(errs, errors.New("--topic and --handler are required"))
	}
	if fromOffset < 0 {
		errs = append(errs, errors.New("--from-offset must be 0 or more"))
	}
	from := ports.ReplayFrom{Offset: fromOffset}
	if fromPartition >= 0 {
		if c.Broker != broker.Kafka {
			errs = append(errs, fmt.Errorf("--from-partition: only Kafka topics have partitions, not %s ones", c.Broker))
		}
		from.FromPartition, from.Partition = true, int32(fromPartition)
	}
	if since != "" {
		t, err := time.Parse(time.RFC3339Nano, since)
		if err != nil {
			errs = append(errs, fmt.Errorf("--since %q: want an RFC 3339 time", since))
		}
		from.Since = t
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}

	return withAdmin(ctx, c, func(admin app.Admin, logger *slog.Logger) error {
		stats, err := admin.ReplayTopic.Handle(ctx, command.ReplayTopic{
			Topic: topic, Handler: handler, From: from, DryRun: dryRun,
			Each: func(m ports.ReplayedMessage, err error) {
				md := m.Metadata
				if dryRun {
					if m.Partition >= 0 {
						fmt.Fprintf(stdout, "partition=%d ", m.Partition)
					}
					fmt.Fprintf(stdout, "offset=%d created_at=%s uuid=%s event_type=%s stream=%s-%s version=%s\n",
						m.Offset, m.CreatedAt.UTC().Format(time.RFC3339Nano), m.MessageID, md[eventwire.KeyEventType],
						md[eventwire.KeyStreamType], md[eventwire.KeyStreamID], md[eventwire.KeyVersion])
					return
				}
				logger.Debug("replayed", "offset", m.Offset, "uuid", m.MessageID, "error", err)
			},
		})
		verb := "replayed"
		if dryRun {
			verb = "would replay"
		}
		fmt.Fprintf(stdout, "%s %d messages of %s through %s (handled %d); last offset %d\n",
			verb, stats.Read, topic, handler, stats.Handled, stats.LastOffset)
		return err
	})
}
