package postgres_test

import (
	"testing"

	"github.com/orderflow/orderflow/adapters/postgres"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/ports"
	"github.com/orderflow/orderflow/ports/porttest"
)

func TestInboxContract(t *testing.T) {
	porttest.RunDedupStore(t, func(t *testing.T) ports.DedupStore {
		pool, _ := testenv.PostgresPool(t)
		return postgres.Stores(pool).Inbox
	})
}

func TestIdempotencyStoreContract(t *testing.T) {
	porttest.RunIdempotencyStore(t, func(t *testing.T) ports.IdempotencyStore {
		pool, _ := testenv.PostgresPool(t)
		return postgres.Stores(pool).Idempotency
	})
}

func TestPoisonStoreContract(t *testing.T) {
	porttest.RunPoisonStore(t, func(t *testing.T) ports.PoisonStore {
		pool, _ := testenv.PostgresPool(t)
		return postgres.Stores(pool).Poison
	})
}

func TestRetryStoreContract(t *testing.T) {
	porttest.RunRetryStore(t, func(t *testing.T) ports.RetryStore {
		pool, _ := testenv.PostgresPool(t)
		return postgres.Stores(pool).Retries
	})
}
