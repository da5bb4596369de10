package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/projection"
	"github.com/orderflow/orderflow/ports"
	"github.com/orderflow/orderflow/service"
	"github.com/schollz/progressbar/v3"
)

// replay rebuilds a projection's read model from the event store beside the
// live one and swaps it in (the RebuildProjection use case).
func replay(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	var (
		c         service.Config
		name      string
		fromFlag  string
		batchSize int
	)
	if err := parseFlags("replay", args, stderr, &c, func(f flags) {
		f.fs.StringVar(&name, "projection", "", "the projection to rebuild: "+projection.OrderSummaryName)
		f.fs.StringVar(&fromFlag, "from-position", "",
			"resume an interrupted rebuild after this position (as its last progress line printed: N or COMMIT/PREPARE); empty starts afresh")
		f.fs.IntVar(&batchSize, "batch-size", 500, "events read per batch")
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
	logger := newLogger(c, os.Stderr)
	st, err := service.Open(ctx, c, logger)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()

	progress, finish := replayProgress(stderr, logger, from)
	res, err := st.Admin(logger, nil).RebuildProjection.Handle(ctx,
		command.RebuildProjection{Projection: name, From: from, BatchSize: batchSize, Progress: progress})
	finish()
	if err != nil {
		return fmt.Errorf("replay %s: %w (resume with --from-position %s)", name, err, formatPosition(res.Position))
	}
	rate := float64(res.Events) / max(res.Elapsed.Seconds(), 1e-9)
	fmt.Fprintf(stdout, "%s rebuilt from %d events (+%d caught up after the swap) in %s, %.0f events/s; last position %s\n",
		name, res.Events, res.CaughtUp, res.Elapsed.Round(time.Millisecond), rate, formatPosition(res.Position))
	return nil
}

// replayProgress returns the progress callback: a bar with events/s and ETA
// on a terminal, a log line at most every two seconds otherwise.
func replayProgress(w io.Writer, logger *slog.Logger, from ports.Position) (func(projection.RebuildProgress), func()) {
	if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		var bar *progressbar.ProgressBar
		return func(p projection.RebuildProgress) {
				if bar == nil || p.Phase == "catch-up" && bar.State().Description != p.Phase {
					if bar != nil {
						_ = bar.Finish()
					}
					total := p.Total
					if total == 0 || p.Phase == "catch-up" {
						total = -1
					}
					bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(w),
						progressbar.OptionSetDescription(p.Phase), progressbar.OptionShowCount(),
						progressbar.OptionShowIts(), progressbar.OptionSetItsString("events"),
						progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond))
				}
				_ = bar.Set64(p.Events)
			}, func() {
				if bar != nil {
					_ = bar.Finish()
					fmt.Fprintln(w)
				}
			}
	}
	var last time.Time
	return func(p projection.RebuildProgress) {
		if time.Since(last) < 2*time.Second {
			return
		}
		last = time.Now()
		rate := float64(p.Events) / max(p.Elapsed.Seconds(), 1e-9)
		attrs := []any{"phase", p.Phase, "events", p.Events, "events_per_second", int64(rate), "position", formatPosition(p.Position)}
		if p.Total > 0 && rate > 0 && p.Phase == "rebuild" {
			attrs = append(attrs, "total", p.Total,
				"eta", (time.Duration(float64(max(p.Total-p.Events, 0))/rate) * time.Second).Round(time.Second))
		}
		logger.Info("replay progress", attrs...)
	}, func() {}
}

// parsePosition reads "N" (SQLite: one sequence) or "COMMIT/PREPARE".
func parsePosition(s string) (ports.Position, error) {
	if s == "" {
		return ports.Position{}, nil
	}
	c, p, two := strings.Cut(s, "/")
	commit, err1 := strconv.ParseUint(c, 10, 64)
	prepare, err2 := commit, error(nil)
	if two {
		prepare, err2 = strconv.ParseUint(p, 10, 64)
	}
	if err1 != nil || err2 != nil {
		return ports.Position{}, fmt.Errorf("--from-position %q: want N or COMMIT/PREPARE", s)
	}
	return ports.Position{Commit: commit, Prepare: prepare}, nil
}

func formatPosition(p ports.Position) string {
	if p.Commit == p.Prepare {
		return strconv.FormatUint(p.Prepare, 10)
	}
	return p.String()
}
