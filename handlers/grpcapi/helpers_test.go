package grpcapi_test

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/orderflow/orderflow/app"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/idempotency"
	"github.com/orderflow/orderflow/app/query"
	"github.com/orderflow/orderflow/handlers/grpcapi"
	pb "github.com/orderflow/orderflow/handlers/grpcapi/orderflowv1"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/internal/usecasetest"
	"github.com/orderflow/orderflow/ports"
)

// stub is a use case test double (usecasetest.Stub).
type stub[C, R any] = usecasetest.Stub[C, R]

// fakeApp holds one stub per use case the gRPC API calls.
type fakeApp struct {
	place    stub[command.PlaceOrder, command.Result]
	cancel   stub[command.CancelOrder, command.Result]
	ship     stub[command.ShipOrder, command.Result]
	deliver  stub[command.DeliverOrder, command.Result]
	get      stub[query.GetOrder, query.OrderView]
	list     stub[query.ListOrders, ports.OrderPage]
	events   stub[query.OrderEvents, []ports.RecordedEvent]
	history  stub[query.OrderHistory, ports.OrderSummary]
	setStock stub[command.SetStock, command.StockLevels]
	getStock stub[query.GetStock, command.StockLevels]
	checkout stub[query.GetCheckout, ports.Checkout]
	notes    stub[query.ListNotifications, []ports.Notification]
	watch    stub[query.WatchOrder, struct{}]
}

func (f *fakeApp) application() app.Application {
	return app.Application{
		Commands: app.Commands{PlaceOrder: &f.place, CancelOrder: &f.cancel, ShipOrder: &f.ship,
			DeliverOrder: &f.deliver, SetStock: &f.setStock},
		Queries: app.Queries{GetOrder: &f.get, ListOrders: &f.list, OrderEvents: &f.events, OrderHistory: &f.history,
			GetStock: &f.getStock, GetCheckout: &f.checkout, ListNotifications: &f.notes, WatchOrder: &f.watch},
	}
}

// env is the gRPC API over a fakeApp, served on an in-memory listener, with
// a client connection to it.
type env struct {
	app      *fakeApp
	server   *grpcapi.Server
	registry *prometheus.Registry
	conn     *grpc.ClientConn
	orders   pb.OrderServiceClient
	stock    pb.InventoryServiceClient
}

func newEnv(t *testing.T, configure ...func(*grpcapi.Config)) *env {
	t.Helper()
	e := &env{app: &fakeApp{}, registry: prometheus.NewRegistry()}
	e.app.checkout.Err = errNotFound // no checkout unless a test says otherwise
	cfg := grpcapi.Config{Logger: slog.New(slog.DiscardHandler), Registerer: e.registry}
	for _, c := range configure {
		c(&cfg)
	}
	srv, err := grpcapi.New(e.app.application(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.server = srv
	lis := bufconn.Listen(1 << 20)
	served := make(chan error, 1)
	go func() { served <- srv.GRPC.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		srv.Drain()
		srv.GRPC.Stop()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	e.conn, e.orders, e.stock = conn, pb.NewOrderServiceClient(conn), pb.NewInventoryServiceClient(conn)
	return e
}

// ctx is a context for one call, bounded so that a hung call fails the test.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// wantCode fails unless err is a status with code want, and returns it.
func wantCode(t *testing.T, err error, want codes.Code) *status.Status {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok || st.Code() != want {
		t.Fatalf("error %v, want code %s", err, want)
	}
	return st
}

// details are a status's ErrorInfo, RequestInfo and BadRequest (nil when absent).
func details(st *status.Status) (*errdetails.ErrorInfo, *errdetails.RequestInfo, *errdetails.BadRequest) {
	var (
		info *errdetails.ErrorInfo
		req  *errdetails.RequestInfo
		bad  *errdetails.BadRequest
	)
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			info = d
		case *errdetails.RequestInfo:
			req = d
		case *errdetails.BadRequest:
			bad = d
		}
	}
	return info, req, bad
}

var errNotFound = apperr.New(apperr.NotFound, "no checkout")

// guard is the Idempotency-Key protocol on store, in the units of work of
// st's database (a fresh embedded store: the keys live where the service
// keeps them).
func guard(st storetest.Stores, store ports.IdempotencyStore) *idempotency.Guard {
	return idempotency.New(idempotency.Config{Store: store, Tx: st.Tx})
}
