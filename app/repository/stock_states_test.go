package repository_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/app/domain/inventory"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
)

// readCounts counts an event store's reads: Load, LockStreams and
// LoadStates calls.
type readCounts struct{ loads, locks, states atomic.Int64 }

// countingStates is an event store, counted; with
// states false it has no LoadStates (errors.ErrUnsupported, as a wrapper
// of a store without one answers).
type countingStates struct {
	ports.EventStore
	n      *readCounts
	states bool
}

func (c countingStates) Load(ctx context.Context, s ports.Stream, from int64) ([]ports.RecordedEvent, error) {
	c.n.loads.Add(1)
	return c.EventStore.Load(ctx, s, from)
}

func (c countingStates) LockStreams(ctx context.Context, streams ...ports.Stream) error {
	c.n.locks.Add(1)
	return c.EventStore.(ports.StreamLocker).LockStreams(ctx, streams...)
}

func (c countingStates) LoadStates(ctx context.Context, reads []ports.StateRead, lock bool) (map[ports.Stream]ports.StreamState, error) {
	if !c.states {
		return nil, fmt.Errorf("load states: %w", errors.ErrUnsupported)
	}
	c.n.states.Add(1)
	return c.EventStore.(ports.StatesLoader).LoadStates(ctx, reads, lock)
}

// An UpdateMany of several SKUs locks and reads them in one LoadStates,
// from their snapshots or their cached states, and nothing else; on a store
// without one it locks and loads a SKU at a time. Both reserve the same.
func TestUpdateManyReadsItsStocksInOneLoad(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := t.Context()
		now := time.Now()
		skus := []string{"SKU-" + uuid.NewString()[:8], "SKU-" + uuid.NewString()[:8], "SKU-" + uuid.NewString()[:8]}
		setup := repository.NewStocks(s.Events, ports.SystemClock{}).EnableSnapshots(s.Snapshots, 3, quiet)
		for i, sku := range skus {
			for v := range 4 + i { // snapshots at version 3 (and 6), events after them
				if _, err := setup.Update(ctx, sku, func(st *inventory.Stock) error { return st.SetOnHand(int64(10+v), now) }); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, together := range []bool{true, false} {
			var n readCounts
			snaps := &countingSnapshots{SnapshotStore: s.Snapshots}
			stocks := repository.NewStocks(countingStates{s.Events, &n, together}, ports.SystemClock{}).
				EnableSnapshots(snaps, 3, quiet).EnableCache(8)
			for round := range 2 { // the first from the snapshots, the second from the cache
				n.loads.Store(0)
				n.locks.Store(0)
				n.states.Store(0)
				snaps.reads.Store(0)
				order := fmt.Sprintf("order-%v-%d", together, round)
				err := s.Tx.InTx(ctx, func(ctx context.Context) error {
					_, err := stocks.UpdateMany(ctx, skus, func(m map[string]*inventory.Stock) error {
						for _, sku := range skus {
							if err := m[sku].Reserve(order, 1, now); err != nil {
								return err
							}
						}
						return nil
					})
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				got := [4]int64{n.states.Load(), n.locks.Load(), n.loads.Load(), snaps.reads.Load()}
				if together && got != [4]int64{1, 0, 0, 0} {
					t.Fatalf("round %d: LoadStates, LockStreams, Load, LoadSnapshot calls %v, want one LoadStates only", round, got)
				}
				if !together && (got[0] != 0 || got[1] != 1 || got[2] != int64(len(skus))) {
					t.Fatalf("round %d without LoadStates: calls %v, want a lock and a load a SKU", round, got)
				}
			}
		}
		for i, sku := range skus {
			st, err := setup.Load(ctx, sku)
			if err != nil {
				t.Fatal(err)
			}
			if st.OnHand() != int64(13+i) || st.Reserved() != 4 {
				t.Fatalf("%s: on hand %d, reserved %d; want %d and 4 (two rounds a way)", sku, st.OnHand(), st.Reserved(), 13+i)
			}
		}
	})
}
