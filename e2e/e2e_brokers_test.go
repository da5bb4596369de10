package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/adapters/broker"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/service"
)

// brokers are the brokers the end-to-end checkout runs on: every one this
// machine runs. The outside brokers run with the Postgres store, as in
// production; memory runs with the embedded store, as in development.
var brokers = []struct {
	name   string
	config func(t testing.TB) service.Config
}{
	{broker.Kafka, func(t testing.TB) service.Config {
		return service.Config{PostgresURL: testenv.PostgresURL(t), BrokerConfig: service.BrokerConfig{
			Broker: broker.Kafka, KafkaBrokers: strings.Join(testenv.Kafka(t), ","), KafkaPartitions: 3}}
	}},
	{broker.NATS, func(t testing.TB) service.Config {
		return service.Config{PostgresURL: testenv.PostgresURL(t), BrokerConfig: service.BrokerConfig{
			Broker: broker.NATS, NATSURL: testenv.NATSURL(), Namespace: testenv.BrokerNamespace(t)}}
	}},
	{broker.AMQP, func(t testing.TB) service.Config {
		return service.Config{PostgresURL: testenv.PostgresURL(t), BrokerConfig: service.BrokerConfig{
			Broker: broker.AMQP, AMQPURL: testenv.AMQPURL(), Namespace: testenv.BrokerNamespace(t)}}
	}},
	{broker.Redis, func(t testing.TB) service.Config {
		return service.Config{PostgresURL: testenv.PostgresURL(t), BrokerConfig: service.BrokerConfig{
			Broker: broker.Redis, RedisURL: testenv.RedisURL(), Namespace: testenv.BrokerNamespace(t)}}
	}},
	{broker.Postgres, func(t testing.TB) service.Config {
		return service.Config{PostgresURL: testenv.PostgresURL(t), BrokerConfig: service.BrokerConfig{Broker: broker.Postgres}}
	}},
	{broker.SQLite, func(t testing.TB) service.Config {
		return service.Config{DataDir: t.TempDir(), BrokerConfig: service.BrokerConfig{Broker: broker.SQLite}}
	}},
	{broker.Memory, func(t testing.TB) service.Config {
		return service.Config{DataDir: t.TempDir(), BrokerConfig: service.BrokerConfig{Broker: broker.Memory}}
	}},
}

// TestCheckoutOnEveryBroker runs the same scenario through each broker: one
// order goes through checkout to confirmed (stock reserved, payment
// authorized), another is declined by the payment provider and compensated
// (reservation released, order cancelled), and both are read back from the
// read model with min_version, which only succeeds once the events went
// outbox → forwarder → broker → saga → event store → ... → projection.
// /readyz names the broker.
func TestCheckoutOnEveryBroker(t *testing.T) {
	for _, b := range brokers {
		t.Run(b.name, func(t *testing.T) {
			started := time.Now()
			_, base := startMain(t, b.config(t))
			customer := "cust-" + uuid.NewString()
			setStock(t, base, "SKU-RED-MUG", 10)
			setStock(t, base, "SKU-TEA", 10)

			var confirmed, cancelled orderBody
			do(t, "POST", base+"/v1/orders", newOrder(customer)).json(t, &confirmed)
			declined := newOrder(customer)
			declined["payment_method"] = "tok_chargeDeclined"
			do(t, "POST", base+"/v1/orders", declined).json(t, &cancelled)

			for _, want := range []struct{ id, status string }{
				{confirmed.OrderID, "confirmed"}, {cancelled.OrderID, "cancelled"},
			} {
				var got orderBody
				// Generous: watermill-sql's Postgres subscriber (the outbox)
				// only reads rows older than the server-wide oldest running
				// transaction, so another test holding a transaction on the
				// shared server stalls it meanwhile.
				waitFor(t, 60*time.Second, want.id+" "+want.status+" in the read model", func() bool {
					r := do(t, "GET", base+"/v1/orders/"+want.id+"?min_version=2", nil)
					if r.status != http.StatusOK || r.header.Get("Orderflow-Stale") != "" {
						return false
					}
					r.json(t, &got)
					return true
				})
				if got.Status != want.status || got.Version != 2 || (want.status == "cancelled" && !strings.HasPrefix(got.CancellationReason, "payment_declined")) {
					t.Fatalf("order %s: status %s version %d reason %q, want %s version 2", want.id, got.Status, got.Version, got.CancellationReason, want.status)
				}
			}

			// The declined order's reservation was released: only the
			// confirmed order holds stock.
			expectStock(t, base, "SKU-RED-MUG", 10, 2)

			var ready struct{ Status, Store, Broker string }
			r := do(t, "GET", base+"/readyz", nil)
			expectStatus(t, r, http.StatusOK)
			r.json(t, &ready)
			if ready.Status != "ready" || ready.Broker != b.name {
				t.Fatalf("/readyz: %s", r.body)
			}
			t.Logf("broker %s: checkout scenario took %s (start included)", b.name, time.Since(started).Round(time.Millisecond))
		})
	}
}
