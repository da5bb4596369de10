package saga_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/adapters/paymentsandbox"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/domain/payment"
	"github.com/orderflow/orderflow/app/saga"
	"github.com/orderflow/orderflow/ports"
)

// The interleaving harness explores checkout step boundaries systematically.
//
// A probe run records every boundary one checkout passes (a point): before
// and after each event append, each checkout save and each payment
// provider call. Then, for every point and every disturbance, a fresh run
// stops the checkout at that point and disturbs it:
//
//   - crash: the operation fails there (before: it never happens; after:
//     it happened, and the process dies before going on), as a SIGKILL
//     would leave it; later deliveries then resume the checkout;
//   - cancel / ship: the customer cancels, or the warehouse ships, the
//     order right there;
//   - duplicate: a redelivered copy of the message runs a whole Advance of
//     the same order right there (another process);
//   - crash-cancel / crash-ship: a crash there, then the customer cancels
//     or the warehouse ships before any redelivery.
//
// A disturbance that writes runs beside the stopped checkout: when the
// stopped unit holds a lock it needs (always on SQLite, whose writers
// serialise at BEGIN), it waits for that unit to end, which is the
// interleaving the databases allow. Then the checkout is driven to its end
// as redeliveries would (a confirmed order is finally shipped), and the
// invariants are checked: the checkout terminal; stock conserved (on hand
// and reserved as the outcome says, nothing held by a finished checkout);
// payment captured iff shipped, every authorization the provider gave
// captured or voided, none left authorized; no order confirmed or shipped
// without stock and payment; each effect once (the stock, payment and order
// streams hold each event type at most once).

type disturbance string

const (
	crash     disturbance = "crash"
	cancel    disturbance = "cancel"
	ship      disturbance = "ship"
	duplicate disturbance = "duplicate"
	// A crash, then the other disturbance before the checkout resumes.
	crashCancel disturbance = "crash-cancel"
	crashShip   disturbance = "crash-ship"
)

var disturbances = []disturbance{crash, cancel, ship, duplicate, crashCancel, crashShip}

// scenario is one checkout's story: the payment method, and whether the
// warehouse ships once the order is confirmed.
type scenario struct {
	name  string
	token string
}

var scenarios = []scenario{
	{"approved", paymentsandbox.TokenApprove},
	{"declined", paymentsandbox.TokenDecline},
}

func TestCheckoutInterleavings(t *testing.T) {
	if testing.Short() {
		t.Skip("explores hundreds of interleavings")
	}
	bothStores(t, func(t *testing.T, st stores) {
		total := 0
		for _, sc := range scenarios {
			points := probe(t, st, sc)
			for _, d := range disturbances {
				for k, p := range points {
					t.Run(fmt.Sprintf("%s/%s@%02d_%s", sc.name, d, k, p), func(t *testing.T) {
						explore(t, st, sc, k, d)
					})
					total++
				}
			}
		}
		t.Logf("%d interleavings explored", total)
	})
}

// probe runs sc undisturbed and returns the points it passes.
func probe(t *testing.T, st stores, sc scenario) []string {
	t.Helper()
	e, id, sku := placeTwoOfFiveOf(t, st, sc.token)
	var points []string
	r := newRig(t, e, st, sku, func(p string) error { points = append(points, p); return nil })
	r.crashed(t, id)
	r.drive(t, id)
	if len(points) == 0 {
		t.Fatal("the probe passed no point")
	}
	return points
}

// explore runs sc, disturbs it with d at its k-th point, drives it to its
// end and checks the invariants.
func explore(t *testing.T, st stores, sc scenario, k int, d disturbance) {
	e, id, sku := placeTwoOfFiveOf(t, st, sc.token)
	var n atomic.Int32
	var wg sync.WaitGroup
	var r *rig
	r = newRig(t, e, st, sku, func(string) error {
		if int(n.Add(1))-1 != k {
			return nil
		}
		if d == crash || d == crashCancel || d == crashShip {
			return errCrash
		}
		wg.Add(1)
		done := make(chan struct{})
		go func() {
			defer wg.Done()
			defer close(done)
			r.disturb(t, id, d)
		}()
		select {
		case <-done:
		case <-time.After(300 * time.Millisecond):
			// Waiting for a lock the stopped unit holds: it goes on after
			// the unit ends.
		}
		return nil
	})
	r.crashed(t, id)
	switch d {
	case crashCancel:
		r.disturb(t, id, cancel)
	case crashShip:
		r.disturb(t, id, ship)
	}
	r.drive(t, id)
	wg.Wait()
	r.drive(t, id) // redeliveries of what the disturbance caused
	r.check(t, id)
}

// rig is a checkout whose stores and provider stop at every point (hooked),
// and an undisturbed one on the same stores and provider (plain), which
// the disturbances and the redeliveries after a crash use.
type rig struct {
	e      *env
	sku    string // the one SKU of the order: two units of five on hand
	hooked *saga.Checkout
	plain  *saga.Checkout
	gw     *recordingGateway
}

func newRig(t *testing.T, e *env, st stores, sku string, at func(point string) error) *rig {
	t.Helper()
	gw := &recordingGateway{PaymentGateway: e.gateway}
	h := &hooks{
		beforeAppend: func(_ context.Context, appends []ports.StreamAppend) error {
			return at("append " + eventTypes(appends))
		},
		afterAppend: func(_ context.Context, appends []ports.StreamAppend) error {
			return at("appended " + eventTypes(appends))
		},
		beforeSave: func(_ context.Context, c ports.Checkout) error { return at("save " + c.State) },
		afterSave:  func(_ context.Context, c ports.Checkout) error { return at("saved " + c.State) },
	}
	return &rig{e: e, sku: sku, gw: gw,
		hooked: e.hookedWith(st, h, hookedGateway{gw, at}),
		plain:  e.hookedWith(st, &hooks{}, gw)}
}

// crashed runs the hooked checkout once: the delivery that meets the
// point (its crash is the process dying there).
func (r *rig) crashed(t *testing.T, id string) {
	t.Helper()
	err := r.hooked.Advance(t.Context(), id)
	if err != nil && !errors.Is(err, errCrash) {
		t.Fatalf("advance: %v", err)
	}
	if err != nil {
		return // the process died
	}
	// Confirmed: the warehouse ships, and the same process settles, so
	// that the settlement's points (capture, commit) are disturbed too.
	if c, err := r.e.checkouts.Get(t.Context(), id); err != nil || c.State != saga.StateConfirmed {
		return
	}
	r.disturb(t, id, ship)
	if err := r.hooked.Advance(t.Context(), id); err != nil && !errors.Is(err, errCrash) {
		t.Fatalf("advance after shipping: %v", err)
	}
}

// drive runs redeliveries on the plain checkout until it waits for nobody;
// a confirmed order is shipped, as the warehouse eventually does.
func (r *rig) drive(t *testing.T, id string) {
	t.Helper()
	for range 5 {
		if err := r.plain.Advance(t.Context(), id); err != nil {
			t.Fatalf("redelivery: %v", err)
		}
		c, err := r.e.checkouts.Get(t.Context(), id)
		if errors.Is(err, ports.ErrCheckoutNotFound) {
			return // cancelled before any checkout began (check says)
		}
		if err != nil {
			t.Fatal(err)
		}
		if c.State != saga.StateConfirmed {
			return
		}
		r.disturb(t, id, ship)
	}
}

// disturb does d to the order now (crash is not done here: it is the
// hook's error).
func (r *rig) disturb(t *testing.T, id string, d disturbance) {
	var err error
	switch d {
	case cancel:
		_, err = r.e.orders.Update(context.Background(), id, 0, func(o *order.Order) error {
			return o.Cancel("changed my mind", time.Now())
		})
	case ship:
		_, err = r.e.orders.Update(context.Background(), id, 0, func(o *order.Order) error {
			return o.Ship("dhl", "T1", time.Now())
		})
	case duplicate:
		err = r.plain.Advance(context.Background(), id)
	}
	// Shipping or cancelling an order in the wrong state is refused, as
	// over HTTP: the disturbance does nothing then.
	if err != nil && !apperr.Is(err, apperr.Conflict) && !apperr.Is(err, apperr.PreconditionFailed) && !apperr.Is(err, apperr.Invalid) {
		t.Errorf("%s: %v", d, err)
	}
}

// check asserts the invariants of a finished checkout of two units of A
// (five on hand).
func (r *rig) check(t *testing.T, id string) {
	t.Helper()
	ctx := t.Context()
	c, err := r.e.checkouts.Get(ctx, id)
	if errors.Is(err, ports.ErrCheckoutNotFound) {
		// A crash rolled back the checkout's start and the order was
		// cancelled before a redelivery: no checkout ever began.
		c.State, err = saga.StateCancelled, nil
	}
	if err != nil {
		t.Fatal(err)
	}
	o, err := r.e.orders.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.e.payments.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("checkout %s (%s), order %s, payment %s: "+format+"\nsteps %+v\ncompensations %+v",
			append([]any{c.State, c.Reason, o.Status(), p.Status()}, append(args, c.Steps, c.Compensations)...)...)
	}
	switch c.State {
	case saga.StateCompleted:
		if o.Status() != order.StatusShipped || p.Status() != payment.StatusCaptured {
			fail("completed without a shipped order and a captured payment")
		}
		r.e.levels(t, r.sku, 3, 0)
	case saga.StateCancelled:
		if o.Status() != order.StatusCancelled {
			fail("cancelled checkout of an order not cancelled")
		}
		if p.Status() == payment.StatusAuthorized || p.Status() == payment.StatusCaptured {
			fail("a cancelled checkout left the payment %s", p.Status())
		}
		r.e.levels(t, r.sku, 5, 0)
	default:
		fail("not terminal")
	}
	for _, authID := range r.gw.approved() {
		s, err := r.e.gateway.State(ctx, authID)
		if err != nil {
			t.Fatal(err)
		}
		want := paymentsandbox.StateVoided
		if c.State == saga.StateCompleted {
			want = paymentsandbox.StateCaptured
		}
		if s != want {
			fail("authorization %s is %s at the provider, want %s", authID, s, want)
		}
	}
	for _, stream := range []ports.Stream{{Type: "inventory", ID: r.sku}, {Type: "payment", ID: id}, {Type: order.AggregateType, ID: id}} {
		events, err := r.e.events.Load(ctx, stream, 1)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, ev := range events {
			if seen[ev.Type] && ev.Type != "inventory.stock_set.v1" {
				fail("%s holds %s twice: an effect ran twice", stream, ev.Type)
			}
			seen[ev.Type] = true
		}
	}
}

// placeTwoOfFiveOf places an order of two units of a new SKU, of which
// five are on hand, paid with token: the runs of one store share nothing.
func placeTwoOfFiveOf(t *testing.T, st stores, token string) (*env, string, string) {
	e := newEnv(t, st, saga.Config{}, paymentsandbox.Config{})
	sku := "A-" + uuid.NewString()[:8]
	e.stock(t, sku, 5)
	return e, e.place(t, token, item(sku, 2)), sku
}

func eventTypes(appends []ports.StreamAppend) string {
	s := ""
	for _, a := range appends {
		for _, ev := range a.Events {
			if s != "" {
				s += "+"
			}
			s += ev.Type
		}
	}
	return s
}

// recordingGateway remembers every authorization the provider approved.
type recordingGateway struct {
	ports.PaymentGateway
	mu  sync.Mutex
	ids []string
}

func (g *recordingGateway) Authorize(ctx context.Context, req ports.AuthorizeRequest) (ports.Authorization, error) {
	auth, err := g.PaymentGateway.Authorize(ctx, req)
	if err == nil && auth.Approved {
		g.mu.Lock()
		g.ids = append(g.ids, auth.ID)
		g.mu.Unlock()
	}
	return auth, err
}

func (g *recordingGateway) approved() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.ids...)
}

// hookedGateway passes the points before and after every provider call.
type hookedGateway struct {
	ports.PaymentGateway
	at func(point string) error
}

func (g hookedGateway) Authorize(ctx context.Context, req ports.AuthorizeRequest) (ports.Authorization, error) {
	if err := g.at("call authorize"); err != nil {
		return ports.Authorization{}, err
	}
	auth, err := g.PaymentGateway.Authorize(ctx, req)
	if err == nil {
		err = g.at("called authorize")
	}
	return auth, err
}

func (g hookedGateway) Capture(ctx context.Context, key, authorizationID string) error {
	return g.around("capture", func() error { return g.PaymentGateway.Capture(ctx, key, authorizationID) })
}

func (g hookedGateway) Void(ctx context.Context, key, authorizationID string) error {
	return g.around("void", func() error { return g.PaymentGateway.Void(ctx, key, authorizationID) })
}

// around passes the points before and after call.
func (g hookedGateway) around(name string, call func() error) error {
	if err := g.at("call " + name); err != nil {
		return err
	}
	if err := call(); err != nil {
		return err
	}
	return g.at("called " + name)
}
