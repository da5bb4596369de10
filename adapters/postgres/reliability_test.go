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
		return postgres.NewInbox(pool)
	})
}

func TestIdempotencyStoreContract(t *testing.T) {
	porttest.RunIdempotencyStore(t, func(t *testing.T) ports.IdempotencyStore {
		pool, _ := testenv.PostgresPool(t)
		return postgres.NewIdempotencyStore(pool)
	})
}

func TestPoisonStoreContract(t *testing.T) {
	porttest.RunPoisonStore(t, func(t *testing.T) ports.PoisonStore {
		pool, _ := testenv.PostgresPool(t)
		return postgres.NewPoisonStore(pool)
	})
}
