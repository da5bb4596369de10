package projection_test

import (
	"context"
	"database/sql"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/orderflow/orderflow/app/projection"
	"github.com/orderflow/orderflow/internal/sqlstore"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
)

// benchEnv reads a positive integer from the environment, or def.
func benchEnv(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// seedDirect writes events straight into the events table, in their
// order, as the event store's appends would have stored them (one row per
// event, positions in that order; on Postgres in transactions of 50,000).
// It is a benchmark's shortcut: a million appends through the store, with
// their outbox rows, take minutes, and the replay reads only the events.
func seedDirect(b *testing.B, s storetest.Stores, events []storedEvent) {
	b.Helper()
	ctx := b.Context()
	if s.Postgres != nil {
		for chunk := range slicesChunk(events, 50_000) {
			rows := make([][]any, len(chunk))
			for i, e := range chunk {
				rows[i] = []any{e.stream.Type, e.stream.ID, e.version, e.event.Metadata.EventID, e.event.Type,
					string(e.event.Data), e.event.Metadata.OccurredAt}
			}
			_, err := s.Postgres.CopyFrom(ctx, pgx.Identifier{"events"},
				[]string{"stream_type", "stream_id", "version", "event_id", "event_type", "data", "occurred_at"},
				pgx.CopyFromRows(rows))
			if err != nil {
				b.Fatal(err)
			}
		}
		// The statistics autovacuum would gather soon after: without them
		// the planner does not know the table is large.
		if _, err := s.Postgres.Exec(ctx, `ANALYZE events`); err != nil {
			b.Fatal(err)
		}
		return
	}
	err := func() error {
		tx, err := s.SQLite.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }()
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO events (stream_type, stream_id, version, event_id, event_type, data,
			correlation_id, causation_id, occurred_at, recorded_at) VALUES (?, ?, ?, ?, ?, ?, '', '', ?, ?)`)
		if err != nil {
			return err
		}
		defer func(stmt *sql.Stmt) { _ = stmt.Close() }(stmt)
		for _, e := range events {
			at := sqlstore.TextTime(e.event.Metadata.OccurredAt)
			if _, err := stmt.ExecContext(ctx, e.stream.Type, e.stream.ID, e.version, e.event.Metadata.EventID,
				e.event.Type, string(e.event.Data), at, at); err != nil {
				return err
			}
		}
		return tx.Commit()
	}()
	if err != nil {
		b.Fatal(err)
	}
}

// slicesChunk yields s in pieces of at most n.
func slicesChunk[T any](s []T, n int) func(func([]T) bool) {
	return func(yield func([]T) bool) {
		for len(s) > 0 {
			k := min(n, len(s))
			if !yield(s[:k]) {
				return
			}
			s = s[k:]
		}
	}
}

// heapPeak samples the heap in use until stop is called and returns its
// highest growth over the heap in use at the start, in MiB (the benchmark's
// own copy of the events is not counted).
func heapPeak() (stop func() float64) {
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	sample := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		if m.HeapInuse > peak.Load() {
			peak.Store(m.HeapInuse)
		}
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	return func() float64 {
		close(done)
		<-finished
		sample()
		return float64(peak.Load()-min(peak.Load(), base.HeapInuse)) / (1 << 20)
	}
}

// cpuTime is the CPU time this process has used so far (user and system).
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkReplay compares, on the same stored events in the same run, a
// raw ReadAll of every event (in batches of the rebuild's size) with a
// full rebuild of order_summary into a shadow table (ReadAll, upcasting,
// the projection, the writes, the swap and the catch-up), on each store.
// The events are ORDERFLOW_REPLAY_EVENTS (1,000,000) of orders whose events
// interleave, ORDERFLOW_REPLAY_WINDOW (1,000) orders open at once; the
// rebuild holds ORDERFLOW_REPLAY_WORKING_SET rows (its default) at most.
// Both report events/s, events per second of this process's CPU time
// (the database server's not counted: on SQLite that is all of it) and the
// peak growth of the heap in use; the rebuild also the ratio of its rate to
// the ReadAll one just measured, the most rows it held and how many it read
// back from the shadow table.
func BenchmarkReplay(b *testing.B) {
	n := benchEnv(b, "ORDERFLOW_REPLAY_EVENTS", 1_000_000)
	window := benchEnv(b, "ORDERFLOW_REPLAY_WINDOW", 1000)
	workingSet := benchEnv(b, "ORDERFLOW_REPLAY_WORKING_SET", projection.DefaultWorkingSet)
	backends := []struct {
		name string
		s    storetest.Stores
	}{{"sqlite", storetest.SQLite(b)}, {"postgres", storetest.Postgres(b)}}
	func() { // the events go out of scope: the heap measured below is the replay's own
		events := interleaved(b, n, window, 1)
		for _, backend := range backends {
			seedDirect(b, backend.s, events)
		}
	}()
	for _, backend := range backends {
		storetest.ReadAll(b, backend.s.Events, n) // visible to every reader before timing
	}
	for _, backend := range backends {
		s := backend.s
		var scanRate float64
		b.Run(backend.name+"/ReadAll", func(b *testing.B) {
			stop, cpu := heapPeak(), cpuTime(b)
			for b.Loop() {
				read, pos := 0, ports.Position{}
				for {
					batch, err := s.Events.ReadAll(context.Background(), pos, projection.DefaultRebuildBatch)
					if err != nil {
						b.Fatal(err)
					}
					if len(batch) == 0 {
						break
					}
					read += len(batch)
					pos = batch[len(batch)-1].Position
				}
				if read != n {
					b.Fatalf("read %d events, stored %d", read, n)
				}
			}
			scanRate = float64(n) * float64(b.N) / b.Elapsed().Seconds()
			b.ReportMetric(float64(n)*float64(b.N)/(cpuTime(b)-cpu).Seconds(), "events/cpu-s")
			b.ReportMetric(stop(), "MiB-heap-peak")
			b.ReportMetric(scanRate, "events/s")
		})
		b.Run(backend.name+"/Rebuild", func(b *testing.B) {
			stop, cpu := heapPeak(), cpuTime(b)
			var res projection.RebuildResult
			for b.Loop() {
				var err error
				res, err = projection.OrderSummaryRebuild{Events: s.Events, Live: s.Orders, Shadow: s.Shadow,
					WorkingSet: workingSet}.Run(context.Background(), ports.Position{})
				if err != nil {
					b.Fatal(err)
				}
				if res.Events != int64(n) {
					b.Fatalf("rebuilt from %d events, stored %d", res.Events, n)
				}
			}
			rate := float64(n) * float64(b.N) / b.Elapsed().Seconds()
			b.ReportMetric(float64(n)*float64(b.N)/(cpuTime(b)-cpu).Seconds(), "events/cpu-s")
			b.ReportMetric(stop(), "MiB-heap-peak")
			b.ReportMetric(rate, "events/s")
			if scanRate > 0 {
				b.ReportMetric(rate/scanRate, "x-ReadAll")
			}
			b.ReportMetric(float64(res.PeakRows), "rows-peak")
			b.ReportMetric(float64(res.ReadBack), "rows-read-back")
		})
	}
}
