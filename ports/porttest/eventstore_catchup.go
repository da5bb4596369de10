package porttest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/orderflow/orderflow/ports"
)

// Bounds of the catch-up test: about 16*40*2 = 1280 committed events.
const (
	catchUpAppenders = 16
	catchUpBatches   = 40
	catchUpPage      = 50
	catchUpTimeout   = 90 * time.Second
)

// catchUpLog is what the appenders of the catch-up test wrote, and failed to.
type catchUpLog struct {
	mu        sync.Mutex
	committed map[string]ports.Stream // event id -> stream
	failed    map[string]bool         // ids of events whose append failed
	errs      []error
}

func (l *catchUpLog) record(stream ports.Stream, events []ports.NewEvent, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range events {
		if err == nil {
			l.committed[e.Metadata.EventID] = stream
		} else {
			l.failed[e.Metadata.EventID] = true
		}
	}
}

func (l *catchUpLog) fail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

// appendBatches appends catchUpBatches small batches to a stream of its own,
// and every fifth time first tries a stale append that must fail.
func (l *catchUpLog) appendBatches(t *testing.T, s ports.EventStore, worker int) {
	ctx := t.Context()
	stream := newStream()
	var version int64
	for b := range catchUpBatches {
		if b%5 == 4 {
			stale := newEvents(2)
			_, err := s.Append(ctx, stream, version-1, stale)
			l.record(stream, stale, err)
			if err == nil {
				l.fail(fmt.Errorf("appender %d: stale append succeeded, want a conflict", worker))
				return
			}
			if !errors.Is(err, ports.ErrConcurrency) {
				l.fail(fmt.Errorf("appender %d: stale append: %w, want a conflict", worker, err))
				return
			}
		}
		events := newEvents(1 + (worker+b)%3)
		res, err := s.Append(ctx, stream, version, events)
		l.record(stream, events, err)
		if err != nil {
			l.fail(fmt.Errorf("appender %d: append at %d: %w", worker, version, err))
			return
		}
		version = res.NextExpectedVersion
	}
}

// testCatchUp is the test of ReadAll's promise: a reader resuming from the
// last position it saw, while many writers commit in an order the store does
// not control, reads every committed event exactly once, in increasing
// position order, and never an event whose append failed. A store that
// hands out positions at insert time and filters on "position > last" fails
// it: a later position can commit before an earlier one, and the reader that
// saw the later one skips the earlier one forever.
func testCatchUp(t *testing.T, s ports.EventStore) {
	ctx := testContext(t, catchUpTimeout)
	log := &catchUpLog{committed: map[string]ports.Stream{}, failed: map[string]bool{}}

	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range catchUpAppenders {
		wg.Go(func() { log.appendBatches(t, s, w) })
	}
	go func() { wg.Wait(); close(done) }()

	var (
		last        ports.Position
		seen        = map[string]bool{}
		lastVersion = map[ports.Stream]int64{}
		finished    bool
		pause       = time.Millisecond
	)
	for {
		page, err := s.ReadAll(ctx, last, catchUpPage)
		if err != nil {
			<-done
			t.Fatalf("ReadAll(%v) after %d events: %v", last, len(seen), err)
		}
		for _, e := range page {
			id := e.Metadata.EventID
			switch {
			case !last.Less(e.Position):
				t.Errorf("event %s at %v not after %v", id, e.Position, last)
			case seen[id]:
				t.Errorf("event %s read twice", id)
			case e.Version != lastVersion[e.Stream]+1:
				t.Errorf("stream %v: read version %d after %d", e.Stream, e.Version, lastVersion[e.Stream])
			}
			seen[id] = true
			last = e.Position
			lastVersion[e.Stream] = e.Version
		}
		if t.Failed() {
			<-done
			t.FailNow()
		}
		if len(page) > 0 {
			pause = time.Millisecond
			continue
		}
		if !finished {
			select {
			case <-done:
				// From here on nothing is written: drain until every
				// committed event was read.
				finished = true
				if len(log.errs) > 0 {
					t.Fatalf("appenders failed: %v", errors.Join(log.errs...))
				}
				continue
			default:
			}
		} else if len(seen) >= len(log.committed) {
			break
		}
		select {
		case <-ctx.Done():
			<-done
			t.Fatalf("reader saw %d of %d committed events before %v", len(seen), len(log.committed), ctx.Err())
		case <-time.After(pause):
		}
		pause = min(pause*2, 20*time.Millisecond)
	}

	for id := range seen {
		if log.failed[id] {
			t.Errorf("read event %s whose append failed", id)
		} else if _, ok := log.committed[id]; !ok {
			t.Errorf("read event %s that nobody appended", id)
		}
	}
	if len(seen) != len(log.committed) {
		t.Errorf("read %d distinct events, %d were committed", len(seen), len(log.committed))
	}
	if len(log.failed) == 0 {
		t.Errorf("no append failed: the test did not exercise failed appends")
	}
	t.Logf("read %d committed events from %d appenders; %d events failed to append",
		len(seen), catchUpAppenders, len(log.failed))
}
