package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/orderflow/orderflow/adapters/postgres"
	"github.com/orderflow/orderflow/adapters/sqlite"
	"github.com/orderflow/orderflow/outbox"
	"github.com/orderflow/orderflow/service"
)

// TestOutboxIsCleanedUpAfterForwarding: with a tiny retention, the outbox
// empties once its rows reached the read model through the broker.
func TestOutboxIsCleanedUpAfterForwarding(t *testing.T) {
	eachStore(t, func(t *testing.T, cfg service.Config) {
		cfg.OutboxRetention = time.Nanosecond
		cfg.OutboxCleanupInterval = 20 * time.Millisecond
		_, base := startMain(t, cfg)
		outboxRows := outboxCounter(t, cfg)

		var placed orderBody
		do(t, "POST", base+"/v1/orders", newOrder("cust-cleanup")).json(t, &placed)
		// No stock: checkout cancels the order (version 2), which writes
		// inventory and order events, all through the outbox.
		waitFor(t, 30*time.Second, "checkout's outcome in the read model", func() bool {
			r := do(t, "GET", base+"/v1/orders/"+placed.OrderID+"?min_version=2", nil)
			return r.status == http.StatusOK && r.header.Get("Orderflow-Stale") == ""
		})
		waitFor(t, 10*time.Second, "the outbox to be cleaned up", func() bool { return outboxRows() == 0 })
	})
}

// outboxCounter counts the outbox rows in cfg's store.
func outboxCounter(t *testing.T, cfg service.Config) func() int {
	var query func(dst *int) error
	if cfg.Embedded() {
		db, err := sqlite.Open(t.Context(), cfg.SQLitePath())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		query = func(dst *int) error {
			return db.QueryRowContext(t.Context(), `SELECT count(*) FROM pubsub_messages WHERE topic = ?`, outbox.Topic).Scan(dst)
		}
	} else {
		conn, err := pgx.Connect(t.Context(), cfg.PostgresURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close(t.Context()) })
		query = func(dst *int) error {
			return conn.QueryRow(t.Context(), `SELECT count(*) FROM `+postgres.OutboxSchema.MessagesTable(outbox.Topic)).Scan(dst)
		}
	}
	return func() int {
		var n int
		if err := query(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
}

// TestBrokerTopicsAreTrimmed: with a tiny --broker-retention, the SQL
// broker's topic tables empty once every consumer group passed their
// messages (the inventory events, which no group reads, by age alone); the
// outbox, with its own (here long) retention, is left alone.
func TestBrokerTopicsAreTrimmed(t *testing.T) {
	eachStore(t, func(t *testing.T, cfg service.Config) {
		cfg.BrokerRetention = time.Nanosecond
		cfg.OutboxCleanupInterval = 20 * time.Millisecond
		_, base := startMain(t, cfg)
		brokerRows, outboxRows := brokerCounter(t, cfg), outboxCounter(t, cfg)

		var placed orderBody
		do(t, "POST", base+"/v1/orders", newOrder("cust-trim")).json(t, &placed)
		waitFor(t, 30*time.Second, "checkout's outcome in the read model", func() bool {
			r := do(t, "GET", base+"/v1/orders/"+placed.OrderID+"?min_version=2", nil)
			return r.status == http.StatusOK && r.header.Get("Orderflow-Stale") == ""
		})
		waitFor(t, 10*time.Second, "the broker's topics to be trimmed", func() bool { return brokerRows() == 0 })
		if n := outboxRows(); n == 0 {
			t.Fatal("the broker trim emptied the outbox, whose retention is an hour")
		}
		metrics := do(t, "GET", base+"/metrics", nil)
		if !strings.Contains(string(metrics.body), "orderflow_broker_trimmed_messages_total") ||
			strings.Contains(string(metrics.body), "orderflow_broker_trimmed_messages_total 0\n") {
			t.Fatalf("no trimmed messages counted in /metrics")
		}
	})
}

// brokerCounter counts the messages of every broker topic but the outbox
// in cfg's store (the SQL brokers keep them there).
func brokerCounter(t *testing.T, cfg service.Config) func() int {
	if cfg.Embedded() {
		db, err := sqlite.Open(t.Context(), cfg.SQLitePath())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return func() int {
			var n int
			if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM pubsub_messages WHERE topic != ?`, outbox.Topic).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	conn, err := pgx.Connect(t.Context(), cfg.PostgresURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(t.Context()) })
	return func() int {
		rows, err := conn.Query(t.Context(), `SELECT quote_ident(table_name) FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_name LIKE 'watermill\_%'
			  AND table_name NOT LIKE 'watermill\_offsets\_%' AND table_name != $1`, "watermill_"+outbox.Topic)
		if err != nil {
			t.Fatal(err)
		}
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, table := range tables {
			var n int
			if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			total += n
		}
		return total
	}
}
