package sqlitepubsub_test

import (
	"database/sql"
	"github.com/orderflow/orderflow/internal/storetest"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"

	"github.com/orderflow/orderflow/adapters/sqlite/sqlitepubsub"
)

// testSubscriberConfig resends nacked messages sooner than the default, so
// the suite's nack loops (300 nacks) finish quickly. PollInterval stays at
// the default: the suite runs up to 50 idle competing subscribers at once,
// and faster polling of all of them slows the one that holds the lease. A
// shorter lease than the default lets a test recover from a consumer that
// failed to release; renewals keep it from expiring under -race.
var testSubscriberConfig = sqlitepubsub.SubscriberConfig{
	PollInterval:    100 * time.Millisecond,
	NackResendSleep: 10 * time.Millisecond,
	LeaseTimeout:    5 * time.Second,
}

var logger = watermill.NewStdLogger(false, false)

// openDB opens a fresh database file, migrated, as the service does.
func openDB(t *testing.T) *sql.DB { return storetest.SQLiteDB(t) }

func newPubSub(t *testing.T, db *sql.DB, group string) (message.Publisher, message.Subscriber) {
	t.Helper()
	pub, err := sqlitepubsub.NewPublisher(db, sqlitepubsub.PublisherConfig{}, logger)
	if err != nil {
		t.Fatal(err)
	}
	return pub, newSubscriber(t, db, group)
}

// newSubscriber is a subscriber of group with the test configuration. Some
// suite tests leave a subscriber open; the test's cleanup closes it before
// the database closes (Close is idempotent).
func newSubscriber(t *testing.T, db *sql.DB, group string) *sqlitepubsub.Subscriber {
	t.Helper()
	cfg := testSubscriberConfig
	cfg.ConsumerGroup = group
	sub, err := sqlitepubsub.NewSubscriber(db, cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	return sub
}

// TestPubSub runs Watermill's universal suite. Every pub/sub of a test
// shares one database file, as the processes of the embedded mode do.
// NewSubscriberReceivesOldMessages is false: subscribers of one consumer
// group share its offset, so a new subscriber continues where the group is.
func TestPubSub(t *testing.T) {
	db := openDB(t)
	features := tests.Features{
		ConsumerGroups:      true,
		ExactlyOnceDelivery: false,
		GuaranteedOrder:     true,
		Persistent:          true,
	}
	tests.TestPubSub(t, features,
		func(t *testing.T) (message.Publisher, message.Subscriber) {
			return newPubSub(t, db, "")
		},
		func(t *testing.T, group string) (message.Publisher, message.Subscriber) {
			return newPubSub(t, db, group)
		},
	)
}
