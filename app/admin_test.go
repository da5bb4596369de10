package app_test

import (
	"testing"

	"github.com/orderflow/orderflow/app"
	"github.com/orderflow/orderflow/internal/storetest"
)

// NewAdmin wires only the use cases whose ports it is given: the HTTP API
// answers 503 for the others.
func TestNewAdminWiresWhatItIsGiven(t *testing.T) {
	if a := app.NewAdmin(app.AdminDeps{}); a != (app.Admin{}) {
		t.Fatalf("no ports, yet %+v", a)
	}
	s := storetest.SQLite(t)
	a := app.NewAdmin(app.AdminDeps{Poison: s.Poison})
	if a.ListPoisoned == nil || a.GetPoisoned == nil || a.PurgePoisoned == nil {
		t.Fatal("a poison store gives list, show and purge")
	}
	if a.RequeuePoisoned != nil || a.RebuildProjection != nil || a.ReplayTopic != nil {
		t.Fatalf("a poison store alone gives %+v", a)
	}
	a = app.NewAdmin(app.AdminDeps{Events: s.Events, Orders: s.Orders, Shadow: s.Shadow})
	if a.RebuildProjection == nil || a.ListPoisoned != nil {
		t.Fatalf("the event store, read model and shadow give the rebuild only: %+v", a)
	}
}
