// Package progress shows how a long-running command (a replay, a rebuild, a
// benchmark) advances: a bar with rate and ETA on a terminal, a structured
// log line at most every two seconds otherwise, so that a run in CI or under
// a process manager logs progress without flooding the log.
package progress

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
)

// Update is where a run stands. A run may have phases; each new phase starts
// a new bar. Total is 0 when it is not known (no ETA then).
type Update struct {
	Phase   string
	Done    int64
	Total   int64
	Elapsed time.Duration
	// Attrs are extra log attributes (key, value pairs) of the log line.
	Attrs []any
}

// Reporter shows Updates on w (a terminal) or through logger.
type Reporter struct {
	w        io.Writer
	logger   *slog.Logger
	unit     string
	terminal bool
	bar      *progressbar.ProgressBar
	phase    string
	logged   time.Time
}

// New returns a Reporter counting unit (e.g. "events") that draws a bar when
// w is a terminal and logs to logger otherwise.
func New(w io.Writer, logger *slog.Logger, unit string) *Reporter {
	f, ok := w.(*os.File)
	return &Reporter{w: w, logger: logger, unit: unit, terminal: ok && isatty.IsTerminal(f.Fd())}
}

// Update shows u.
func (r *Reporter) Update(u Update) {
	if r.terminal {
		if r.bar == nil || u.Phase != r.phase {
			r.finishBar()
			total := u.Total
			if total == 0 {
				total = -1 // a spinner with a count
			}
			r.bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(r.w),
				progressbar.OptionSetDescription(u.Phase), progressbar.OptionShowCount(),
				progressbar.OptionShowIts(), progressbar.OptionSetItsString(r.unit),
				progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond))
		}
		r.phase = u.Phase
		_ = r.bar.Set64(u.Done)
		return
	}
	if time.Since(r.logged) < 2*time.Second {
		return
	}
	r.logged = time.Now()
	rate := float64(u.Done) / max(u.Elapsed.Seconds(), 1e-9)
	attrs := append([]any{"phase", u.Phase, r.unit, u.Done, r.unit + "_per_second", int64(rate)}, u.Attrs...)
	if u.Total > 0 && rate > 0 {
		attrs = append(attrs, "total", u.Total,
			"eta", (time.Duration(float64(max(u.Total-u.Done, 0))/rate) * time.Second).Round(time.Second))
	}
	r.logger.Info("progress", attrs...)
}

// Finish completes the bar, if one is drawn.
func (r *Reporter) Finish() { r.finishBar() }

func (r *Reporter) finishBar() {
	if r.bar != nil {
		_ = r.bar.Finish()
		fmt.Fprintln(r.w)
		r.bar = nil
	}
}
