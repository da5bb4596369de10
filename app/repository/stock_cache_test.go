package repository_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/app/domain/inventory"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
)

var errRollback = errors.New("roll the unit back")

// Two processes' cached stock repositories, writing the same SKU in turn,
// each load what the events say: a cached state goes on with the events the
// other process appended, and a state built inside a unit of work that
// rolled back (it loaded its own uncommitted reservation) is never used.
func TestStockCacheLoadsWhatTheEventsSay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := t.Context()
		clock := ports.SystemClock{}
		plain := repository.NewStocks(s.Events, clock)
		procs := []*repository.Stocks{
			repository.NewStocks(s.Events, clock).EnableSnapshots(s.Snapshots, 7, quiet).EnableCache(4),
			repository.NewStocks(s.Events, clock).EnableSnapshots(s.Snapshots, 7, quiet).EnableCache(4),
		}
		sku := "SKU-" + uuid.NewString()[:8]
		rng := rand.New(rand.NewPCG(11, uint64(len(s.Name))))
		walk := &stockWalk{rng: rng, sku: sku}
		now := time.Now()
		rolledBack := 0
		for step := range 300 {
			p := procs[rng.IntN(len(procs))]
			change := walk.step(step, now)
			if rng.IntN(5) == 0 {
				// A unit that reserves, loads its own reservation (into the
				// cache), and rolls back.
				id := fmt.Sprintf("rolled-back-%d", step)
				err := s.Tx.InTx(ctx, func(ctx context.Context) error {
					if _, err := p.Update(ctx, sku, func(st *inventory.Stock) error {
						return st.SetOnHand(st.OnHand()+1000, now)
					}); err != nil {
						return err
					}
					if _, err := p.Update(ctx, sku, func(st *inventory.Stock) error { return st.Reserve(id, 1, now) }); err != nil {
						return err
					}
					st, err := p.Load(ctx, sku)
					if err != nil {
						return err
					}
					if st.ReservedFor(id) != 1 {
						return fmt.Errorf("inside the unit: hold %d, want its own reservation", st.ReservedFor(id))
					}
					return errRollback
				})
				if !errors.Is(err, errRollback) {
					t.Fatalf("step %d: unit: %v", step, err)
				}
				rolledBack++
				// Others then commit the versions the rolled-back state
				// claims: only the event ids tell them apart.
				for range 2 {
					if _, err := plain.Update(ctx, sku, func(st *inventory.Stock) error { return st.SetOnHand(st.OnHand()+1, now) }); err != nil {
						t.Fatal(err)
					}
				}
			} else if _, err := p.Update(ctx, sku, change); err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			want, err := plain.Load(ctx, sku)
			if err != nil {
				t.Fatal(err)
			}
			for i, q := range procs {
				got, err := q.Load(ctx, sku)
				if err != nil {
					t.Fatal(err)
				}
				if got.Version() != want.Version() || got.OnHand() != want.OnHand() || got.Reserved() != want.Reserved() {
					t.Fatalf("step %d, process %d: cached version %d on hand %d reserved %d; from events %d %d %d", step, i,
						got.Version(), got.OnHand(), got.Reserved(), want.Version(), want.OnHand(), want.Reserved())
				}
				for _, id := range walk.held {
					if got.ReservedFor(id) != want.ReservedFor(id) {
						t.Fatalf("step %d, process %d: hold of %s %d cached, %d from events", step, i, id, got.ReservedFor(id), want.ReservedFor(id))
					}
				}
			}
		}
		if rolledBack == 0 {
			t.Fatal("no unit rolled back: the test did not test that")
		}
	})
}

// A loaded stock is the caller's: changing it leaves the cached state alone.
func TestStockCacheHandsOutCopies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := t.Context()
		stocks := repository.NewStocks(s.Events, ports.SystemClock{}).EnableCache(4)
		sku := "SKU-" + uuid.NewString()[:8]
		now := time.Now()
		for _, fn := range []func(*inventory.Stock) error{
			func(st *inventory.Stock) error { return st.SetOnHand(10, now) },
			func(st *inventory.Stock) error { return st.Reserve("o-1", 2, now) },
		} {
			if _, err := stocks.Update(ctx, sku, fn); err != nil {
				t.Fatal(err)
			}
		}
		st, err := stocks.Load(ctx, sku)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Reserve("o-2", 3, now); err != nil { // not saved
			t.Fatal(err)
		}
		st.Release("o-1", now)
		again, err := stocks.Load(ctx, sku)
		if err != nil {
			t.Fatal(err)
		}
		if again.Reserved() != 2 || again.ReservedFor("o-1") != 2 || again.ReservedFor("o-2") != 0 || again.Version() != 2 {
			t.Fatalf("after changing a loaded copy: reserved %d (o-1 %d, o-2 %d) at version %d, want 2 (o-1 2) at 2",
				again.Reserved(), again.ReservedFor("o-1"), again.ReservedFor("o-2"), again.Version())
		}
	})
}
