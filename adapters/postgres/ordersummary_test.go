package postgres_test

import (
	"testing"

	"github.com/orderflow/orderflow/adapters/postgres"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/ports"
)

// Beyond the port's sentinels, the store's errors carry the apperr code the
// inbound adapters map to a status.
func TestOrderSummaryStoreErrorCodes(t *testing.T) {
	pool, _ := testenv.PostgresPool(t)
	store := postgres.Stores(pool).OrderSummary
	if _, err := store.Get(t.Context(), "missing"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("Get unknown: err = %v, want apperr.NotFound", err)
	}
	if _, err := store.List(t.Context(), ports.OrderFilter{Limit: 1, Cursor: "junk!"}); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("List with a bad cursor: err = %v, want apperr.Invalid", err)
	}
	if _, err := store.List(t.Context(), ports.OrderFilter{Limit: 0}); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("List with limit 0: err = %v, want apperr.Invalid", err)
	}
}
