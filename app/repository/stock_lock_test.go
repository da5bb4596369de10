package repository_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/app/domain/inventory"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
)

// Units of work that reserve the same SKU at once take turns on its stream
// (Codec.LockBeforeLoad): each loads the stock once and appends at the
// version it loaded, none reruns its change after losing a version check.
func TestConcurrentReservationsOfOneSKUQueueInsteadOfRetrying(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := t.Context()
		stocks := repository.NewStocks(s.Events, ports.SystemClock{})
		sku := "SKU-" + uuid.NewString()[:8]
		now := time.Now()
		if _, err := stocks.Update(ctx, sku, func(st *inventory.Stock) error { return st.SetOnHand(100, now) }); err != nil {
			t.Fatal(err)
		}
		const units = 12
		var runs atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, units)
		start := make(chan struct{})
		for i := range units {
			wg.Go(func() {
				<-start
				errs <- s.Tx.InTx(ctx, func(ctx context.Context) error {
					_, err := stocks.Update(ctx, sku, func(st *inventory.Stock) error {
						runs.Add(1)
						time.Sleep(5 * time.Millisecond) // a unit's other work, while it holds the stream
						return st.Reserve(fmt.Sprintf("o-%d", i), 1, now)
					})
					return err
				})
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := runs.Load(); n != units {
			t.Fatalf("%d reservations ran their change %d times: a unit lost the version check and reloaded", units, n)
		}
		st, err := stocks.Load(ctx, sku)
		if err != nil || st.Reserved() != units || st.Version() != units+1 {
			t.Fatalf("reserved %d at version %d (%v), want %d at %d", st.Reserved(), st.Version(), err, units, units+1)
		}
	})
}
