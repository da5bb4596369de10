package progress_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/progress"
)

// Off a terminal, progress is a log line at most every two seconds, with the
// rate, the phase, the caller's attributes and an ETA when the total is known.
func TestLogsProgressOffATerminal(t *testing.T) {
	var out bytes.Buffer
	r := progress.New(&bytes.Buffer{}, slog.New(slog.NewTextHandler(&out, nil)), "events")
	r.Update(progress.Update{Phase: "rebuild", Done: 500, Total: 1000, Elapsed: time.Second, Attrs: []any{"position", "7"}})
	r.Update(progress.Update{Phase: "rebuild", Done: 600, Total: 1000, Elapsed: time.Second})
	r.Finish()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one line within two seconds, got %d: %q", len(lines), out.String())
	}
	for _, want := range []string{"phase=rebuild", "events=500", "events_per_second=500", "position=7", "total=1000", "eta=1s"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("log line %q lacks %q", lines[0], want)
		}
	}
}
