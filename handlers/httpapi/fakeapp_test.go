package httpapi_test

import (
	"github.com/orderflow/orderflow/app"
	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/query"
	"github.com/orderflow/orderflow/internal/usecasetest"
	"github.com/orderflow/orderflow/ports"
)

// stub is a use case test double (usecasetest.Stub).
type stub[C, R any] = usecasetest.Stub[C, R]

// fakeApp holds one stub per use case.
type fakeApp struct {
	place    stub[command.PlaceOrder, command.Result]
	confirm  stub[command.ConfirmOrder, command.Result]
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

	listPoisoned    stub[query.ListPoisoned, query.PoisonPage]
	getPoisoned     stub[query.GetPoisoned, ports.PoisonedMessage]
	requeuePoisoned stub[command.RequeuePoisoned, ports.PoisonedMessage]
	purgePoisoned   stub[command.PurgePoisoned, command.Purged]
	listCheckouts   stub[query.ListCheckouts, query.CheckoutPage]
	resumeCheckouts stub[command.ResumeCheckouts, command.Resumed]
}

func (f *fakeApp) application() app.Application {
	return app.Application{
		Commands: app.Commands{PlaceOrder: &f.place, ConfirmOrder: &f.confirm, CancelOrder: &f.cancel, ShipOrder: &f.ship,
			DeliverOrder: &f.deliver, SetStock: &f.setStock},
		Queries: app.Queries{GetOrder: &f.get, ListOrders: &f.list, OrderEvents: &f.events, OrderHistory: &f.history,
			GetStock: &f.getStock, GetCheckout: &f.checkout, ListNotifications: &f.notes},
	}
}

// admin is the admin use cases the HTTP API calls (the poison queue's).
func (f *fakeApp) admin() app.Admin {
	return app.Admin{ListPoisoned: &f.listPoisoned, GetPoisoned: &f.getPoisoned,
		RequeuePoisoned: &f.requeuePoisoned, PurgePoisoned: &f.purgePoisoned,
		ListCheckouts: &f.listCheckouts, ResumeCheckouts: &f.resumeCheckouts}
}

// callCount is the number of use-case calls so far, of any kind.
func (f *fakeApp) callCount() int {
	return len(f.place.Calls()) + len(f.confirm.Calls()) + len(f.cancel.Calls()) + len(f.ship.Calls()) +
		len(f.deliver.Calls()) + len(f.get.Calls()) + len(f.list.Calls()) + len(f.events.Calls()) + len(f.history.Calls()) +
		len(f.setStock.Calls()) + len(f.getStock.Calls()) + len(f.checkout.Calls()) + len(f.notes.Calls()) +
		len(f.listPoisoned.Calls()) + len(f.getPoisoned.Calls()) + len(f.requeuePoisoned.Calls()) + len(f.purgePoisoned.Calls()) +
		len(f.listCheckouts.Calls()) + len(f.resumeCheckouts.Calls())
}
