package inventory_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/orderflow/orderflow/app/domain/inventory"
)

// A stock remembers the last Remembered settled or failed orders, through
// a snapshot too: a redelivered reserve of one of them records nothing; the
// oldest beyond that is forgotten, so the state stays bounded.
func TestStockRemembersTheRecentSettledOrders(t *testing.T) {
	now := time.Now()
	s := inventory.New("A")
	if err := s.SetOnHand(10, now); err != nil {
		t.Fatal(err)
	}
	s.Fail("failed-early", 99, []string{"A"}, now)
	for i := range inventory.Remembered + 1 {
		id := fmt.Sprintf("o-%d", i)
		if err := s.Reserve(id, 1, now); err != nil {
			t.Fatal(err)
		}
		s.Release(id, now)
	}
	s.Fail("failed-late", 99, []string{"A"}, now)
	events := s.Changes()
	data, err := inventory.EncodeState(inventory.FromHistory("A", events))
	if err != nil {
		t.Fatal(err)
	}
	for name, st := range map[string]func() *inventory.Stock{
		"folded":        func() *inventory.Stock { return inventory.FromHistory("A", events) },
		"from snapshot": func() *inventory.Stock { st, err := inventory.DecodeState(data); must(t, err); return st },
	} {
		t.Run(name, func(t *testing.T) {
			last := fmt.Sprintf("o-%d", inventory.Remembered)
			st := st()
			must(t, st.Reserve(last, 1, now)) // settled recently: a no-op
			if err := st.Reserve("failed-late", 1, now); err == nil {
				t.Fatal("a recently failed order was reserved")
			}
			if n := len(st.Changes()); n != 0 {
				t.Fatalf("redelivered reserves of remembered orders recorded %d events", n)
			}
			for _, forgotten := range []string{"failed-early", "o-0"} {
				must(t, st.Reserve(forgotten, 1, now))
				if st.ReservedFor(forgotten) != 1 {
					t.Fatalf("%s: not forgotten after %d newer settled orders", forgotten, inventory.Remembered)
				}
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
