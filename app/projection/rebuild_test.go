package projection_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/orderflow/orderflow/app/projection"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
)

// An interrupted rebuild resumes from the last position it reported and
// ends with the read model a fresh projection gives; the live table is
// untouched until the swap. FlushRows 1 writes every batch, so the first
// report has a position to resume from; the resumed run's working set of
// one row reads rows back, some of them written after that position.
func TestRebuildResumesAfterInterruption(t *testing.T) {
	f := loadFixture(t)
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		storeFixture(t, s.Events, f)
		storetest.ReadAll(t, s.Events, len(f.Events))

		ctx, cancel := context.WithCancel(t.Context())
		var last ports.Position
		_, err := projection.OrderSummaryRebuild{Events: s.Events, Live: s.Orders, Shadow: s.Shadow, BatchSize: 2, FlushRows: 1,
			Progress: func(p projection.RebuildProgress) {
				if last == (ports.Position{}) && p.Position != (ports.Position{}) {
					last = p.Position
					cancel()
				}
			}}.Run(ctx, ports.Position{})
		if err == nil || last == (ports.Position{}) {
			t.Fatalf("interrupted rebuild: %v, last position %v", err, last)
		}
		if _, err := s.Orders.Get(t.Context(), f.OrderSummary[0].OrderID); err == nil {
			t.Fatal("an interrupted rebuild changed the live table")
		}

		res, err := projection.OrderSummaryRebuild{Events: s.Events, Live: s.Orders, Shadow: s.Shadow, BatchSize: 2, WorkingSet: 1}.
			Run(t.Context(), last)
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
