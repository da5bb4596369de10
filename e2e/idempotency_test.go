package e2e

import (
	"github.com/orderflow/orderflow/adapters/sqlite"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/ports"
	"github.com/orderflow/orderflow/service"
)

// storedEvents counts every event in the service's (isolated) store. On
// Postgres it counts the table itself: ReadAll hides events while older
// transactions anywhere on the server are open, and other tests share it.
func storedEvents(t *testing.T, m *service.Main) int {
	t.Helper()
	if !m.Config.Embedded() {
		pool, err := pgxpool.New(t.Context(), m.Config.PostgresURL)
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		var n int
		if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM events`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	all, err := m.Adapters().Events.ReadAll(t.Context(), ports.Position{}, 100000)
	if err != nil {
		t.Fatal(err)
	}
	return len(all)
}

// forgetKey deletes an idempotency key's record, as the cleanup does once
// the key's TTL ran out.
func forgetKey(t *testing.T, m *service.Main, key string) {
	t.Helper()
	const q = `DELETE FROM idempotency_keys WHERE key = `
	if m.Config.Embedded() {
		db, err := sqlite.Open(t.Context(), m.Config.SQLitePath())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.ExecContext(t.Context(), q+`?`, key); err != nil {
			t.Fatal(err)
		}
		return
	}
	pool, err := pgxpool.New(t.Context(), m.Config.PostgresURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(t.Context(), q+`$1`, key); err != nil {
		t.Fatal(err)
	}
}

// Idempotency-Key on the real service: a retry replays the first response
// and writes nothing; another body with the key is 422, in flight or done;
// concurrent retries produce one order; a key reused after its TTL places a
// new order.
func TestIdempotencyKeyEndToEnd(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			m, base := startMain(t, withoutSaga(s.config(t)))
			key := uuid.NewString()
			body := newOrder("cust-" + uuid.NewString())

			first := do(t, "POST", base+"/v1/orders", body, "Idempotency-Key", key)
			expectStatus(t, first, http.StatusCreated)
			events := storedEvents(t, m)

			again := do(t, "POST", base+"/v1/orders", body, "Idempotency-Key", key)
			expectStatus(t, again, http.StatusCreated)
			if string(again.body) != string(first.body) || again.header.Get("Location") != first.header.Get("Location") ||
				again.header.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("replay = %s (Location %q), want %s", again.body, again.header.Get("Location"), first.body)
			}
			if n := storedEvents(t, m); n != events {
				t.Fatalf("the replay wrote %d events", n-events)
			}

			other := newOrder("cust-other")
			expectStatus(t, do(t, "POST", base+"/v1/orders", other, "Idempotency-Key", key), http.StatusUnprocessableEntity)

			// Another instance is still working on this key, for another request.
			busy := uuid.NewString()
			if _, ok, err := m.Adapters().Idempotency.Reserve(t.Context(), busy, "elsewhere", time.Minute, time.Hour); err != nil || !ok {
				t.Fatalf("reserve: %v %v", ok, err)
			}
			expectStatus(t, do(t, "POST", base+"/v1/orders", body, "Idempotency-Key", busy), http.StatusUnprocessableEntity)

			// Concurrent retries of one request: one order, every answer
			// either that order or 409.
			key2 := uuid.NewString()
			before := storedEvents(t, m)
			var wg sync.WaitGroup
			results := make([]response, 8)
			for i := range results {
				wg.Go(func() { results[i] = do(t, "POST", base+"/v1/orders", body, "Idempotency-Key", key2) })
			}
			wg.Wait()
			locations := map[string]bool{}
			for _, r := range results {
				switch r.status {
				case http.StatusCreated:
					locations[r.header.Get("Location")] = true
				case http.StatusConflict:
				default:
					t.Fatalf("concurrent retry answered %d: %s", r.status, r.body)
				}
			}
			if len(locations) != 1 || storedEvents(t, m) != before+1 {
				t.Fatalf("concurrent retries placed %d orders (%d events)", len(locations), storedEvents(t, m)-before)
			}

			// The key's TTL ran out (and the cleanup deleted it): the same
			// request with the key places a new order, under an id of its own.
			key3 := uuid.NewString()
			placed := do(t, "POST", base+"/v1/orders", body, "Idempotency-Key", key3)
			expectStatus(t, placed, http.StatusCreated)
			forgetKey(t, m, key3)
			before = storedEvents(t, m)
			again = do(t, "POST", base+"/v1/orders", body, "Idempotency-Key", key3)
			expectStatus(t, again, http.StatusCreated)
			if again.header.Get("Location") == placed.header.Get("Location") || again.header.Get("Idempotent-Replayed") != "" {
				t.Fatalf("reuse after the TTL answered %s (replayed %q), want a new order, not %s",
					again.header.Get("Location"), again.header.Get("Idempotent-Replayed"), placed.header.Get("Location"))
			}
			if n := storedEvents(t, m); n != before+1 {
				t.Fatalf("reuse after the TTL wrote %d events, want 1", n-before)
			}
		})
	}
}
