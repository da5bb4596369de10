package prommetrics_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/adapters/prommetrics"
	"github.com/orderflow/orderflow/adapters/sqlite"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestCheckoutsPastDeadline(t *testing.T) {
	db := storetest.SQLiteDB(t)
	store := sqlite.Stores(db).Checkouts
	now := time.Now().UTC().Truncate(time.Second)
	for id, c := range map[string]struct {
		state    string
		deadline time.Duration
	}{
		"stuck":     {"authorizing", -time.Minute},
		"stuck-too": {"compensating", -time.Hour},
		"done":      {"confirmed", -time.Hour},  // terminal: not counted
		"waiting":   {"reserving", time.Minute}, // deadline ahead
	} {
		err := store.Save(t.Context(), ports.Checkout{OrderID: id, State: c.state, StartedAt: now.Add(-2 * time.Hour),
			DeadlineAt: now.Add(c.deadline), UpdatedAt: now, Version: 1})
		if err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewRegistry()
	c, err := prommetrics.NewCheckoutsPastDeadline(reg, store, []string{"reserving", "authorizing", "confirming", "compensating"})
	if err != nil {
		t.Fatal(err)
	}
	expectGauge(t, reg, c, `
# HELP orderflow_checkouts_past_deadline Checkouts not finished whose deadline has passed (counted up to 1000).
# TYPE orderflow_checkouts_past_deadline gauge
orderflow_checkouts_past_deadline 2
`)
}

func TestOutboxBacklog(t *testing.T) {
	age, fail := 90*time.Second, error(nil)
	reg := prometheus.NewRegistry()
	c, err := prommetrics.NewOutboxBacklog(reg, func(ctx context.Context) (time.Duration, error) {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("the store is read without a timeout")
		}
		return age, fail
	})
	if err != nil {
		t.Fatal(err)
	}
	expectGauge(t, reg, c, `
# HELP orderflow_outbox_oldest_unforwarded_seconds Seconds since the oldest outbox row the forwarder has not acknowledged was written; 0 when the outbox is drained.
# TYPE orderflow_outbox_oldest_unforwarded_seconds gauge
orderflow_outbox_oldest_unforwarded_seconds 90
`)
	fail = errors.New("database down")
	if _, err := reg.Gather(); err == nil {
		t.Fatal("a failed read was reported as a value")
	}
}

// expectGauge checks that reg exposes exactly want (text format) and that
// c's metrics pass the Prometheus linter.
func expectGauge(t *testing.T, reg *prometheus.Registry, c prometheus.Collector, want string) {
	t.Helper()
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
}
