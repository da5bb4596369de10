package sqlite_test

import (
	"testing"

	"github.com/orderflow/orderflow/adapters/sqlite"
	"github.com/orderflow/orderflow/ports"
	"github.com/orderflow/orderflow/ports/porttest"
)

func TestInbox(t *testing.T) {
	porttest.RunDedupStore(t, func(t *testing.T) ports.DedupStore { return sqlite.Stores(openDB(t)).Inbox })
}

func TestIdempotencyStore(t *testing.T) {
	porttest.RunIdempotencyStore(t, func(t *testing.T) ports.IdempotencyStore {
		return sqlite.Stores(openDB(t)).Idempotency
	})
}

func TestPoisonStore(t *testing.T) {
	porttest.RunPoisonStore(t, func(t *testing.T) ports.PoisonStore { return sqlite.Stores(openDB(t)).Poison })
}

func TestRetryStore(t *testing.T) {
	porttest.RunRetryStore(t, func(t *testing.T) ports.RetryStore { return sqlite.Stores(openDB(t)).Retries })
}
