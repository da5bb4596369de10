package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/tick"
)

// fakeService is a Target in memory: it confirms an approved order
// confirmAfter after it was placed, cancels a declined one at once, refuses
// every failEvery-th POST with 503 and the first read of every
// readFailEvery-th order with 500.
type fakeService struct {
	mu            sync.Mutex
	confirmAfter  time.Duration
	never         bool // never confirms
	failEvery     int
	readFailEvery int
	stockFails    string // SetStock of this SKU is refused
	placed        map[string]fakeOrder
	stock         map[string]int
	posts, reads  int
	readFailed    map[string]bool
	actions       map[string]string // id: what was done
}

type fakeOrder struct {
	at    time.Time
	token string
	n     int
}

func newFake() *fakeService {
	return &fakeService{confirmAfter: 20 * time.Millisecond, placed: map[string]fakeOrder{}, stock: map[string]int{},
		readFailed: map[string]bool{}, actions: map[string]string{}}
}

func (f *fakeService) SetStock(_ context.Context, sku string, onHand int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if sku == f.stockFails {
		return &StatusError{Op: "stock", Code: "422", Detail: "no"}
	}
	f.stock[sku] = onHand
	return nil
}

func (f *fakeService) Place(ctx context.Context, p Placement) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.posts++
	if f.failEvery > 0 && f.posts%f.failEvery == 0 {
		return "", &StatusError{Op: "place", Code: "503"}
	}
	for _, sku := range p.SKUs {
		if _, ok := f.stock[sku]; !ok {
			return "", fmt.Errorf("no stock set for %s", sku)
		}
	}
	id := fmt.Sprintf("o-%d", f.posts)
	f.placed[id] = fakeOrder{at: time.Now(), token: p.Token, n: f.posts}
	return id, ctx.Err()
}

func (f *fakeService) Get(ctx context.Context, id string, minVersion int64) (OrderState, error) {
	f.mu.Lock()
	o, ok := f.placed[id]
	f.reads++
	failRead := f.readFailEvery > 0 && o.n%f.readFailEvery == 0 && !f.readFailed[id]
	if failRead {
		f.readFailed[id] = true
	}
	f.mu.Unlock()
	switch {
	case !ok:
		return OrderState{}, &StatusError{Op: "read", Code: "404"}
	case failRead:
		return OrderState{}, &StatusError{Op: "read", Code: "500"}
	case o.token == tokenDecline:
		return OrderState{Status: "cancelled", Version: 2}, nil
	}
	if wait := time.Until(o.at.Add(f.confirmAfter)); f.never || wait > 0 {
		tick.Sleep(ctx, min(max(wait, 0), 10*time.Millisecond)) // the service's min_version wait, shortened
		return OrderState{Status: "placed", Version: 1, Stale: true}, nil
	}
	return OrderState{Status: "confirmed", Version: 2}, nil
}

func (f *fakeService) act(id, what string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.actions[id] += what
	return nil
}

func (f *fakeService) Cancel(_ context.Context, id, _ string) error { return f.act(id, "cancel ") }
func (f *fakeService) Ship(_ context.Context, id, _, _ string) error {
	return f.act(id, "ship ")
}
func (f *fakeService) Deliver(_ context.Context, id string) error { return f.act(id, "deliver ") }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testConfig() Config {
	return Config{Steps: []float64{40, 80}, StepDuration: 2 * time.Second, Pollers: 8, Criteria: Criteria{MinConfirmedShare: 0.95, MaxBacklogGrowth: 0.05, MaxP99: 2 * time.Second, MaxErrorShare: 0.05},
		Mix: Mix{SKUs: 20, ZipfS: 1.2, MaxItems: 2, Declined: 0.1, Cancel: 0.2, Ship: 0.5}, Seed: 5,
		DrainTimeout: 5 * time.Second}
}

// A service that keeps up: every step sustainable, every accepted order
// settled, the failures counted by status, the actions done.
func TestRunAgainstAServiceThatKeepsUp(t *testing.T) {
	f := newFake()
	f.failEvery, f.readFailEvery = 50, 7
	res, err := Run(t.Context(), testConfig(), f, quiet(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.stock) != 20 || !strings.HasPrefix(res.RunID, "") || res.Model != "open" {
		t.Errorf("stock set for %d SKUs, model %s", len(f.stock), res.Model)
	}
	for sku := range f.stock {
		if !strings.HasPrefix(sku, "LT-"+res.RunID+"-") {
			t.Errorf("SKU %s outside the run's prefix LT-%s-", sku, res.RunID)
		}
	}
	if offered := res.Accepted + res.Failed; offered != 240 || res.Failed != 240/50 {
		t.Errorf("offered %d (accepted %d, failed %d), want 240 of which %d failed", offered, res.Accepted, res.Failed, 240/50)
	}
	if res.Errors["place 503"] != res.Failed || res.Errors["read 500"] == 0 {
		t.Errorf("errors %v: want the 503s and the failed reads", res.Errors)
	}
	if res.Confirmed+res.Cancelled != res.Accepted || res.Unsettled != 0 || !res.Drained {
		t.Errorf("confirmed %d + cancelled %d of %d, unsettled %d, drained %v", res.Confirmed, res.Cancelled, res.Accepted, res.Unsettled, res.Drained)
	}
	if res.PlaceToConfirm.Count != res.Confirmed || res.PlaceToConfirm.P50 < 20 {
		t.Errorf("place→confirmed %+v: want %d samples of at least 20 ms", res.PlaceToConfirm, res.Confirmed)
	}
	acted := 0
	for _, o := range res.Orders {
		did := f.actions[o.ID]
		want := map[After]string{Keep: "", CancelIt: "cancel ", ShipAndDeliver: "ship deliver "}[o.After]
		if o.Outcome != "confirmed" {
			want = ""
		}
		if did != want || o.Acted != (want != "") {
			t.Errorf("order %s (%s, after %d): did %q, acted %v", o.ID, o.Outcome, o.After, did, o.Acted)
		}
		if o.Acted {
			acted++
		}
	}
	if acted == 0 || res.Requests["ship"] == 0 || res.Requests["cancel"] == 0 {
		t.Errorf("no actions: %v", res.Requests)
	}
	if len(res.Steps) != 2 || res.Sustainable != 80 {
		t.Errorf("steps %+v, sustainable %.0f: want both sustainable", res.Steps, res.Sustainable)
	}
	if len(res.Samples) < 2 {
		t.Errorf("%d samples", len(res.Samples))
	}
	var text bytes.Buffer
	if err := res.WriteText(&text); err != nil || !strings.Contains(text.String(), "highest sustainable rate: 80.0 orders/s") {
		t.Errorf("summary (%v):\n%s", err, text.String())
	}
}

// A service that never confirms: nothing settles, the drain gives up, no
// step is sustainable and each says why.
func TestRunAgainstAServiceThatNeverConfirms(t *testing.T) {
	f := newFake()
	f.never = true
	cfg := testConfig()
	cfg.Mix.Declined, cfg.Steps, cfg.DrainTimeout = 0, []float64{30}, 200*time.Millisecond
	res, err := Run(t.Context(), cfg, f, quiet(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if res.Drained || res.Unsettled != res.Accepted || res.Confirmed != 0 || res.Sustainable != 0 {
		t.Errorf("drained %v, unsettled %d of %d, confirmed %d, sustainable %.0f", res.Drained, res.Unsettled, res.Accepted, res.Confirmed, res.Sustainable)
	}
	why := strings.Join(res.Steps[0].Why, "; ")
	for _, want := range []string{"settled in time", "never settled", "backlog grew"} {
		if !strings.Contains(why, want) {
			t.Errorf("why not: %q, want %q", why, want)
		}
	}
	var text bytes.Buffer
	if err := res.WriteText(&text); err != nil || !strings.Contains(text.String(), "no step was sustainable") {
		t.Errorf("summary (%v):\n%s", err, text.String())
	}
}

// The closed model places exactly --count orders from its clients.
func TestRunClosedModel(t *testing.T) {
	f := newFake()
	cfg := testConfig()
	cfg.Steps, cfg.Concurrency, cfg.Count, cfg.Duration = nil, 3, 40, 10*time.Second
	res, err := Run(t.Context(), cfg, f, quiet(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if res.Model != "closed" || res.Concurrency != 3 || res.Accepted != 40 || f.posts != 40 {
		t.Errorf("model %s, %d clients, %d accepted, %d POSTs: want closed, 3, 40", res.Model, res.Concurrency, res.Accepted, f.posts)
	}
	if res.Steps[0].Rate <= 0 {
		t.Errorf("closed step rate %.1f: want what the clients offered", res.Steps[0].Rate)
	}
}

func TestRunFailsWhenItCannotRun(t *testing.T) {
	f := newFake()
	f.stockFails = "LT-fixed-00003"
	cfg := testConfig()
	cfg.RunID = "fixed"
	if _, err := Run(t.Context(), cfg, f, quiet(), io.Discard); err == nil || !strings.Contains(err.Error(), "set stock of LT-fixed-00003") {
		t.Errorf("stock refused: %v", err)
	}
	if f.posts != 0 {
		t.Errorf("%d orders placed after the stock was refused", f.posts)
	}

	cfg = testConfig()
	cfg.Rate = -1
	if _, err := Run(t.Context(), cfg, newFake(), quiet(), io.Discard); err == nil || !strings.Contains(err.Error(), "--rate") {
		t.Errorf("bad config: %v", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(300*time.Millisecond, cancel)
	cfg = testConfig()
	cfg.Steps, cfg.Rate, cfg.Duration = nil, 20, time.Hour
	start := time.Now()
	if _, err := Run(ctx, cfg, newFake(), quiet(), io.Discard); !errors.Is(err, context.Canceled) {
		t.Errorf("interrupted: %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("interrupted run took %s to return", d)
	}
}
