package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/idempotency"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/handlers/httpapi"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
)

// idemEnv is an env whose Idempotency-Keys live in st's database, and whose
// PlaceOrder is the real use case on st's event store.
func idemEnv(t *testing.T, st storetest.Stores, store ports.IdempotencyStore, ttl time.Duration) *env {
	t.Helper()
	e := newEnv(t, func(c *httpapi.Config) {
		c.Idempotency = idempotency.New(idempotency.Config{Store: store, Tx: st.Tx, TTL: ttl})
	})
	clock := ports.SystemClock{}
	e.app.place.Run = command.NewPlaceOrderHandler(repository.NewOrders(st.Events, clock), clock).Handle
	return e
}

func countEvents(t *testing.T, st storetest.Stores) int {
	t.Helper()
	var n int
	if err := st.SQLite.QueryRowContext(t.Context(), `SELECT count(*) FROM events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A request refused before it began executing stores nothing and does not
// hold its key: the corrected retry with the same key runs.
func TestIdempotencyKeyRefusedRequestIsNotStored(t *testing.T) {
	for _, c := range []struct {
		name   string
		body   string
		header []string
		status int
	}{
		{"malformed body", `{"customer_id": `, nil, http.StatusBadRequest},
		{"unsupported media type", validOrder, []string{"Content-Type", "text/plain"}, http.StatusUnsupportedMediaType},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := storetest.SQLite(t)
			e := idemEnv(t, st, st.Idempotency, time.Hour)
			key := "refused-" + strings.ReplaceAll(c.name, " ", "-")
			if rec := e.do(t, http.MethodPost, "/v1/orders", c.body, append([]string{"Idempotency-Key", key}, c.header...)...); rec.Code != c.status {
				t.Fatalf("refused request: status %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			rec := e.do(t, http.MethodPost, "/v1/orders", validOrder, "Idempotency-Key", key)
			if rec.Code != http.StatusCreated || rec.Header().Get("Idempotent-Replayed") != "" {
				t.Fatalf("corrected retry: status %d (replayed %q), want 201 run anew: %s",
					rec.Code, rec.Header().Get("Idempotent-Replayed"), rec.Body)
			}
			if n := countEvents(t, st); n != 1 {
				t.Fatalf("%d events stored, want the one order", n)
			}
		})
	}
}

// A key in flight answers 409 to the same request and 422 to another one.
func TestIdempotencyKeyInFlight(t *testing.T) {
	st := storetest.Postgres(t)
	e := idemEnv(t, st, st.Idempotency, time.Hour)
	entered, release := make(chan struct{}), make(chan struct{})
	e.app.place.Run = func(ctx context.Context, c command.PlaceOrder) (command.Result, error) {
		close(entered)
		<-release
		return placed(ctx, c)
	}
	first := make(chan *httptest.ResponseRecorder)
	go func() {
		req := httptest.NewRequest(http.MethodPost, "/v1/orders", strings.NewReader(validOrder))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "busy")
		first <- newRecorderFor(e.handler, req)
	}()
	<-entered
	other := strings.Replace(validOrder, "cust-42", "cust-43", 1)
	if rec := e.do(t, http.MethodPost, "/v1/orders", other, "Idempotency-Key", "busy"); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("another request with the key in flight: status %d, want 422: %s", rec.Code, rec.Body)
	}
	if rec := e.do(t, http.MethodPost, "/v1/orders", validOrder, "Idempotency-Key", "busy"); rec.Code != http.StatusConflict {
		t.Errorf("the same request with the key in flight: status %d, want 409: %s", rec.Code, rec.Body)
	}
	close(release)
	if rec := <-first; rec.Code != http.StatusCreated {
		t.Fatalf("first request: status %d: %s", rec.Code, rec.Body)
	}
	if rec := e.do(t, http.MethodPost, "/v1/orders", validOrder, "Idempotency-Key", "busy"); rec.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry after the first: status %d, not replayed", rec.Code)
	}
}

func newRecorderFor(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// failingComplete fails the first Complete, as a crash between the order's
// append and its key's record would.
type failingComplete struct {
	ports.IdempotencyStore
	failed atomic.Bool
}

func (f *failingComplete) Complete(ctx context.Context, key, token string, resp ports.StoredResponse) error {
	if f.failed.CompareAndSwap(false, true) {
		return errors.New("injected failure between the append and the record")
	}
	return f.IdempotencyStore.Complete(ctx, key, token, resp)
}

// An order and its key's record commit together: when the record cannot be
// stored, the order is not either, and the retry places it once.
func TestIdempotencyRecordCommitsWithTheOrder(t *testing.T) {
	st := storetest.SQLite(t)
	e := idemEnv(t, st, &failingComplete{IdempotencyStore: st.Idempotency}, time.Hour)
	rec := e.do(t, http.MethodPost, "/v1/orders", validOrder, "Idempotency-Key", "atomic")
	if n := countEvents(t, st); rec.Code < 500 || n != 0 {
		t.Fatalf("record not stored: status %d with %d events stored; want a 5xx and no order", rec.Code, n)
	}
	placed := e.do(t, http.MethodPost, "/v1/orders", validOrder, "Idempotency-Key", "atomic")
	if placed.Code != http.StatusCreated {
		t.Fatalf("retry: status %d: %s", placed.Code, placed.Body)
	}
	again := e.do(t, http.MethodPost, "/v1/orders", validOrder, "Idempotency-Key", "atomic")
	if again.Header().Get("Idempotent-Replayed") != "true" || again.Header().Get("Location") != placed.Header().Get("Location") {
		t.Fatalf("second retry: status %d, Location %q; want the replay of %q", again.Code,
			again.Header().Get("Location"), placed.Header().Get("Location"))
	}
	if n := countEvents(t, st); n != 1 {
		t.Fatalf("%d events stored, want one order", n)
	}
}

// A key reused after its TTL places a new order, with an id of its own.
func TestIdempotencyKeyReusedAfterTTLPlacesANewOrder(t *testing.T) {
	st := storetest.SQLite(t)
	e := idemEnv(t, st, st.Idempotency, time.Millisecond)
	first := e.do(t, http.MethodPost, "/v1/orders", validOrder, "Idempotency-Key", "reused")
	if first.Code != http.StatusCreated {
		t.Fatalf("first: status %d: %s", first.Code, first.Body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec := e.do(t, http.MethodPost, "/v1/orders", validOrder, "Idempotency-Key", "reused")
		if rec.Header().Get("Idempotent-Replayed") == "" {
			if rec.Code != http.StatusCreated || rec.Header().Get("Location") == first.Header().Get("Location") {
				t.Fatalf("after the TTL: status %d, Location %q; want a new order, not %q", rec.Code,
					rec.Header().Get("Location"), first.Header().Get("Location"))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the key never expired")
		}
		time.Sleep(time.Millisecond) // poll interval
	}
	if n := countEvents(t, st); n != 2 {
		t.Fatalf("%d events stored, want two orders", n)
	}
}
