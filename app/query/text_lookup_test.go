package query_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/app"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/query"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
)

// noNotifications is a notification store that has never kept any.
type noNotifications struct{}

func (noNotifications) Save(context.Context, ports.Notification) error { return nil }
func (noNotifications) List(context.Context, string) ([]ports.Notification, error) {
	return nil, nil
}

// Lookups by text no store can hold (NUL, other control characters,
// invalid UTF-8) are refused before they reach the store: Invalid for a
// filter, NotFound for an id. On Postgres they used to fail in the driver
// (SQLSTATE 22021), answered as unavailable or internal.
func TestLookupsRefuseUnstorableText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		ctx := t.Context()
		a := app.New(app.Deps{Events: s.Events, Orders: s.Orders, Logger: slog.New(slog.DiscardHandler)})
		admin := app.NewAdmin(app.AdminDeps{Poison: s.Poison, Logger: slog.New(slog.DiscardHandler)})
		for _, bad := range []string{"a\x00b", "a\x1fb", "a\xffb"} {
			check := func(what string, err error, want apperr.Code) {
				t.Helper()
				if apperr.CodeOf(err) != want {
					t.Errorf("%s %q: %v, want %s", what, bad, err, want)
				}
			}
			_, err := a.Queries.ListOrders.Handle(ctx, query.ListOrders{CustomerID: bad})
			check("ListOrders customer_id", err, apperr.Invalid)
			_, err = a.Queries.ListOrders.Handle(ctx, query.ListOrders{Cursor: bad})
			check("ListOrders cursor", err, apperr.Invalid)
			_, err = a.Queries.GetStock.Handle(ctx, query.GetStock{SKU: bad})
			check("GetStock", err, apperr.Invalid)
			_, err = a.Commands.SetStock.Handle(ctx, command.SetStock{SKU: bad, OnHand: 1})
			check("SetStock", err, apperr.Invalid)
			_, err = admin.ListPoisoned.Handle(ctx, query.ListPoisoned{After: bad})
			check("ListPoisoned after", err, apperr.Invalid)
			_, err = admin.GetPoisoned.Handle(ctx, query.GetPoisoned{ID: bad})
			check("GetPoisoned", err, apperr.NotFound)
			_, err = admin.PurgePoisoned.Handle(ctx, command.PurgePoisoned{ID: bad})
			check("PurgePoisoned", err, apperr.NotFound)
		}
	})
}

// History at a moment before the order was placed, the zero moment
// included, is NotFound ("did not exist yet"), not an invalid query.
func TestHistoryBeforePlacement(t *testing.T) {
	s := storetest.SQLite(t)
	a := app.New(app.Deps{Events: s.Events, Orders: s.Orders, Logger: slog.New(slog.DiscardHandler)})
	ctx := t.Context()
	id := placeOrder(t, a)
	for _, at := range []time.Time{{}, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)} {
		_, err := a.Queries.OrderHistory.Handle(ctx, query.OrderHistory{OrderID: id, At: &at})
		if !apperr.Is(err, apperr.NotFound) || !strings.Contains(err.Error(), "did not exist yet") {
			t.Errorf("history at %s: %v, want not found: did not exist yet", at, err)
		}
	}
	if _, err := a.Queries.OrderHistory.Handle(ctx, query.OrderHistory{OrderID: id}); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("history with neither version nor at: %v, want invalid", err)
	}
}

// Notifications of an order that does not exist are NotFound, like its
// events; an order without notifications has an empty list.
func TestListNotificationsOfUnknownOrder(t *testing.T) {
	s := storetest.SQLite(t)
	a := app.New(app.Deps{Events: s.Events, Orders: s.Orders, Notifications: noNotifications{},
		Logger: slog.New(slog.DiscardHandler)})
	_, err := a.Queries.ListNotifications.Handle(t.Context(), query.ListNotifications{OrderID: uuid.NewString()})
	if !apperr.Is(err, apperr.NotFound) {
		t.Errorf("unknown order: %v, want not found", err)
	}
}
