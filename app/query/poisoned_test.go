package query_test

import (
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/app"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/query"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
)

// park stores n poisoned messages, oldest first, and returns their ids.
func park(t *testing.T, store ports.PoisonStore, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = uuid.Must(uuid.NewV7()).String()
		at := time.Date(2026, 11, 27, 10, 0, i, 0, time.UTC)
		m := ports.PoisonedMessage{ID: ids[i], MessageID: uuid.NewString(), Topic: "orderflow.order.events.v1",
			Handler: "orderflow.projection.order_summary.v1", Reason: fmt.Sprintf("invalid: bad %d", i),
			Payload: []byte("{}"), Metadata: map[string]string{"k": "v"}, FirstFailedAt: at, PoisonedAt: at}
		if err := store.Add(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

func ids(ms []ports.PoisonedMessage) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// ListPoisoned pages through the queue in id order: a full page names the
// next one, a short page ends it.
func TestListPoisoned(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		a := app.NewAdmin(app.AdminDeps{Poison: s.Poison, Logger: slog.New(slog.DiscardHandler)})
		parkedIDs := park(t, s.Poison, 3)

		first, err := a.ListPoisoned.Handle(t.Context(), query.ListPoisoned{Limit: 2})
		if err != nil || fmt.Sprint(ids(first.Items)) != fmt.Sprint(parkedIDs[:2]) || first.NextAfter != parkedIDs[1] {
			t.Fatalf("first page %v next %q, %v; want %v next %q", ids(first.Items), first.NextAfter, err, parkedIDs[:2], parkedIDs[1])
		}
		second, err := a.ListPoisoned.Handle(t.Context(), query.ListPoisoned{After: first.NextAfter, Limit: 2})
		if err != nil || fmt.Sprint(ids(second.Items)) != fmt.Sprint(parkedIDs[2:]) || second.NextAfter != "" {
			t.Fatalf("second page %v next %q, %v; want %v and no next", ids(second.Items), second.NextAfter, err, parkedIDs[2:])
		}
		all, err := a.ListPoisoned.Handle(t.Context(), query.ListPoisoned{})
		if err != nil || len(all.Items) != 3 || all.NextAfter != "" {
			t.Fatalf("default page: %d items next %q, %v", len(all.Items), all.NextAfter, err)
		}
		if _, err := a.ListPoisoned.Handle(t.Context(), query.ListPoisoned{Limit: -1}); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("negative limit: %v, want invalid", err)
		}
	})
}

// A page never holds more than MaxPoisonPage messages.
func TestListPoisonedCapsThePage(t *testing.T) {
	s := storetest.SQLite(t)
	a := app.NewAdmin(app.AdminDeps{Poison: s.Poison, Logger: slog.New(slog.DiscardHandler)})
	parkedIDs := park(t, s.Poison, query.MaxPoisonPage+1)
	page, err := a.ListPoisoned.Handle(t.Context(), query.ListPoisoned{Limit: query.MaxPoisonPage + 100})
	if err != nil || len(page.Items) != query.MaxPoisonPage || page.NextAfter != parkedIDs[query.MaxPoisonPage-1] {
		t.Fatalf("%d items next %q, %v; want %d", len(page.Items), page.NextAfter, err, query.MaxPoisonPage)
	}
}

func TestGetPoisoned(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		a := app.NewAdmin(app.AdminDeps{Poison: s.Poison, Logger: slog.New(slog.DiscardHandler)})
		id := park(t, s.Poison, 1)[0]
		m, err := a.GetPoisoned.Handle(t.Context(), query.GetPoisoned{ID: id})
		if err != nil || m.ID != id || m.Reason != "invalid: bad 0" || m.Metadata["k"] != "v" {
			t.Fatalf("GetPoisoned = %+v, %v", m, err)
		}
		_, err = a.GetPoisoned.Handle(t.Context(), query.GetPoisoned{ID: uuid.NewString()})
		if !errors.Is(err, ports.ErrPoisonNotFound) || !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("unknown id: %v, want not found", err)
		}
	})
}
