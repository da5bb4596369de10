package repository_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/adapters/postgres"
	"github.com/orderflow/orderflow/adapters/sqlite"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/inventory"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
)

// A stock loaded from snapshots is the stock folded from every event, at
// every point of a long random history (reserves, releases, commits,
// restocks, failures; more settled orders than a stock remembers), and the
// load reads at most every events past the snapshot.
func TestStockSnapshotsLoadWhatTheEventsSay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		const every = 10
		ctx := t.Context()
		clock := ports.SystemClock{}
		plain := repository.NewStocks(s.Events, clock)
		snapped := repository.NewStocks(s.Events, clock).EnableSnapshots(s.Snapshots, every, quiet)
		sku := "SKU-" + uuid.NewString()[:8]
		rng := rand.New(rand.NewPCG(7, uint64(len(s.Name))))
		walk := &stockWalk{rng: rng, sku: sku, fails: true}
		now := time.Now()
		for step := range inventory.Remembered + 400 {
			_, err := snapped.Update(ctx, sku, walk.step(step, now))
			if err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			if step%97 != 0 {
				continue
			}
			want, err := plain.Load(ctx, sku)
			if err != nil {
				t.Fatal(err)
			}
			got, err := snapped.Load(ctx, sku)
			if err != nil {
				t.Fatal(err)
			}
			if got.Version() != want.Version() || got.OnHand() != want.OnHand() || got.Reserved() != want.Reserved() {
				t.Fatalf("step %d: from snapshots version %d on hand %d reserved %d; from events %d %d %d", step,
					got.Version(), got.OnHand(), got.Reserved(), want.Version(), want.OnHand(), want.Reserved())
			}
			for _, id := range walk.held {
				if got.ReservedFor(id) != want.ReservedFor(id) {
					t.Fatalf("step %d: hold of %s %d from snapshots, %d from events", step, id, got.ReservedFor(id), want.ReservedFor(id))
				}
			}
			snap, err := s.Snapshots.LoadSnapshot(ctx, ports.Stream{Type: inventory.AggregateType, ID: sku})
			if errors.Is(err, ports.ErrNotFound) && want.Version() < every {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if want.Version()-snap.Version >= every {
				t.Fatalf("step %d: snapshot at %d, stream at %d: more than %d events to read", step, snap.Version, want.Version(), every)
			}
		}
	})
}

// A SKU the database refuses (a NUL, on Postgres) fails the load inside a
// unit of work as invalid, so the message is parked, not retried forever:
// the snapshot read's failure must not be swallowed, since it has aborted
// the transaction the event read would run in.
func TestStockSnapshotReadRefusedIsInvalid(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		stocks := repository.NewStocks(s.Events, ports.SystemClock{}).EnableSnapshots(s.Snapshots, 10, quiet)
		err := unitOf(s).InTx(t.Context(), func(ctx context.Context) error {
			_, err := stocks.Load(ctx, "SKU\x00NUL")
			return err
		})
		if s.Postgres != nil && !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("load of a NUL SKU on Postgres: %v, want apperr.Invalid", err)
		}
		if s.SQLite != nil && err != nil {
			t.Fatalf("load of a NUL SKU on SQLite (which stores it): %v", err)
		}
	})
}

func unitOf(s storetest.Stores) ports.Transactor {
	if s.SQLite != nil {
		return sqlite.Stores(s.SQLite).Tx
	}
	return postgres.Stores(s.Postgres).Tx
}
