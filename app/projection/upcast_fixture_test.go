package projection_test

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/projection"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
)

// fixture is testdata/v1_events.json: events as the release before
// order.placed.v2 stored them, and the read model that release projected.
type fixture struct {
	Events []struct {
		StreamID   string    `json:"stream_id"`
		Version    int64     `json:"version"`
		Type       string    `json:"type"`
		EventID    string    `json:"event_id"`
		OccurredAt time.Time `json:"occurred_at"`
		Data       string    `json:"data"`
	} `json:"events"`
	OrderSummary []ports.OrderSummary `json:"order_summary"`
}

func loadFixture(t *testing.T) fixture {
	t.Helper()
	raw, err := os.ReadFile("testdata/v1_events.json")
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// storeFixture appends the fixture's events as stored, byte for byte.
func storeFixture(t *testing.T, es ports.EventStore, f fixture) {
	t.Helper()
	for _, e := range f.Events {
		_, err := es.Append(t.Context(), repository.Stream(e.StreamID), e.Version-1, []ports.NewEvent{{
			Type: e.Type, Data: []byte(e.Data),
			Metadata: ports.EventMetadata{EventID: e.EventID, OccurredAt: e.OccurredAt},
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Events an older release stored load, and project to the read model that
// release produced, through the v1 → v2 upcaster.
func TestV1FixtureLoadsAndProjectsToTheSameReadModel(t *testing.T) {
	f := loadFixture(t)
	storetest.Each(t, func(t *testing.T, s storetest.Stores) {
		storeFixture(t, s.Events, f)
		p := projection.NewOrderSummary(s.Orders, s.Events)
		for _, e := range storetest.ReadAll(t, s.Events, len(f.Events)) {
			if err := p.Handle(t.Context(), e); err != nil {
				t.Fatalf("project %s v%d (%s): %v", e.Stream.ID, e.Version, e.Type, err)
			}
		}
		for _, want := range f.OrderSummary {
			got, err := s.Orders.Get(t.Context(), want.OrderID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(want, got) {
				t.Errorf("order_summary %s:\n got %+v\nwant %+v (the previous release)", want.OrderID, got, want)
			}
		}

		repo := repository.NewOrders(s.Events, ports.SystemClock{})
		o, err := repo.Load(t.Context(), f.OrderSummary[0].OrderID)
		if err != nil {
			t.Fatal(err)
		}
		items := o.Items()
		if o.Total() != 3997 || items[0].LineTotal != 2500 || items[1].LineTotal != 1497 {
			t.Errorf("loaded v1 order: total %d, line totals %+v; want 3997 with 2500 and 1497", o.Total(), items)
		}
		// What is stored stays as it was: History shows the v1 type and bytes.
		history, err := repo.History(t.Context(), f.OrderSummary[0].OrderID)
		if err != nil {
			t.Fatal(err)
		}
		if history[0].Type != "order.placed.v1" {
			t.Errorf("stored type %s, want order.placed.v1", history[0].Type)
		}
	})
}

// An event of a version newer than this release knows is an Invalid error
// everywhere it is read, never skipped.
func TestFutureEventVersionIsInvalid(t *testing.T) {
	s := storetest.SQLite(t)
	id := "0193a1b2-0000-7000-8000-00000000a009"
	_, err := s.Events.Append(t.Context(), repository.Stream(id), 0, []ports.NewEvent{{
		Type: "order.placed.v9", Data: []byte(`{"order_id":"` + id + `"}`),
		Metadata: ports.EventMetadata{EventID: "0193a1b2-0000-7000-8000-0000000e0009", OccurredAt: time.Now()},
	}})
	if err != nil {
		t.Fatal(err)
	}
	repo := repository.NewOrders(s.Events, ports.SystemClock{})
	if _, err := repo.Load(t.Context(), id); apperr.CodeOf(err) != apperr.Invalid {
		t.Errorf("Load: %v, want an invalid error", err)
	}
	all, err := s.Events.ReadAll(t.Context(), ports.Position{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	err = projection.NewOrderSummary(s.Orders, s.Events).Handle(t.Context(), all[0])
	if apperr.CodeOf(err) != apperr.Invalid {
		t.Errorf("projection: %v, want an invalid error", err)
	}
	if _, gerr := s.Orders.Get(t.Context(), id); gerr == nil {
		t.Error("the projection wrote a row for an event it cannot read")
	}
}

// HandleBatch fills what a batch does not hold from the store (a rebuild
// resumed after some of an order's events) and ignores what a row already has.
func TestHandleBatchFillsGapsAndSkipsRedeliveries(t *testing.T) {
	f := loadFixture(t)
	s := storetest.SQLite(t)
	storeFixture(t, s.Events, f)
	all := storetest.ReadAll(t, s.Events, len(f.Events))
	p := projection.NewOrderSummary(s.Orders, s.Events)
	// Only the last event of each order, then everything again.
	if err := p.HandleBatch(t.Context(), []ports.RecordedEvent{all[2], all[4]}); err != nil {
		t.Fatal(err)
	}
	if err := p.HandleBatch(t.Context(), all); err != nil {
		t.Fatal(err)
	}
	for _, want := range f.OrderSummary {
		got, err := s.Orders.Get(t.Context(), want.OrderID)
		if err != nil || !reflect.DeepEqual(want, got) {
			t.Errorf("order_summary %s:\n got %+v (%v)\nwant %+v", want.OrderID, got, err, want)
		}
	}
}
