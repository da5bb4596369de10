package saga_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/adapters/paymentsandbox"
	"github.com/orderflow/orderflow/adapters/postgres"
	"github.com/orderflow/orderflow/adapters/sqlite"
	"github.com/orderflow/orderflow/app/domain/inventory"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/app/domain/payment"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/app/saga"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
)

// env is the saga on real stores with the sandbox provider; the tests call
// Advance directly, as the router's handlers do.
type env struct {
	events    ports.EventStore
	saga      *saga.Checkout
	orders    *repository.Orders
	stocks    *repository.Stocks
	payments  *repository.Payments
	checkouts ports.CheckoutStore
	gateway   *paymentsandbox.Gateway
}

type stores struct {
	events    ports.EventStore
	checkouts ports.CheckoutStore
	tx        ports.Transactor
	sqlite    bool // SQLite: writers serialise on BEGIN, so no writer can act inside another's unit
	// gateway builds the sandbox provider on the same database.
	gateway func(paymentsandbox.Config) *paymentsandbox.Gateway
}

// sagaStores adds the checkout store and the sandbox provider of the same
// database to a backend's fresh stores.
func sagaStores(s storetest.Stores) stores {
	st := stores{events: s.Events}
	if s.SQLite != nil {
		st.checkouts, st.tx, st.sqlite = sqlite.Stores(s.SQLite).Checkouts, sqlite.Stores(s.SQLite).Tx, true
		st.gateway = func(c paymentsandbox.Config) *paymentsandbox.Gateway { return paymentsandbox.NewSQLite(s.SQLite, c) }
	} else {
		st.checkouts, st.tx = postgres.Stores(s.Postgres).Checkouts, postgres.Stores(s.Postgres).Tx
		st.gateway = func(c paymentsandbox.Config) *paymentsandbox.Gateway {
			return paymentsandbox.NewPostgres(s.Postgres, c)
		}
	}
	return st
}

func openSQLite(t *testing.T) stores { return sagaStores(storetest.SQLite(t)) }

func newEnv(t *testing.T, st stores, cfg saga.Config, gw paymentsandbox.Config) *env {
	clock := ports.SystemClock{}
	e := &env{
		events:    st.events,
		orders:    repository.NewOrders(st.events, clock),
		stocks:    repository.NewStocks(st.events, clock),
		payments:  repository.NewPayments(st.events, clock),
		checkouts: st.checkouts,
		gateway:   st.gateway(gw),
	}
	e.saga = saga.New(cfg, saga.Deps{Orders: e.orders, Stocks: e.stocks, Payments: e.payments,
		Checkouts: e.checkouts, Tx: st.tx, Gateway: e.gateway, Clock: clock})
	return e
}

func (e *env) stock(t *testing.T, sku string, n int64) {
	t.Helper()
	if _, err := e.stocks.Update(t.Context(), sku, func(s *inventory.Stock) error { return s.SetOnHand(n, time.Now()) }); err != nil {
		t.Fatal(err)
	}
}

func (e *env) place(t *testing.T, token string, items ...order.Item) string {
	t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	o, err := order.Place(order.PlaceParams{OrderID: id, CustomerID: "c1", Currency: "EUR", Items: items,
		ShippingAddress: order.Address{Name: "A", Line1: "B", City: "C", PostalCode: "1", Country: "DE"},
		PaymentMethod:   token}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.orders.Create(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	return id
}

func (e *env) advance(t *testing.T, id string) {
	t.Helper()
	if err := e.saga.Advance(t.Context(), id); err != nil {
		t.Fatalf("advance %s: %v", id, err)
	}
}

func (e *env) expect(t *testing.T, id, state string, status order.Status, reasonPrefix string) ports.Checkout {
	t.Helper()
	c, err := e.checkouts.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	o, err := e.orders.Load(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if c.State != state || o.Status() != status || !strings.HasPrefix(c.Reason, reasonPrefix) ||
		!strings.HasPrefix(o.CancellationReason(), reasonPrefix) {
		t.Fatalf("checkout %s (%q), order %s (%q); want %s, %s, reason %q\nsteps %+v\ncompensations %+v",
			c.State, c.Reason, o.Status(), o.CancellationReason(), state, status, reasonPrefix, c.Steps, c.Compensations)
	}
	return c
}

func (e *env) levels(t *testing.T, sku string, onHand, reserved int64) {
	t.Helper()
	s, err := e.stocks.Load(t.Context(), sku)
	if err != nil {
		t.Fatal(err)
	}
	if s.OnHand() != onHand || s.Reserved() != reserved {
		t.Fatalf("%s: on_hand %d reserved %d, want %d %d", sku, s.OnHand(), s.Reserved(), onHand, reserved)
	}
}

func (e *env) paymentStatus(t *testing.T, id string, want payment.Status) {
	t.Helper()
	p, err := e.payments.Load(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status() != want {
		t.Fatalf("payment %q, want %q", p.Status(), want)
	}
}

// bothStores runs run as a subtest on fresh SQLite and Postgres stores.
func bothStores(t *testing.T, run func(t *testing.T, st stores)) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) { run(t, sagaStores(s)) })
}

func item(sku string, q int64) order.Item { return order.Item{SKU: sku, Quantity: q, UnitPrice: 100} }

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10s")
		}
		time.Sleep(5 * time.Millisecond) // poll interval
	}
}

// hooks stop a second saga instance (another process, on the same stores)
// at a step boundary: before and after its repositories append (the
// effect), before and after it saves its checkout. An error from a hook is
// returned instead of going on, as a crash right there would leave it.
type hooks struct {
	beforeAppend, afterAppend func(ctx context.Context, appends []ports.StreamAppend) error
	beforeSave, afterSave     func(ctx context.Context, c ports.Checkout) error
}

func runHook[T any](hook func(context.Context, T) error, ctx context.Context, v T) error {
	if hook == nil {
		return nil
	}
	return hook(ctx, v)
}

type hookedEvents struct {
	ports.EventStore
	h *hooks
}

func (s hookedEvents) Append(ctx context.Context, stream ports.Stream, expectedVersion int64, events []ports.NewEvent) (ports.AppendResult, error) {
	appends := []ports.StreamAppend{{Stream: stream, ExpectedVersion: expectedVersion, Events: events}}
	if err := runHook(s.h.beforeAppend, ctx, appends); err != nil {
		return ports.AppendResult{}, err
	}
	res, err := s.EventStore.Append(ctx, stream, expectedVersion, events)
	if err != nil {
		return res, err
	}
	return res, runHook(s.h.afterAppend, ctx, appends)
}

func (s hookedEvents) AppendMany(ctx context.Context, appends []ports.StreamAppend) error {
	if err := runHook(s.h.beforeAppend, ctx, appends); err != nil {
		return err
	}
	if err := s.EventStore.AppendMany(ctx, appends); err != nil {
		return err
	}
	return runHook(s.h.afterAppend, ctx, appends)
}

type hookedCheckouts struct {
	ports.CheckoutStore
	h *hooks
}

func (s hookedCheckouts) Save(ctx context.Context, c ports.Checkout) error {
	if err := runHook(s.h.beforeSave, ctx, c); err != nil {
		return err
	}
	if err := s.CheckoutStore.Save(ctx, c); err != nil {
		return err
	}
	return runHook(s.h.afterSave, ctx, c)
}

// SaveMany (a batch's commit) runs the hooks of each checkout around one
// SaveMany, as the store runs it.
func (s hookedCheckouts) SaveMany(ctx context.Context, cs []ports.Checkout) error {
	for _, c := range cs {
		if err := runHook(s.h.beforeSave, ctx, c); err != nil {
			return err
		}
	}
	if err := s.CheckoutStore.SaveMany(ctx, cs); err != nil {
		return err
	}
	for _, c := range cs {
		if err := runHook(s.h.afterSave, ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// hooked returns a second saga on e's stores and gateway, stopped by h.
func (e *env) hooked(st stores, h *hooks) *saga.Checkout { return e.hookedWith(st, h, e.gateway) }

// hookedWith is hooked with another gateway.
func (e *env) hookedWith(st stores, h *hooks, gw ports.PaymentGateway) *saga.Checkout {
	clock := ports.SystemClock{}
	events := hookedEvents{EventStore: st.events, h: h}
	return saga.New(saga.Config{}, saga.Deps{Orders: repository.NewOrders(events, clock),
		Stocks: repository.NewStocks(events, clock), Payments: repository.NewPayments(events, clock),
		Checkouts: hookedCheckouts{CheckoutStore: st.checkouts, h: h}, Tx: st.tx, Gateway: gw, Clock: clock})
}

// once returns a func that reports true the first time only.
func once() func() bool {
	var done atomic.Bool
	return func() bool { return done.CompareAndSwap(false, true) }
}

func (e *env) stockVersion(t *testing.T, sku string) int64 {
	t.Helper()
	s, err := e.stocks.Load(t.Context(), sku)
	if err != nil {
		t.Fatal(err)
	}
	return s.Version()
}

// providerState is the state of c's authorization at the sandbox provider.
func (e *env) providerState(t *testing.T, c ports.Checkout) string {
	t.Helper()
	if c.AuthorizationID == "" {
		t.Fatalf("checkout %s has no authorization", c.OrderID)
	}
	s, err := e.gateway.State(t.Context(), c.AuthorizationID)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
