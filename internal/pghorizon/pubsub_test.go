package pghorizon_test

import (
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"
	"github.com/orderflow/orderflow/internal/pghorizon"
	"github.com/orderflow/orderflow/internal/testenv"
)

// TestPubSub runs Watermill's universal suite on watermill-sql with this
// package's schema (its select and horizon), as the Postgres broker
// (adapters/broker/sql) and the outbox forwarder use it: subscribers on a
// ReaderPool. The intervals are watermill-sql's own test's, so that the
// suite's nack loops end quickly, and so is the payload column: the suite's
// payloads are not JSON, as the broker's are.
func TestPubSub(t *testing.T) {
	pool, _ := testenv.PostgresPool(t)
	readers, err := pghorizon.ReaderPool(t.Context(), pool, 64)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(readers.Close)
	logger := watermill.NopLogger{}
	schema := pghorizon.Schema{DefaultPostgreSQLSchema: wsql.DefaultPostgreSQLSchema{
		GeneratePayloadType: func(string) string { return "BYTEA" },
	}}
	newPubSub := func(t *testing.T, group string) (message.Publisher, message.Subscriber) {
		pub, err := wsql.NewPublisher(wsql.BeginnerFromPgx(pool), wsql.PublisherConfig{
			SchemaAdapter: schema, AutoInitializeSchema: true,
		}, logger)
		if err != nil {
			t.Fatal(err)
		}
		sub, err := wsql.NewSubscriber(wsql.BeginnerFromPgx(readers), wsql.SubscriberConfig{
			ConsumerGroup:    group,
			SchemaAdapter:    schema,
			OffsetsAdapter:   wsql.DefaultPostgreSQLOffsetsAdapter{},
			InitializeSchema: true,
			PollInterval:     time.Millisecond,
			ResendInterval:   5 * time.Millisecond,
		}, logger)
		if err != nil {
			t.Fatal(err)
		}
		return pub, sub
	}
	tests.TestPubSub(t, tests.Features{
		ConsumerGroups:      true,
		ExactlyOnceDelivery: true,
		GuaranteedOrder:     true,
		Persistent:          true,
	},
		func(t *testing.T) (message.Publisher, message.Subscriber) { return newPubSub(t, "test") },
		newPubSub,
	)
}
