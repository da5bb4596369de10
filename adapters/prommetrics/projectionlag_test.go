package prommetrics_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/orderflow/orderflow/adapters/prommetrics"
	"github.com/orderflow/orderflow/adapters/sqlite"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestProjectionLagGauges(t *testing.T) {
	db := storetest.SQLiteDB(t)
	es, err := sqlite.NewEventStore(db, sqlite.EventStoreConfig{OutboxTopic: "o", EventTopic: func(s string) string { return s },
		Logger: watermill.NopLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	var events []ports.NewEvent
	for i := range 3 {
		events = append(events, ports.NewEvent{Type: "x.v1", Data: []byte(`{}`),
			Metadata: ports.EventMetadata{EventID: "0193a1b2-0000-7000-8000-00000000000" + string(rune('1'+i)), OccurredAt: old}})
	}
	if _, err := es.Append(t.Context(), ports.Stream{Type: "x", ID: "1"}, 0, events); err != nil {
		t.Fatal(err)
	}
	cps := sqlite.Stores(db).Checkpoints
	reg := prometheus.NewRegistry()
	if _, err := prommetrics.NewProjectionLag(reg, cps, "p"); err != nil {
		t.Fatal(err)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP orderflow_projection_lag_events Stored events after the projection's checkpoint.
# TYPE orderflow_projection_lag_events gauge
orderflow_projection_lag_events{projection="p"} 3
`), "orderflow_projection_lag_events"); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "orderflow_projection_lag_seconds" {
			if v := mf.GetMetric()[0].GetGauge().GetValue(); v < 0 {
				t.Fatalf("lag seconds %v", v)
			}
		}
	}
	all, err := es.ReadAll(t.Context(), ports.Position{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := cps.SaveCheckpoint(t.Context(), "p", all[2].Position); err != nil {
		t.Fatal(err)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP orderflow_projection_lag_seconds Seconds since the oldest event the projection has not applied was recorded; 0 when caught up.
# TYPE orderflow_projection_lag_seconds gauge
orderflow_projection_lag_seconds{projection="p"} 0
`), "orderflow_projection_lag_seconds"); err != nil {
		t.Fatal(err)
	}
}
