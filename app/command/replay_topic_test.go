package command_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/orderflow/orderflow/app"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/ports"
)

// replayer is a broker topic of two messages; the second fails to handle.
type replayer struct {
	got   []ports.TopicReplay
	fails error
}

func (r *replayer) Replay(_ context.Context, req ports.TopicReplay) (ports.ReplayStats, error) {
	r.got = append(r.got, req)
	msgs := []ports.ReplayedMessage{
		{Partition: -1, Offset: 1, CreatedAt: time.Unix(1, 0), MessageID: "m1", Metadata: map[string]string{"event_type": "order.placed.v2"}},
		{Partition: -1, Offset: 2, CreatedAt: time.Unix(2, 0), MessageID: "m2"},
	}
	var st ports.ReplayStats
	for i, m := range msgs {
		st.Read++
		var err error
		if i == 1 {
			err = r.fails
		}
		if req.Each != nil {
			req.Each(m, err)
		}
		if err != nil {
			return st, err
		}
		st.Handled++
		st.LastOffset = m.Offset
	}
	return st, nil
}

// metrics records the use cases the decorator observed.
type metrics struct{ names []string }

func (m *metrics) ObserveUseCase(_ context.Context, name, outcome string, _ time.Duration) {
	m.names = append(m.names, name+":"+outcome)
}

func TestReplayTopic(t *testing.T) {
	rp := &replayer{}
	rec := &metrics{}
	a := app.NewAdmin(app.AdminDeps{Replayer: rp, Logger: slog.New(slog.DiscardHandler), Metrics: rec})
	var seen []string
	from := ports.ReplayFrom{Offset: 3, Since: time.Unix(5, 0), FromPartition: true, Partition: 2}
	st, err := a.ReplayTopic.Handle(t.Context(), command.ReplayTopic{Topic: "orderflow.order.events.v1",
		Handler: "orderflow.projection.order_summary.v1", From: from, DryRun: true,
		Each: func(m ports.ReplayedMessage, _ error) { seen = append(seen, m.MessageID) }})
	if err != nil || st != (ports.ReplayStats{Read: 2, Handled: 2, LastOffset: 2}) {
		t.Fatalf("replay = %+v, %v", st, err)
	}
	if len(rp.got) != 1 || rp.got[0].Topic != "orderflow.order.events.v1" || rp.got[0].Handler != "orderflow.projection.order_summary.v1" ||
		rp.got[0].From != from || !rp.got[0].DryRun {
		t.Fatalf("replayer asked %+v", rp.got)
	}
	if len(seen) != 2 || seen[0] != "m1" || seen[1] != "m2" {
		t.Fatalf("Each saw %v", seen)
	}

	// A failure stops the replay; the stats say how far it got.
	rp.fails = errors.New("handler failed after its retries")
	st, err = a.ReplayTopic.Handle(t.Context(), command.ReplayTopic{Topic: "t", Handler: "h"})
	if !errors.Is(err, rp.fails) || st != (ports.ReplayStats{Read: 2, Handled: 1, LastOffset: 1}) {
		t.Fatalf("failed replay = %+v, %v", st, err)
	}
	if len(rec.names) != 2 || rec.names[0] != "replay_topic:ok" || rec.names[1] != "replay_topic:internal" {
		t.Fatalf("metrics observed %v", rec.names)
	}
}

func TestReplayTopicRefuses(t *testing.T) {
	rp := &replayer{}
	a := app.NewAdmin(app.AdminDeps{Replayer: rp, Logger: slog.New(slog.DiscardHandler)})
	for _, bad := range []command.ReplayTopic{
		{Handler: "h"},
		{Topic: "t"},
		{Topic: "t", Handler: "h", From: ports.ReplayFrom{Offset: -1}},
	} {
		if _, err := a.ReplayTopic.Handle(t.Context(), bad); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("%+v: %v, want invalid", bad, err)
		}
	}
	if len(rp.got) != 0 {
		t.Fatalf("an invalid replay reached the replayer: %+v", rp.got)
	}
}
