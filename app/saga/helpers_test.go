package saga_test

import (
	"strings"
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
	// gateway builds the sandbox provider on the same database.
	gateway func(paymentsandbox.Config) *paymentsandbox.Gateway
}

// sagaStores adds the checkout store and the sandbox provider of the same
// database to a backend's fresh stores.
func sagaStores(s storetest.Stores) stores {
	st := stores{events: s.Events}
	if s.SQLite != nil {
		st.checkouts = sqlite.Stores(s.SQLite).Checkouts
		st.gateway = func(c paymentsandbox.Config) *paymentsandbox.Gateway { return paymentsandbox.NewSQLite(s.SQLite, c) }
	} else {
		st.checkouts = postgres.Stores(s.Postgres).Checkouts
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
		orders:    repository.NewOrders(st.events, clock),
		stocks:    repository.NewStocks(st.events, clock),
		payments:  repository.NewPayments(st.events, clock),
		checkouts: st.checkouts,
		gateway:   st.gateway(gw),
	}
	e.saga = saga.New(cfg, saga.Deps{Orders: e.orders, Stocks: e.stocks, Payments: e.payments,
		Checkouts: e.checkouts, Gateway: e.gateway, Clock: clock})
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
