package repository_test

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
)

type countingSnapshots struct {
	ports.SnapshotStore
	reads atomic.Int64
}

func (c *countingSnapshots) LoadSnapshot(ctx context.Context, s ports.Stream) (ports.Snapshot, error) {
	c.reads.Add(1)
	return c.SnapshotStore.LoadSnapshot(ctx, s)
}

// An order whose stream is shorter than the snapshot interval (nearly every
// order) is loaded from its events alone, without looking for a snapshot;
// one that reached it is snapshotted on its first load and loaded from the
// snapshot after that.
func TestShortOrdersAreLoadedWithoutASnapshotRead(t *testing.T) {
	s := storetest.SQLite(t)
	snaps := &countingSnapshots{SnapshotStore: s.Snapshots}
	const every = 10
	orders := repository.NewOrders(s.Events, ports.SystemClock{}).EnableSnapshots(snaps, every, quiet)
	rng := rand.New(rand.NewPCG(3, 3))
	stream := func(n int) string {
		id := uuid.Must(uuid.NewV7()).String()
		if _, err := s.Events.Append(t.Context(), repository.Stream(id), 0, randomEvents(rng, id, n, true)); err != nil {
			t.Fatal(err)
		}
		return id
	}
	load := func(id string) {
		t.Helper()
		if _, err := orders.Load(t.Context(), id); err != nil {
			t.Fatal(err)
		}
	}
	short := stream(every - 1)
	load(short)
	load(short)
	if n := snaps.reads.Load(); n != 0 {
		t.Fatalf("%d snapshot reads for a stream of %d events, want 0", n, every-1)
	}
	long := stream(every + 3)
	load(long)
	if _, err := s.Snapshots.LoadSnapshot(t.Context(), repository.Stream(long)); err != nil {
		t.Fatalf("no snapshot after the first load of a long stream: %v", err)
	}
	load(long)
	if n := snaps.reads.Load(); n != 1 {
		t.Fatalf("%d snapshot reads for two loads of a long stream, want 1 (the second)", n)
	}
}
