package paymentsandbox

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/ports"
)

// Until the provider answers, the authorization it will answer with does
// not exist for anyone: Capture and State do not know it, and a capture's
// key is not spent on it, so the same key succeeds once it exists. The id
// is read from the store, since no caller can learn it earlier.
func TestPendingAuthorizationIsUnknown(t *testing.T) {
	db := storetest.SQLiteDB(t)
	pool, _ := testenv.PostgresPool(t)
	for name, g := range map[string]*Gateway{
		"sqlite":   NewSQLite(db, Config{LateAfter: 400 * time.Millisecond}),
		"postgres": NewPostgres(pool, Config{LateAfter: 400 * time.Millisecond}),
	} {
		t.Run(name, func(t *testing.T) {
			req := ports.AuthorizeRequest{IdempotencyKey: "pending", Token: TokenTimeout, Amount: 1, Currency: "EUR"}
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
			defer cancel()
			if _, err := g.Authorize(ctx, req); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("first answer: %v", err)
			}
			stored, err := g.store.authorize(t.Context(), authRecord{key: req.IdempotencyKey, token: req.Token,
				amount: req.Amount, currency: req.Currency, readyAt: time.Now(), createdAt: time.Now()})
			if err != nil || stored.id == "" || !stored.readyAt.After(time.Now()) {
				t.Fatalf("stored request: %+v, %v; want a pending authorization", stored, err)
			}
			if err := g.Capture(t.Context(), "c", stored.id); !errors.Is(err, ports.ErrUnknownAuthorization) {
				t.Fatalf("capture while pending: %v, want ErrUnknownAuthorization", err)
			}
			if _, err := g.State(t.Context(), stored.id); !errors.Is(err, ports.ErrUnknownAuthorization) {
				t.Fatalf("state while pending: %v, want ErrUnknownAuthorization", err)
			}
			a, err := g.Authorize(t.Context(), req)
			if err != nil || a.ID != stored.id {
				t.Fatalf("replay: %+v, %v; want %s", a, err, stored.id)
			}
			if err := g.Capture(t.Context(), "c", a.ID); err != nil {
				t.Fatalf("capture with the same key once answered: %v", err)
			}
		})
	}
}
