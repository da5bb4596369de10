package sql_test

import (
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/orderflow/orderflow/adapters/broker"
	"github.com/orderflow/orderflow/adapters/broker/brokertest"
	sqlbroker "github.com/orderflow/orderflow/adapters/broker/sql"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/internal/testenv"
)

var logger = watermill.NopLogger{}

var brokers = []struct {
	name string
	open func(t *testing.T) broker.Broker
}{
	{"postgres", func(t *testing.T) broker.Broker {
		pool, _ := testenv.PostgresPool(t)
		b, err := sqlbroker.NewPostgres(pool, 10*time.Millisecond, logger)
		return brokertest.Opened(t, b, err)
	}},
	{"sqlite", func(t *testing.T) broker.Broker {
		db := storetest.SQLiteDB(t)
		b, err := sqlbroker.NewSQLite(t.Context(), db, 10*time.Millisecond, logger)
		return brokertest.Opened(t, b, err)
	}},
}

func TestConsumerGroupSurvivesRestart(t *testing.T) {
	for _, bc := range brokers {
		t.Run(bc.name, func(t *testing.T) {
			brokertest.ConsumerGroupSurvivesRestart(t, bc.open(t), true)
		})
	}
}

func TestPublishInOrderKeepsEachTopicsOrder(t *testing.T) {
	for _, bc := range brokers {
		t.Run(bc.name, func(t *testing.T) {
			brokertest.PublishInOrderKeepsEachTopicsOrder(t, bc.open(t))
		})
	}
}
