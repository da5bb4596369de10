package query_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orderflow/orderflow/app/query"
	"github.com/orderflow/orderflow/ports"
)

// lagging is a read model that holds version 1 of every order until ready
// is set, then version 2, and counts its reads.
type lagging struct {
	ports.OrderSummaryReader
	reads atomic.Int32
	ready atomic.Bool
}

func (l *lagging) Get(_ context.Context, orderID string) (ports.OrderSummary, error) {
	l.reads.Add(1)
	v := int64(1)
	if l.ready.Load() {
		v = 2
	}
	return ports.OrderSummary{OrderID: orderID, Version: v}, nil
}

// A read waiting for a version the read model lags behind re-reads less
// and less often (10 ms, doubling, up to 100 ms apart): a second's wait
// costs about a dozen reads, not a hundred. It still sees the version
// once it is there, and answers Stale when the wait ends without it.
func TestAWaitingReadBacksOff(t *testing.T) {
	l := &lagging{}
	h := query.NewGetOrderHandler(l, nil)
	view, err := h.Handle(t.Context(), query.GetOrder{OrderID: "o1", MinVersion: 2, Wait: time.Second})
	if err != nil || !view.Stale || view.Version != 1 {
		t.Fatalf("view %+v, %v; want version 1, stale", view, err)
	}
	if n := l.reads.Load(); n > 20 || n < 5 {
		t.Fatalf("%d reads in a 1 s wait, want about a dozen", n)
	}
	l.reads.Store(0)
	time.AfterFunc(300*time.Millisecond, func() { l.ready.Store(true) })
	view, err = h.Handle(t.Context(), query.GetOrder{OrderID: "o1", MinVersion: 2, Wait: 5 * time.Second})
	if err != nil || view.Stale || view.Version != 2 {
		t.Fatalf("view %+v, %v; want version 2", view, err)
	}
}
