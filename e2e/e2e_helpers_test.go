package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/service"
)

// stores are the two stores every end-to-end test runs on.
var stores = []struct {
	name   string
	config func(t testing.TB) service.Config
}{
	{"sqlite", func(t testing.TB) service.Config { return service.Config{DataDir: t.TempDir()} }},
	{"postgres", func(t testing.TB) service.Config { return service.Config{PostgresURL: testenv.PostgresURL(t)} }},
}

// rolesWithoutSaga runs everything but the checkout saga: for tests of other
// parts that move orders through their states themselves (with no stock set,
// checkout would cancel every order they place).
const rolesWithoutSaga = "api,forwarder,projections"

// withoutSaga is cfg without the checkout saga (see rolesWithoutSaga).
func withoutSaga(cfg service.Config) service.Config {
	cfg.Roles = rolesWithoutSaga
	return cfg
}

// startMain runs the real service in-process on a free loopback port.
func startMain(t testing.TB, cfg service.Config) (*service.Main, string) {
	t.Helper()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.AutoMigrate = true
	cfg.PollInterval = 20 * time.Millisecond
	cfg.ShutdownTimeout = 10 * time.Second
	if cfg.ReadWait == 0 {
		// ?min_version= waits for the read model; on a machine loaded by
		// other test processes the pipeline can take longer than the 2 s a
		// client gets by default, and a test asserting what was projected
		// should wait for it rather than fail on the machine's load.
		cfg.ReadWait = 10 * time.Second
	}
	m := service.NewMain(cfg)
	switch os.Getenv("ORDERFLOW_TEST_LOG") {
	case "":
		m.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	case "debug":
		m.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := m.Run(ctx); err != nil {
		_ = m.Close()
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return m, "http://" + m.Addr()
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func do(t *testing.T, method, url string, body any, headers ...string) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, ok := body.([]byte)
		if !ok {
			var err error
			if b, err = json.Marshal(body); err != nil {
				t.Fatal(err)
			}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func expectStatus(t *testing.T, r response, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
	}
}

func newOrder(customer string) map[string]any {
	return map[string]any{
		"customer_id": customer,
		"currency":    "EUR",
		"items": []map[string]any{
			{"sku": "SKU-RED-MUG", "quantity": 2, "unit_price": 1250},
			{"sku": "SKU-TEA", "quantity": 1, "unit_price": 899},
		},
		"shipping_address": map[string]any{
			"name": "Ada Lovelace", "line1": "12 Analytical St", "city": "London", "postal_code": "N1 9GU", "country": "GB",
		},
		"payment_method": "tok_visa",
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// inParallel calls fn with each of 1 to total, from workers goroutines
// taking the next number as they finish the last, and returns when all are
// done.
func inParallel(workers, total int, fn func(n int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := int(next.Add(1))
				if n > total {
					return
				}
				fn(n)
			}
		}()
	}
	wg.Wait()
}

// eachStore runs fn as a subtest (or sub-benchmark) for each store, with a
// fresh config of that store.
func eachStore[T interface {
	testing.TB
	Run(name string, f func(T)) bool
}](t T, fn func(t T, cfg service.Config)) {
	for _, s := range stores {
		t.Run(s.name, func(t T) { fn(t, s.config(t)) })
	}
}
