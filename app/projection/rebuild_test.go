package projection_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/orderflow/orderflow/app/projection"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
)

// An interrupted rebuild resumes from the position it returns (the one the
// CLI prints) and ends with the read model a fresh projection gives; the
// live table is untouched until the swap. The interruption: every write to
// the shadow table after the first fails (the database went away), so the
// position is the first write's, after the first batch, whenever the fold
// saw the failure. The resumed run's working set of one row reads rows
// back.
func TestRebuildResumesAfterInterruption(t *testing.T) {
	f := loadFixture(t)
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		storeFixture(t, s.Events, f)
		storetest.ReadAll(t, s.Events, len(f.Events))

		var reported []ports.Position
		res, err := projection.OrderSummaryRebuild{Events: s.Events, Live: s.Orders, Shadow: failingShadow{s.Shadow},
			BatchSize: 2, FlushRows: 1,
			Progress: func(p projection.RebuildProgress) { reported = append(reported, p.Position) }}.Run(t.Context(), ports.Position{})
		if err == nil || res.Position == (ports.Position{}) {
			t.Fatalf("interrupted rebuild: %v, position %v", err, res.Position)
		}
		for _, p := range reported {
			if p != (ports.Position{}) && p != res.Position {
				t.Errorf("a progress report showed position %v, past the last write %v", p, res.Position)
			}
		}
		if _, err := s.Orders.Get(t.Context(), f.OrderSummary[0].OrderID); err == nil {
			t.Fatal("an interrupted rebuild changed the live table")
		}

		res, err = projection.OrderSummaryRebuild{Events: s.Events, Live: s.Orders, Shadow: s.Shadow, BatchSize: 2, WorkingSet: 1}.
			Run(t.Context(), res.Position)
		if err != nil {
			t.Fatal(err)
		}
		if res.Events != int64(len(f.Events))-2 {
			t.Errorf("resumed run read %d events, want %d", res.Events, len(f.Events)-2)
		}
		for _, want := range f.OrderSummary {
			got, err := s.Orders.Get(t.Context(), want.OrderID)
			if err != nil || !reflect.DeepEqual(want, got) {
				t.Errorf("order_summary %s:\n got %+v (%v)\nwant %+v", want.OrderID, got, err, want)
			}
		}
	})
}

// failingShadow's shadow table fails every write after the first.
type failingShadow struct{ ports.ShadowOrderSummary }

func (s failingShadow) Shadow(ctx context.Context, fresh bool) (ports.ShadowOrderSummaryStore, error) {
	store, err := s.ShadowOrderSummary.Shadow(ctx, fresh)
	return &failingStore{ShadowOrderSummaryStore: store}, err
}

type failingStore struct {
	ports.ShadowOrderSummaryStore
	writes int // one write at a time
}

func (s *failingStore) PutMany(ctx context.Context, added, changed []ports.OrderSummary) error {
	if s.writes++; s.writes > 1 {
		return errors.New("connection lost")
	}
	return s.ShadowOrderSummaryStore.PutMany(ctx, added, changed)
}
