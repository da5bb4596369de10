package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/loadtest"
	"github.com/orderflow/orderflow/service"
)

// A short loadtest against the real service on the embedded default, over
// loopback HTTP only: what the loadtest says of each order is what the
// service says of it afterwards. Confirmed orders it kept are confirmed,
// those it cancelled are cancelled, those it shipped are delivered, those
// checkout cancelled (declined and timed-out payments) are cancelled; the
// service holds exactly the run's orders under the run's customers, and the
// run's stock under its own SKU prefix.
func TestLoadtestAgreesWithTheService(t *testing.T) {
	_, base := startMain(t, service.Config{DataDir: t.TempDir(), CheckoutDeadline: 2 * time.Second})
	cfg := loadtest.Config{Target: base, Rate: 15, Duration: 3 * time.Second, Pollers: 8, DrainTimeout: time.Minute, Seed: 11,
		Mix: loadtest.Mix{SKUs: 30, ZipfS: 1.2, MaxItems: 3, Declined: 0.15, TimedOut: 0.1, Cancel: 0.25, Ship: 0.5}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := loadtest.Run(ctx, cfg, loadtest.NewHTTPTarget(base, "", 64), slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 45 || res.Failed != 0 || res.Unsettled != 0 || !res.Drained || len(res.Errors) != 0 {
		t.Fatalf("accepted %d, failed %d, unsettled %d, drained %v, errors %v: want 45 accepted, all settled",
			res.Accepted, res.Failed, res.Unsettled, res.Drained, res.Errors)
	}
	if res.Confirmed == 0 || res.Cancelled == 0 || res.Confirmed+res.Cancelled != res.Accepted {
		t.Errorf("confirmed %d, cancelled %d of %d", res.Confirmed, res.Cancelled, res.Accepted)
	}
	if res.PlaceToConfirm.Count != res.Confirmed || res.Accept.Count != res.Accepted {
		t.Errorf("latency samples: accept %d, confirm %d", res.Accept.Count, res.PlaceToConfirm.Count)
	}

	ids := map[string]bool{}
	counts := map[string]int{}
	for _, o := range res.Orders {
		ids[o.ID] = true
		want, version := "confirmed", int64(2)
		switch {
		case o.Outcome == "cancelled":
			want = "cancelled"
		case o.Outcome != "confirmed":
			t.Errorf("order %s: outcome %s", o.ID, o.Outcome)
		case o.After == loadtest.CancelIt:
			want, version = "cancelled", 3
		case o.After == loadtest.ShipAndDeliver:
			want, version = "delivered", 4
		}
		if o.After != loadtest.Keep && o.Outcome == "confirmed" && !o.Acted {
			t.Errorf("order %s: its action %d did not succeed", o.ID, o.After)
		}
		var got struct {
			Status  string `json:"status"`
			Version int64  `json:"version"`
		}
		r := do(t, "GET", fmt.Sprintf("%s/v1/orders/%s?min_version=%d", base, o.ID, version), nil)
		expectStatus(t, r, 200)
		r.json(t, &got)
		if got.Status != want {
			t.Errorf("order %s: the loadtest says %s (then %d), the service %s (version %d)", o.ID, o.Outcome, o.After, got.Status, got.Version)
		}
		counts[want]++
	}
	t.Logf("run %s: %v; %d confirmed, %d cancelled by checkout; accept p99 %.1f ms, place→confirmed p99 %.1f ms",
		res.RunID, counts, res.Confirmed, res.Cancelled, res.Accept.P99, res.PlaceToConfirm.P99)

	// The service's own list, customer by customer: exactly the run's orders.
	listed := 0
	for n := range 97 {
		var page struct {
			Items []struct {
				OrderID string `json:"order_id"`
			} `json:"items"`
		}
		r := do(t, "GET", fmt.Sprintf("%s/v1/orders?customer_id=lt-%s-%d&limit=100", base, res.RunID, n), nil)
		expectStatus(t, r, 200)
		r.json(t, &page)
		for _, it := range page.Items {
			if !ids[it.OrderID] {
				t.Errorf("the service lists %s under the run's customers; the loadtest does not know it", it.OrderID)
			}
			listed++
		}
	}
	if listed != res.Accepted {
		t.Errorf("the service lists %d orders of the run's customers, the loadtest accepted %d", listed, res.Accepted)
	}
	var stock struct {
		OnHand int `json:"on_hand"`
	}
	r := do(t, "GET", fmt.Sprintf("%s/v1/inventory/LT-%s-00000", base, res.RunID), nil)
	expectStatus(t, r, 200)
	r.json(t, &stock)
	if stock.OnHand < 45 {
		t.Errorf("the run's top SKU has %d on hand, want the stock the loadtest set", stock.OnHand)
	}
}

// `orderflow loadtest`, the built binary, against the running service:
// it writes the summary, the JSON result and the HTML report, and refuses a
// target that is not loopback, or flags that do not parse, with a non-zero
// exit.
func TestLoadtestCommand(t *testing.T) {
	_, base := startMain(t, service.Config{DataDir: t.TempDir()})
	dir := t.TempDir()
	jsonPath, htmlPath := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.html")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := orderflow(ctx, []string{"loadtest", "--target", base, "--steps", "10,20", "--step-duration", "2s", "--skus", "10",
		"--timed-out", "0", "--out", jsonPath, "--report", htmlPath, "--log-level", "warn"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("loadtest: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	for _, want := range []string{"place→confirmed", "step ", "report: " + htmlPath} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout.String())
		}
	}
	var res struct {
		Accepted int `json:"accepted"`
		Steps    []struct {
			Rate    float64 `json:"offered_per_second"`
			Offered int     `json:"offered"`
		} `json:"steps"`
	}
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Steps) != 2 || res.Steps[0].Offered != 20 || res.Steps[1].Offered != 40 || res.Accepted != 60 {
		t.Errorf("result %s: want 20 then 40 orders offered, 60 accepted", data)
	}
	if page, err := os.ReadFile(htmlPath); err != nil || !bytes.Contains(page, []byte(`id="plot-throughput"`)) {
		t.Errorf("HTML report: %v, %d bytes without the throughput plot", err, len(page))
	}

	for _, args := range [][]string{
		{"loadtest", "--target", "http://192.0.2.1:8080"},
		{"loadtest", "--steps", "10,x"},
		{"loadtest", "--rate", "many"},
		{"loadtest", "extra"},
		{"loadtest", "--target", base, "--duration", "2s", "--report", filepath.Join(dir, "missing", "r.html"), "--skus", "2", "--max-items", "1"},
	} {
		stderr.Reset()
		err := orderflow(ctx, args, io.Discard, &stderr)
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() == 0 {
			t.Errorf("orderflow %v: %v, want a non-zero exit", args, err)
		}
	}
}

// Against a service with API keys (reads too), the loadtest needs --api-key:
// without it the stock is refused (401) and it stops before placing
// anything; with it, every order is placed and followed.
func TestLoadtestWithAPIKeys(t *testing.T) {
	cfg := service.Config{DataDir: t.TempDir()}
	cfg.HTTP.APIKeys, cfg.HTTP.AuthReads = "lt-key", true
	_, base := startMain(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	lc := loadtest.Config{Target: base, Rate: 5, Duration: 2 * time.Second, Mix: loadtest.Mix{SKUs: 3, ZipfS: 1.5, MaxItems: 1}}
	_, err := loadtest.Run(ctx, lc, loadtest.NewHTTPTarget(base, "", 8), quiet, io.Discard)
	var se *loadtest.StatusError
	if !errors.As(err, &se) || se.Code != "401" {
		t.Fatalf("no key: %v, want the stock refused with 401", err)
	}
	res, err := loadtest.Run(ctx, lc, loadtest.NewHTTPTarget(base, "lt-key", 8), quiet, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 10 || res.Confirmed != 10 || len(res.Errors) != 0 {
		t.Errorf("with the key: %d accepted, %d confirmed, errors %v: want 10 and 10, none", res.Accepted, res.Confirmed, res.Errors)
	}
}
