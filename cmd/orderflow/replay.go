package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/orderflow/orderflow/app"
	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/projection"
	"github.com/orderflow/orderflow/internal/progress"
	"github.com/orderflow/orderflow/ports"
	"github.com/orderflow/orderflow/service"
)

// replay rebuilds a projection's read model from the event store beside the
// live one and swaps it in (the RebuildProjection use case).
func replay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		c         service.Config
		name      string
		fromFlag  string
		batchSize int
		working   int
	)
	if err := parseFlags("replay", args, stderr, &c, func(f flags) {
		f.fs.StringVar(&name, "projection", "", "the projection to rebuild: "+projection.OrderSummaryName)
		f.fs.StringVar(&fromFlag, "from-position", "",
			"resume an interrupted rebuild after this position (as its last progress line printed: N or COMMIT/PREPARE); empty starts afresh")
		f.fs.IntVar(&batchSize, "batch-size", projection.DefaultRebuildBatch, "events read per batch")
		f.fs.IntVar(&working, "working-set", projection.DefaultWorkingSet,
			"order rows held in memory at most while rebuilding (each a few hundred bytes)")
	}); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return err
	}
	if name != projection.OrderSummaryName {
		return fmt.Errorf("--projection must be %s, not %q", projection.OrderSummaryName, name)
	}
	from, err := parsePosition(fromFlag)
	if err != nil {
		return err
	}
	return withAdmin(ctx, c, func(admin app.Admin, logger *slog.Logger) error {
		bar := progress.New(stderr, logger, "events")
		res, err := admin.RebuildProjection.Handle(ctx, command.RebuildProjection{Projection: name, From: from,
			BatchSize: batchSize, WorkingSet: working, Progress: func(p projection.RebuildProgress) {
				total := p.Total
				if p.Phase != "rebuild" {
					total = 0 // the catch-up's length is not known
				}
				bar.Update(progress.Update{Phase: p.Phase, Done: p.Events, Total: total, Elapsed: p.Elapsed,
					Attrs: []any{"position", p.Position.Compact()}})
			}})
		bar.Finish()
		if err != nil {
			return fmt.Errorf("replay %s: %w (resume with --from-position %s)", name, err, res.Position.Compact())
		}
		rate := float64(res.Events) / max(res.Elapsed.Seconds(), 1e-9)
		fmt.Fprintf(stdout, "%s rebuilt from %d events (+%d caught up after the swap) in %s, %.0f events/s; last position %s\n",
			name, res.Events, res.CaughtUp, res.Elapsed.Round(time.Millisecond), rate, res.Position.Compact())
		return nil
	})
}

// parsePosition reads --from-position.
func parsePosition(s string) (ports.Position, error) {
	if s == "" {
		return ports.Position{}, nil
	}
	p, err := ports.ParsePosition(s)
	if err != nil {
		return p, fmt.Errorf("--from-position: %w", err)
	}
	return p, nil
}
