package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/adapters/paymentsandbox"
)

// skus are the lines of every order of the load (see newOrder).
var skus = []struct {
	name string
	qty  int64
}{{"SKU-RED-MUG", 2}, {"SKU-TEA", 1}}

// initialStock is set for every SKU before the load: plenty, so that
// checkout confirms every order it gets to.
const initialStock = 100000

// checkoutStateFor is the checkout state that goes with an order's final
// status once the saga has nothing left to do.
var checkoutStateFor = map[string]string{
	"confirmed": "confirmed", "cancelled": "cancelled", "shipped": "completed", "delivered": "completed",
}

// clusterFigures is what verifyCluster found.
type clusterFigures struct {
	plans, states map[string]int
	// lost: accepted orders missing from a read model, event stream or list.
	// dups: orders listed twice or with an event type twice.
	// wrong: orders in a state their plan does not allow (or refused).
	// twice: checkout effects (authorization, capture, ...) done twice.
	// provider: checkouts whose authorization the payment provider shows
	// in another state than the checkout left it.
	lost, dups, wrong, twice, provider int
	unreplied                          int // orders committed whose place reply was lost
	settled                            time.Duration
	stock                              string
}

// verifyCluster waits until every accepted order has settled (read model at
// its stream's version in a final state, checkout finished) and then checks
// it through every process's API, its checkout and the stock.
func verifyCluster(t *testing.T, c *cluster, customer string, res *loadResult) clusterFigures {
	t.Helper()
	f := clusterFigures{plans: map[string]int{}, states: map[string]int{}}
	start := time.Now()
	deadline := start.Add(90 * time.Second)
	for i, o := range res.accepted {
		f.plans[o.plan]++
		if o.refused != "" {
			f.wrong++
			t.Errorf("order %s (%s): unexpected answer %s", o.id, o.plan, o.refused)
			continue
		}
		base := c.bases[i%len(c.bases)]
		var status string
		for {
			events := orderEvents(t, base, o.id)
			got, r := getOrder(t, fmt.Sprintf("%s/v1/orders/%s?min_version=%d", base, o.id, len(events)))
			status = got.Status
			if r.status == http.StatusOK && got.Version == int64(len(events)) && slices.Contains(o.finalStatuses(), status) {
				// An order cancelled before the saga saw it never gets a checkout.
				ck, ok := getCheckout(t, base, o.id)
				if (ok && ck.State == checkoutStateFor[status]) || (!ok && status == "cancelled") {
					break
				}
			}
			if time.Now().After(deadline) {
				ck, _ := getCheckout(t, base, o.id)
				t.Fatalf("order %s (%s, acknowledged %v, in doubt %q) did not settle: read model %d v%d %q, stream v%d, checkout %+v",
					o.id, o.plan, o.done, o.uncertain, r.status, got.Version, got.Status, len(events), ck)
			}
			time.Sleep(20 * time.Millisecond)
		}
		f.states[status]++
	}
	f.settled = time.Since(start)

	for _, o := range res.accepted {
		if o.refused == "" {
			checkSettled(t, c, o, &f)
		}
	}
	// Every process lists each accepted order once.
	var all map[string]string
	for _, base := range c.bases {
		all = listStatuses(t, base, customer)
		for _, o := range res.accepted {
			switch n := strings.Count(all[o.id], ","); {
			case all[o.id] == "":
				f.lost++
				t.Errorf("order %s missing from the list via %s", o.id, base)
			case n > 0:
				f.dups++
				t.Errorf("order %s listed %d times via %s", o.id, n+1, base)
			}
		}
	}
	f.unreplied = len(all) - len(res.accepted)
	f.stock = checkStock(t, c.bases[0], all)
	return f
}

// checkSettled checks one settled order's stream, read model (through
// every process, cache included) and checkout.
func checkSettled(t *testing.T, c *cluster, o *plannedOrder, f *clusterFigures) {
	t.Helper()
	base := c.bases[0]
	events := orderEvents(t, base, o.id)
	types, ids := map[string]int{}, map[string]bool{}
	for i, e := range events {
		name := strings.TrimPrefix(e.Type, "order.")
		name = name[:strings.LastIndex(name, ".v")]
		types[name]++
		if types[name] > 1 || ids[e.EventID] || e.Version != int64(i+1) {
			f.dups++
			t.Errorf("order %s: event %d %+v is a duplicate or out of sequence", o.id, i+1, e)
		}
		ids[e.EventID] = true
	}
	final := ""
	if n := len(events); n > 0 {
		final = strings.TrimPrefix(events[n-1].Type, "order.")
		final = final[:strings.LastIndex(final, ".v")]
	}
	if types["placed"] != 1 {
		f.lost++
		t.Errorf("order %s: %d placed events", o.id, types["placed"])
	}
	if !slices.Contains(o.finalStatuses(), final) {
		f.wrong++
		t.Errorf("order %s (%s, acknowledged %v, in doubt %q): ends %s, want one of %v", o.id, o.plan, o.done, o.uncertain, final, o.finalStatuses())
	}
	for _, b := range c.bases {
		got, r := getOrder(t, b+"/v1/orders/"+o.id)
		if r.status != http.StatusOK || got.Status != final || got.Version != int64(len(events)) {
			f.lost++
			t.Errorf("order %s via %s: read model/cache answers %d v%d %q, stream is at v%d %q",
				o.id, b, r.status, got.Version, got.Status, len(events), final)
		}
	}
	ck, _ := getCheckout(t, base, o.id)
	done := map[string]int{}
	for _, s := range append(slices.Clone(ck.Steps), ck.Compensations...) {
		done[s.Step+" "+s.Status]++
		if done[s.Step+" "+s.Status] == 2 {
			f.twice++
			t.Errorf("order %s: checkout step %s %s twice: %+v", o.id, s.Step, s.Status, ck)
		}
	}
	if auth := done["authorize_payment done"]; (types["confirmed"] == 1 && auth != 1) || auth > 1 {
		f.twice++
		t.Errorf("order %s (events %v): %d authorizations: %+v", o.id, types, auth, ck)
	}
	checkProvider(t, c, o.id, ck, f)
}

// checkProvider compares the checkout's authorization with the provider's
// record of it: held while the order is confirmed, captured once shipped,
// voided once cancelled.
func checkProvider(t *testing.T, c *cluster, orderID string, ck checkoutBody, f *clusterFigures) {
	t.Helper()
	if c.provider == nil {
		return
	}
	auth, want := "", map[string]string{"confirmed": paymentsandbox.StateAuthorized,
		"completed": paymentsandbox.StateCaptured, "cancelled": paymentsandbox.StateVoided}[ck.State]
	for _, s := range append(slices.Clone(ck.Steps), ck.Compensations...) {
		if (s.Step == "authorize_payment" || s.Step == "void_payment") && s.Status == "done" && strings.HasPrefix(s.Detail, "auth_") {
			auth = s.Detail
		}
	}
	if auth == "" {
		return // never authorized (declined, out of stock, cancelled first)
	}
	got, err := c.provider.State(t.Context(), auth)
	if err != nil || got != want {
		f.provider++
		t.Errorf("order %s: checkout %s, provider has authorization %s %q (%v), want %q", orderID, ck.State, auth, got, err, want)
	}
}

// listStatuses pages through a customer's orders and returns each id's
// statuses, comma-separated (more than one: listed twice).
func listStatuses(t *testing.T, base, customer string) map[string]string {
	t.Helper()
	seen := map[string]string{}
	eachListed(t, base, customer, func(o orderBody) {
		if seen[o.OrderID] != "" {
			seen[o.OrderID] += ","
		}
		seen[o.OrderID] += o.Status
	})
	return seen
}

// checkStock compares each SKU with what the orders' final states make:
// shipped and delivered orders took their units off on_hand, confirmed ones
// hold a reservation, cancelled ones nothing.
func checkStock(t *testing.T, base string, statuses map[string]string) string {
	t.Helper()
	count := map[string]int64{}
	for _, s := range statuses {
		count[s]++
	}
	var out []string
	for _, sku := range skus {
		wantOnHand := initialStock - sku.qty*(count["shipped"]+count["delivered"])
		wantReserved := sku.qty * count["confirmed"]
		var s stockBody
		r := do(t, "GET", base+"/v1/inventory/"+sku.name, nil)
		expectStatus(t, r, http.StatusOK)
		r.json(t, &s)
		out = append(out, fmt.Sprintf("%s on_hand %d reserved %d available %d (want %d/%d)",
			sku.name, s.OnHand, s.Reserved, s.Available, wantOnHand, wantReserved))
		if s.OnHand != wantOnHand || s.Reserved != wantReserved || s.Available != s.OnHand-s.Reserved ||
			s.OnHand < 0 || s.Reserved < 0 || s.Available < 0 {
			t.Errorf("stock %s: %+v, want on_hand %d reserved %d", sku.name, s, wantOnHand, wantReserved)
		}
	}
	return strings.Join(out, "; ")
}

type eventRow struct {
	EventID string `json:"event_id"`
	Type    string `json:"type"`
	Version int64  `json:"version"`
}

func orderEvents(t *testing.T, base, id string) []eventRow {
	t.Helper()
	var events []eventRow
	r := do(t, "GET", base+"/v1/orders/"+id+"/events", nil)
	expectStatus(t, r, http.StatusOK)
	r.json(t, &events)
	return events
}
