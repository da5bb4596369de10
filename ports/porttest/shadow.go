package porttest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orderflow/orderflow/ports"
)

// RunShadowOrderSummary runs the ports.ShadowOrderSummary contract. newStores
// returns, per subtest, the live order_summary store of an empty database
// and the rebuilder of the same database.
func RunShadowOrderSummary(t *testing.T, newStores func(t *testing.T) (ports.OrderSummaryStore, ports.ShadowOrderSummary)) {
	t.Run("RebuildBesideLiveThenSwap", func(t *testing.T) {
		live, sh := newStores(t)
		ctx := testContext(t, visibilityTimeout)
		old := newSummary("c-old", "placed", baseTime)
		mustSave(t, live, old, 0)
		if _, err := sh.Shadow(ctx, false); err == nil {
			t.Fatal("resuming without a shadow table succeeded")
		}
		// Several cycles: each swap must leave the names free for the next.
		for cycle := range 3 {
			shadow, err := sh.Shadow(ctx, true)
			if err != nil {
				t.Fatalf("cycle %d: %v", cycle, err)
			}
			if _, err := shadow.Get(ctx, old.OrderID); !errors.Is(err, ports.ErrNotFound) {
				t.Fatalf("cycle %d: a fresh shadow is not empty: %v", cycle, err)
			}
			rebuilt := newSummary("c-new", "confirmed", baseTime)
			mustSave(t, shadow, rebuilt, 0)
			if _, err := live.Get(ctx, rebuilt.OrderID); !errors.Is(err, ports.ErrNotFound) {
				t.Fatalf("cycle %d: a shadow write shows in the live table: %v", cycle, err)
			}
			mustGet(t, live, old.OrderID) // still served
			if resumed, err := sh.Shadow(ctx, false); err != nil {
				t.Fatalf("cycle %d: resume: %v", cycle, err)
			} else {
				mustGet(t, resumed, rebuilt.OrderID)
			}

			swapWhileReading(t, live, old.OrderID, rebuilt.OrderID, func() error { return sh.Swap(ctx) })

			mustGet(t, live, rebuilt.OrderID)
			if _, err := live.Get(ctx, old.OrderID); !errors.Is(err, ports.ErrNotFound) {
				t.Fatalf("cycle %d: the old table's row survived the swap: %v", cycle, err)
			}
			page, err := live.List(ctx, ports.OrderFilter{CustomerID: "c-new", Limit: 10})
			if err != nil || len(page.Items) != 1 {
				t.Fatalf("cycle %d: list after swap: %+v, %v", cycle, page, err)
			}
			old = rebuilt
		}
	})
	t.Run("BulkWritesKeepTheNewestVersion", func(t *testing.T) {
		_, sh := newStores(t)
		testShadowBulk(t, sh)
	})
}

// testShadowBulk: PutMany inserts rows, added or changed alike, and
// replaces a stored row only with a newer version, even one passed as added
// (the adapter's fast insert must fall back); GetMany returns the stored
// rows of the ids it is given, unknown ones left out, past one statement's
// worth of ids too.
func testShadowBulk(t *testing.T, sh ports.ShadowOrderSummary) {
	ctx := testContext(t, visibilityTimeout)
	shadow, err := sh.Shadow(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	var rows []ports.OrderSummary
	var ids []string
	for i := range 2500 {
		r := newSummary(fmt.Sprintf("c-%d", i%7), "placed", baseTime.Add(time.Duration(i)*time.Second))
		if i%2 == 0 {
			r.Items = nil // stored as an empty array
		}
		if i%3 == 0 {
			r.CancellationReason, r.Carrier, r.TrackingNumber = "customer \"changed\" mind", "DHL", fmt.Sprint("T", i)
		}
		rows, ids = append(rows, r), append(ids, r.OrderID)
	}
	if err := shadow.PutMany(ctx, rows[:1200], rows[1200:]); err != nil {
		t.Fatal(err)
	}
	newer, same := rows[0], rows[1]
	newer.Version, newer.Status, newer.Carrier = 3, "shipped", "DHL"
	same.Status = "confirmed" // the stored version 1 again: the stored row is kept
	if err := shadow.PutMany(ctx, nil, []ports.OrderSummary{newer, same}); err != nil {
		t.Fatal(err)
	}
	older := newer
	older.Version, older.Status = 2, "confirmed" // below the stored version 3: kept
	if err := shadow.PutMany(ctx, nil, []ports.OrderSummary{older}); err != nil {
		t.Fatal(err)
	}
	// Rows passed as added though stored: the version guard holds all the
	// same, and the truly new rows beside them and the changed ones of the
	// same call are written.
	added := newSummary("c-added", "placed", baseTime.Add(-time.Hour))
	newest := rows[2]
	newest.Version, newest.Status = 2, "confirmed"
	changed := rows[3]
	changed.Version, changed.Status = 2, "cancelled"
	if err := shadow.PutMany(ctx, []ports.OrderSummary{older, same, added, newest}, []ports.OrderSummary{changed}); err != nil {
		t.Fatal(err)
	}
	rows = append(rows, added)
	ids = append(ids, added.OrderID)
	got, err := shadow.GetMany(ctx, append(ids, "no-such-order"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows) {
		t.Fatalf("GetMany returned %d rows, want %d", len(got), len(rows))
	}
	byID := map[string]ports.OrderSummary{}
	for _, r := range got {
		byID[r.OrderID] = r
	}
	rows[0], rows[2], rows[3] = newer, newest, changed
	for _, want := range rows {
		checkSummary(t, byID[want.OrderID], want)
	}
	if err := sh.Swap(ctx); err != nil {
		t.Fatal(err)
	}
}

// swapWhileReading runs swap while readers hammer the live table: every
// read must find one of the two rows (old before the swap, new after), and
// none may fail.
func swapWhileReading(t *testing.T, live ports.OrderSummaryStore, oldID, newID string, swap func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var (
		wg    sync.WaitGroup
		reads atomic.Int64
		fails = make(chan error, 4)
	)
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				_, errOld := live.Get(ctx, oldID)
				_, errNew := live.Get(ctx, newID)
				if ctx.Err() != nil {
					return
				}
				if errOld != nil && errNew != nil {
					fails <- errors.Join(errOld, errNew)
					return
				}
				reads.Add(1)
			}
		})
	}
	waitFor(t, visibilityTimeout, "readers running", func() (bool, error) { return reads.Load() > 0, nil })
	err := swap()
	cancel()
	wg.Wait()
	close(fails)
	if err != nil {
		t.Fatalf("swap: %v", err)
	}
	for err := range fails {
		t.Fatalf("a reader saw neither table's row during the swap: %v", err)
	}
}
