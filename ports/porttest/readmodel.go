package porttest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/ports"
)

// RunOrderSummaryStore runs the ports.OrderSummaryStore contract against the
// stores that newStore returns: one fresh, empty store per subtest.
func RunOrderSummaryStore(t *testing.T, newStore func(t *testing.T) ports.OrderSummaryStore) {
	runContract(t, newStore, []contractCase[ports.OrderSummaryStore]{
		{"SaveNewAndGetRoundTrip", testSummaryRoundTrip},
		{"SaveAtPrevVersionUpdates", testSummaryUpdate},
		{"StaleSaveIsRejected", testSummaryStale},
		{"GetUnknownIsNotFound", testSummaryNotFound},
		{"ListFilters", testSummaryListFilters},
		{"ListPagesWalkAllOnce", testSummaryPagination},
		{"ListPagesStableUnderInserts", testSummaryStablePages},
		{"ListInvalidCursor", testSummaryInvalidCursor},
	})
}

// baseTime is a fixed instant with sub-microsecond digits, which stores may
// drop: the suite compares times truncated to microseconds.
var baseTime = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

// newSummary returns a fully populated summary created at created.
func newSummary(customer, status string, created time.Time) ports.OrderSummary {
	return ports.OrderSummary{
		OrderID:    uuid.NewString(),
		CustomerID: customer,
		Status:     status,
		Items: []ports.OrderLine{
			{SKU: "SKU-1", Quantity: 2, UnitPrice: 1250},
			{SKU: "SKU-2", Quantity: 1, UnitPrice: 999},
		},
		Total:              3499,
		Currency:           "EUR",
		Version:            1,
		CreatedAt:          created,
		UpdatedAt:          created.Add(90 * time.Second),
		CancellationReason: "",
		Carrier:            "",
		TrackingNumber:     "",
	}
}

func mustSave(t *testing.T, s ports.OrderSummaryStore, o ports.OrderSummary, prev int64) {
	t.Helper()
	if err := s.Save(t.Context(), o, prev); err != nil {
		t.Fatalf("Save(%s v%d, prev %d): %v", o.OrderID, o.Version, prev, err)
	}
}

func mustGet(t *testing.T, s ports.OrderSummaryStore, id string) ports.OrderSummary {
	t.Helper()
	got, err := s.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return got
}

// checkSummary fails unless got equals want, times compared at microsecond
// precision and nil and empty Items taken as equal.
func checkSummary(t *testing.T, got, want ports.OrderSummary) {
	t.Helper()
	if !got.CreatedAt.Truncate(time.Microsecond).Equal(want.CreatedAt.Truncate(time.Microsecond)) ||
		!got.UpdatedAt.Truncate(time.Microsecond).Equal(want.UpdatedAt.Truncate(time.Microsecond)) {
		t.Errorf("order %s: times %v / %v, want %v / %v (to the microsecond)",
			want.OrderID, got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
	if len(got.Items) == 0 && len(want.Items) == 0 {
		got.Items, want.Items = nil, nil
	}
	got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("order %s:\n got %+v\nwant %+v", want.OrderID, got, want)
	}
}

func testSummaryRoundTrip(t *testing.T, s ports.OrderSummaryStore) {
	o := newSummary("customer-1", "shipped", baseTime)
	o.CancellationReason = "changed mind — ünïcode"
	o.Carrier = "DHL"
	o.TrackingNumber = "JD0146000033"
	mustSave(t, s, o, 0)
	checkSummary(t, mustGet(t, s, o.OrderID), o)

	bare := newSummary("customer-2", "placed", baseTime)
	bare.Items = nil
	bare.Total = 0
	mustSave(t, s, bare, 0)
	checkSummary(t, mustGet(t, s, bare.OrderID), bare)
}

func testSummaryUpdate(t *testing.T, s ports.OrderSummaryStore) {
	o := newSummary("customer-1", "placed", baseTime)
	mustSave(t, s, o, 0)
	o.Status, o.Version, o.UpdatedAt = "confirmed", 2, o.UpdatedAt.Add(time.Minute)
	mustSave(t, s, o, 1)
	o.Status, o.Version, o.Carrier, o.TrackingNumber = "shipped", 3, "UPS", "1Z999"
	mustSave(t, s, o, 2)
	checkSummary(t, mustGet(t, s, o.OrderID), o)
}

func testSummaryStale(t *testing.T, s ports.OrderSummaryStore) {
	o := newSummary("customer-1", "placed", baseTime)
	mustSave(t, s, o, 0)

	changed := o
	changed.Status, changed.Version = "cancelled", 2
	for _, prev := range []int64{0, 2, 5} {
		if err := s.Save(t.Context(), changed, prev); !errors.Is(err, ports.ErrStaleWrite) {
			t.Errorf("Save at prev %d over version 1: err = %v, want ErrStaleWrite", prev, err)
		}
	}
	checkSummary(t, mustGet(t, s, o.OrderID), o)

	// A row that does not exist is not at any version but 0.
	missing := newSummary("customer-1", "placed", baseTime)
	if err := s.Save(t.Context(), missing, 3); !errors.Is(err, ports.ErrStaleWrite) {
		t.Errorf("Save of a new row at prev 3: err = %v, want ErrStaleWrite", err)
	}
	if _, err := s.Get(t.Context(), missing.OrderID); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("Get after rejected Save: err = %v, want ErrNotFound", err)
	}
}

func testSummaryNotFound(t *testing.T, s ports.OrderSummaryStore) {
	if _, err := s.Get(t.Context(), uuid.NewString()); !errors.Is(err, ports.ErrNotFound) {
		t.Fatalf("Get unknown: err = %v, want ErrNotFound", err)
	}
}

// seedOrders saves n orders, cycling through customers and statuses, created
// a minute apart except that every third one shares its predecessor's
// created_at, so ties are broken by order id. It returns them newest first,
// the order List must use.
func seedOrders(t *testing.T, s ports.OrderSummaryStore, n int, customers, statuses []string) []ports.OrderSummary {
	t.Helper()
	orders := make([]ports.OrderSummary, n)
	created := baseTime
	for i := range orders {
		if i%3 != 2 {
			created = created.Add(time.Minute)
		}
		orders[i] = newSummary(customers[i%len(customers)], statuses[i%len(statuses)], created)
		mustSave(t, s, orders[i], 0)
	}
	sortNewestFirst(orders)
	return orders
}

func sortNewestFirst(orders []ports.OrderSummary) {
	for i := 1; i < len(orders); i++ {
		for j := i; j > 0 && newer(orders[j], orders[j-1]); j-- {
			orders[j], orders[j-1] = orders[j-1], orders[j]
		}
	}
}

func newer(a, b ports.OrderSummary) bool {
	ta, tb := a.CreatedAt.Truncate(time.Microsecond), b.CreatedAt.Truncate(time.Microsecond)
	return ta.After(tb) || (ta.Equal(tb) && a.OrderID > b.OrderID)
}

// listAll walks every page of filter and fails unless each page is non-empty,
// holds at most Limit items, and only the last has no NextCursor.
func listAll(t *testing.T, s ports.OrderSummaryStore, filter ports.OrderFilter) []ports.OrderSummary {
	t.Helper()
	var all []ports.OrderSummary
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatalf("List: more than 1000 pages, the cursor does not advance")
		}
		page, err := s.List(t.Context(), filter)
		if err != nil {
			t.Fatalf("List(%+v): %v", filter, err)
		}
		if len(page.Items) > filter.Limit || (len(page.Items) == 0 && pages > 0) {
			t.Fatalf("List(%+v): page %d has %d items", filter, pages, len(page.Items))
		}
		all = append(all, page.Items...)
		if page.NextCursor == "" {
			return all
		}
		filter.Cursor = page.NextCursor
	}
}

func checkOrderIDs(t *testing.T, what string, got, want []ports.OrderSummary) {
	t.Helper()
	ids := func(os []ports.OrderSummary) string {
		s := ""
		for _, o := range os {
			s += o.OrderID[:8] + " "
		}
		return s
	}
	if ids(got) != ids(want) {
		t.Fatalf("%s:\n got %s\nwant %s", what, ids(got), ids(want))
	}
	for i := range got {
		checkSummary(t, got[i], want[i])
	}
}

func filterOrders(orders []ports.OrderSummary, customer, status string) []ports.OrderSummary {
	var out []ports.OrderSummary
	for _, o := range orders {
		if (customer == "" || o.CustomerID == customer) && (status == "" || o.Status == status) {
			out = append(out, o)
		}
	}
	return out
}

func testSummaryListFilters(t *testing.T, s ports.OrderSummaryStore) {
	customers := []string{"alice", "bob", "carol"}
	statuses := []string{"placed", "confirmed", "shipped", "cancelled"}
	orders := seedOrders(t, s, 24, customers, statuses)
	for _, f := range []struct{ customer, status string }{
		{"", ""}, {"alice", ""}, {"", "shipped"}, {"bob", "confirmed"}, {"alice", "confirmed"}, {"nobody", ""},
	} {
		got := listAll(t, s, ports.OrderFilter{CustomerID: f.customer, Status: f.status, Limit: 100})
		checkOrderIDs(t, fmt.Sprintf("List(customer %q, status %q)", f.customer, f.status), got,
			filterOrders(orders, f.customer, f.status))
	}
}

func testSummaryPagination(t *testing.T, s ports.OrderSummaryStore) {
	orders := seedOrders(t, s, 25, []string{"alice", "bob"}, []string{"placed", "shipped"})
	for _, limit := range []int{1, 5, 7, 25, 26} {
		got := listAll(t, s, ports.OrderFilter{Limit: limit})
		checkOrderIDs(t, fmt.Sprintf("pages of %d", limit), got, orders)
	}
	got := listAll(t, s, ports.OrderFilter{CustomerID: "bob", Limit: 4})
	checkOrderIDs(t, "bob's orders in pages of 4", got, filterOrders(orders, "bob", ""))
}

func testSummaryStablePages(t *testing.T, s ports.OrderSummaryStore) {
	orders := seedOrders(t, s, 12, []string{"alice"}, []string{"placed"})
	filter := ports.OrderFilter{Limit: 5}
	first, err := s.List(t.Context(), filter)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	// An order created now, newer than all, must not shift the next pages.
	mustSave(t, s, newSummary("alice", "placed", orders[0].CreatedAt.Add(time.Hour)), 0)
	filter.Cursor = first.NextCursor
	rest := listAll(t, s, filter)
	checkOrderIDs(t, "pages read across an insert", append(first.Items, rest...), orders)
}

func testSummaryInvalidCursor(t *testing.T, s ports.OrderSummaryStore) {
	seedOrders(t, s, 3, []string{"alice"}, []string{"placed"})
	for _, cursor := range []string{"not a cursor!", "Zm9v", "%%%", "eyJhIjoxfQ"} {
		_, err := s.List(t.Context(), ports.OrderFilter{Limit: 2, Cursor: cursor})
		if !errors.Is(err, ports.ErrInvalidCursor) {
			t.Errorf("List(cursor %q): err = %v, want ErrInvalidCursor", cursor, err)
		}
	}
}
