// Package app is the application core's front door: the use cases an inbound
// adapter (HTTP, messages) may call, each already decorated with logging and
// metrics.
package app

import (
	"log/slog"

	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/decorator"
	"github.com/orderflow/orderflow/app/notification"
	"github.com/orderflow/orderflow/app/query"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/app/saga"
	"github.com/orderflow/orderflow/ports"
)

// Application groups the use cases.
type Application struct {
	Commands Commands
	Queries  Queries
	// Checkout is the checkout saga, driven by the message handlers and the
	// deadline scanner.
	Checkout *saga.Checkout
	// Notifications reacts to order events (nil without a store).
	Notifications *notification.Handler
}

// Commands change orders.
type Commands struct {
	PlaceOrder   decorator.Handler[command.PlaceOrder, command.Result]
	ConfirmOrder decorator.Handler[command.ConfirmOrder, command.Result]
	CancelOrder  decorator.Handler[command.CancelOrder, command.Result]
	ShipOrder    decorator.Handler[command.ShipOrder, command.Result]
	DeliverOrder decorator.Handler[command.DeliverOrder, command.Result]
	SetStock     decorator.Handler[command.SetStock, command.StockLevels]
}

// Queries read orders.
type Queries struct {
	GetOrder     decorator.Handler[query.GetOrder, query.OrderView]
	ListOrders   decorator.Handler[query.ListOrders, ports.OrderPage]
	OrderEvents  decorator.Handler[query.OrderEvents, []ports.RecordedEvent]
	OrderHistory decorator.Handler[query.OrderHistory, ports.OrderSummary]
	GetStock     decorator.Handler[query.GetStock, command.StockLevels]
	GetCheckout  decorator.Handler[query.GetCheckout, ports.Checkout]
	// WatchOrder follows an order until it is terminal (the gRPC WatchOrder).
	WatchOrder decorator.Handler[query.WatchOrder, struct{}]
	// ListNotifications is nil when Deps.Notifications is.
	ListNotifications decorator.Handler[query.ListNotifications, []ports.Notification]
}

// Deps are the ports the application needs.
type Deps struct {
	Events  ports.EventStore
	Orders  ports.OrderSummaryReader
	Clock   ports.Clock
	Logger  *slog.Logger
	Metrics decorator.MetricsClient
	// Cache, when not nil, serves GetOrder ahead of Orders (look-aside).
	Cache ports.OrderCache
	// Snapshots, when set, makes loading an order read its snapshot and the
	// events after it, with a new snapshot every SnapshotEvery events
	// (repository.DefaultSnapshotEvery when 0).
	Snapshots     ports.SnapshotStore
	SnapshotEvery int
	// Tx, Checkouts, Gateway, Saga and SagaMetrics are the checkout saga's:
	// Tx is the unit of work over Events and Checkouts.
	Tx          ports.Transactor
	Checkouts   ports.CheckoutStore
	Gateway     ports.PaymentGateway
	Saga        saga.Config
	SagaMetrics saga.Metrics
	// Notifications stores notifications; Notifiers also send them (optional).
	Notifications ports.NotificationStore
	Notifiers     []ports.Notifier
}

// New wires the use cases. It panics on a missing dependency.
func New(d Deps) Application {
	if d.Clock == nil {
		d.Clock = ports.SystemClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Metrics == nil {
		d.Metrics = decorator.NopMetrics{}
	}
	// The saga's units commit in batches (saga.Batches) unless it is told
	// to commit one unit at a time: its repositories, here shared with the
	// commands, are then built on the batches' event store, which is
	// d.Events outside a batch.
	events := d.Events
	var batches *saga.Batches
	if d.Saga.BatchSize != 1 {
		batches = saga.NewBatches(d.Events)
		events = batches.Events()
	}
	repo := repository.NewOrders(events, d.Clock)
	if d.Snapshots != nil {
		if d.SnapshotEvery == 0 {
			d.SnapshotEvery = repository.DefaultSnapshotEvery
		}
		repo.EnableSnapshots(d.Snapshots, d.SnapshotEvery, d.Logger)
	}
	// The stocks most recently loaded stay in memory: a popular SKU,
	// written by every checkout, is then loaded without decoding its
	// snapshot (its open holds grow with the orders awaiting shipment).
	stocks := repository.NewStocks(events, d.Clock).EnableCache(repository.StockCacheEntries)
	if d.Snapshots != nil {
		// A hot SKU's stream grows with every order it serves: its state
		// (bounded, see inventory.Remembered) is snapshotted like an order.
		stocks.EnableSnapshots(d.Snapshots, d.SnapshotEvery, d.Logger)
	}
	payments := repository.NewPayments(events, d.Clock)
	application := Application{
		Commands: Commands{
			PlaceOrder:   decorator.Apply(command.NewPlaceOrderHandler(repo, d.Clock), d.Logger, d.Metrics),
			ConfirmOrder: decorator.Apply(command.NewConfirmOrderHandler(repo, d.Clock), d.Logger, d.Metrics),
			CancelOrder:  decorator.Apply(command.NewCancelOrderHandler(repo, d.Clock), d.Logger, d.Metrics),
			ShipOrder:    decorator.Apply(command.NewShipOrderHandler(repo, d.Clock), d.Logger, d.Metrics),
			DeliverOrder: decorator.Apply(command.NewDeliverOrderHandler(repo, d.Clock), d.Logger, d.Metrics),
			SetStock:     decorator.Apply(command.NewSetStockHandler(stocks, d.Clock), d.Logger, d.Metrics),
		},
		Queries: Queries{
			GetOrder:     decorator.Apply(query.NewGetOrderHandler(d.Orders, d.Cache), d.Logger, d.Metrics),
			ListOrders:   decorator.Apply(query.NewListOrdersHandler(d.Orders), d.Logger, d.Metrics),
			OrderEvents:  decorator.Apply(query.NewOrderEventsHandler(repo), d.Logger, d.Metrics),
			OrderHistory: decorator.Apply(query.NewOrderHistoryHandler(repo), d.Logger, d.Metrics),
			GetStock:     decorator.Apply(query.NewGetStockHandler(stocks), d.Logger, d.Metrics),
			WatchOrder:   decorator.Apply(query.NewWatchOrderHandler(d.Orders, repo), d.Logger, d.Metrics),
		},
	}
	// Checkout runs when its store and payment provider are given: the
	// service always gives them; a test of other use cases may not.
	if d.Checkouts != nil && d.Gateway != nil && d.Tx != nil {
		application.Checkout = saga.New(d.Saga, saga.Deps{Orders: repo, Stocks: stocks, Payments: payments,
			Tx: d.Tx, Checkouts: d.Checkouts, Gateway: d.Gateway, Clock: d.Clock, Metrics: d.SagaMetrics, Batches: batches})
		application.Queries.GetCheckout = decorator.Apply(query.NewGetCheckoutHandler(d.Checkouts), d.Logger, d.Metrics)
	}
	if d.Notifications != nil {
		application.Notifications = notification.New(d.Notifications, d.Notifiers...)
		application.Queries.ListNotifications = decorator.Apply(query.NewListNotificationsHandler(d.Notifications, repo), d.Logger, d.Metrics)
	}
	return application
}
