package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/service"
)

// Listening beyond loopback without keys refuses to start; with keys,
// writes and admin endpoints need one, reads are open unless --auth-reads.
func TestAPIKeys(t *testing.T) {
	refused := service.NewMain(service.Config{DataDir: t.TempDir(), HTTPAddr: "0.0.0.0:0"})
	if err := refused.Run(t.Context()); err == nil || !strings.Contains(err.Error(), "requires API keys") {
		t.Fatalf("Run on 0.0.0.0 without keys: %v", err)
	}
	_ = refused.Close()

	keysFile := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(keysFile, []byte("# ops\nfile-key-1\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, reads := range []bool{false, true} {
		cfg := service.Config{DataDir: t.TempDir()}
		cfg.HTTP.APIKeysFile, cfg.HTTP.APIKeys, cfg.HTTP.AuthReads = keysFile, "env-key-2, env-key-3", reads
		_, base := startMain(t, cfg)

		r := do(t, "POST", base+"/v1/orders", newOrder("cust-auth"))
		expectStatus(t, r, http.StatusUnauthorized)
		if !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") || r.header.Get("WWW-Authenticate") == "" {
			t.Fatalf("401 headers: %v", r.header)
		}
		expectStatus(t, do(t, "POST", base+"/v1/orders", newOrder("cust-auth"), "X-API-Key", "file-key-"), http.StatusUnauthorized)
		expectStatus(t, do(t, "POST", base+"/v1/orders", newOrder("cust-auth"), "X-API-Key", "file-key-1"), http.StatusCreated)
		expectStatus(t, do(t, "POST", base+"/v1/orders", newOrder("cust-auth"), "Authorization", "Bearer env-key-3"), http.StatusCreated)
		expectStatus(t, do(t, "GET", base+"/v1/admin/poison", nil), http.StatusUnauthorized)
		expectStatus(t, do(t, "GET", base+"/v1/admin/poison", nil, "X-API-Key", "env-key-2"), http.StatusOK)
		expectStatus(t, do(t, "GET", base+"/healthz", nil), http.StatusOK)
		wantRead := http.StatusOK
		if reads {
			wantRead = http.StatusUnauthorized
		}
		expectStatus(t, do(t, "GET", base+"/v1/orders?customer_id=cust-auth", nil), wantRead)
		expectStatus(t, do(t, "GET", base+"/v1/orders?customer_id=cust-auth", nil, "X-API-Key", "env-key-2"), http.StatusOK)
	}
}

// An Idempotency-Key belongs to the API key that sent it: two clients that
// happen to choose the same Idempotency-Key each get their own order, and
// each client's retry replays its own response.
func TestIdempotencyKeysAreScopedToAPIKeys(t *testing.T) {
	cfg := withoutSaga(service.Config{DataDir: t.TempDir()})
	cfg.HTTP.APIKeys = "client-a-key, client-b-key"
	_, base := startMain(t, cfg)
	const idem = "order-attempt-1"
	place := func(apiKey, customer string) response {
		t.Helper()
		r := do(t, "POST", base+"/v1/orders", newOrder(customer), "X-API-Key", apiKey, "Idempotency-Key", idem)
		expectStatus(t, r, http.StatusCreated)
		return r
	}
	a := place("client-a-key", "cust-a")
	b := place("client-b-key", "cust-b")
	if a.header.Get("Location") == b.header.Get("Location") {
		t.Fatalf("two API keys with one Idempotency-Key share order %s", a.header.Get("Location"))
	}
	if b.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("client b got client a's stored response: %s", b.body)
	}
	for _, c := range []struct {
		apiKey, customer string
		first            response
	}{{"client-a-key", "cust-a", a}, {"client-b-key", "cust-b", b}} {
		again := place(c.apiKey, c.customer)
		if again.header.Get("Idempotent-Replayed") != "true" || again.header.Get("Location") != c.first.header.Get("Location") {
			t.Fatalf("retry with %s: replayed %q, Location %s, want %s", c.apiKey,
				again.header.Get("Idempotent-Replayed"), again.header.Get("Location"), c.first.header.Get("Location"))
		}
	}
}
