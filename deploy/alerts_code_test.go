package deploy_test

import (
	"context"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/orderflow/orderflow/adapters/broker/memory"
	"github.com/orderflow/orderflow/adapters/paymentbreaker"
	"github.com/orderflow/orderflow/adapters/prommetrics"
	"github.com/orderflow/orderflow/app"
	"github.com/orderflow/orderflow/app/projection"
	"github.com/orderflow/orderflow/handlers/grpcapi"
	"github.com/orderflow/orderflow/outbox"
	"github.com/orderflow/orderflow/ports"
	"github.com/orderflow/orderflow/router"
	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"
)

// describedNames is a prometheus.Registerer that keeps the names of the
// metrics its collectors describe, whether or not they have a sample yet
// (a counter vector has none until its first label values).
type describedNames struct {
	mu    sync.Mutex
	names map[string]bool
}

var fqNameRE = regexp.MustCompile(`fqName: "([^"]+)"`)

func (d *describedNames) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc)
	go func() { c.Describe(ch); close(ch) }()
	d.mu.Lock()
	defer d.mu.Unlock()
	for desc := range ch {
		if m := fqNameRE.FindStringSubmatch(desc.String()); m != nil {
			d.names[m[1]] = true
		}
	}
	return nil
}

func (d *describedNames) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		_ = d.Register(c)
	}
}

func (d *describedNames) Unregister(prometheus.Collector) bool { return true }

// registeredMetrics builds the parts of the service that register metrics
// (as service.Main does) on a describedNames and returns the names, with
// the _bucket, _count and _sum series of histograms and summaries. (Not
// the Go and process collectors', which no panel or alert reads.)
func registeredMetrics(t *testing.T) map[string]bool {
	t.Helper()
	reg := &describedNames{names: map[string]bool{}}
	logger := watermill.NopLogger{}
	b := memory.New(logger)
	// A route (any: its handler never runs) for the router to decorate;
	// with a retry queue, as the service always has (empty: its gauge and
	// its retrier read it).
	r, err := router.New(router.Config{Broker: b, Registry: reg, Roles: router.Roles{router.RoleSaga, router.RoleProjections},
		OrderSummary: new(projection.OrderSummary), Logger: slog.New(slog.DiscardHandler),
		Reliability: router.Reliability{Retries: noRetries{}}})
	if err != nil {
		t.Fatal(err)
	}
	// Running: Watermill registers the metrics of the handlers' publishers
	// and subscribers as it decorates them, when the router starts.
	ran := make(chan error, 1)
	go func() { ran <- r.Run(t.Context()) }()
	select {
	case <-r.Running():
	case err := <-ran:
		t.Fatalf("router: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	if _, err := outbox.NewForwarder(outbox.ForwarderConfig{
		Outbox: noSource{}, Broker: b, Poison: b.Publisher, PoisonTopic: router.PoisonTopic, Registry: reg,
	}); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		ignore(prommetrics.NewProjectionLag(reg, nil)),
		ignore(prommetrics.NewCheckoutsPastDeadline(reg, nil, nil)),
		ignore(prommetrics.NewOutboxBacklog(reg, nil)),
		ignore(prommetrics.NewCheckouts(reg)),
		ignore(prommetrics.NewUseCases(reg)),
		ignore(prommetrics.NewHTTPRequests(reg)),
		ignore(prommetrics.NewEventStore(nil, reg)),
		ignore(prommetrics.NewOrderCache(nil, "order_summary", reg)),
		ignore(paymentbreaker.New(paymentbreaker.Config{Name: "sandbox", Registerer: reg, Failures: 1, OpenFor: time.Second}, noGateway{})),
		ignore(grpcapi.New(app.Application{}, grpcapi.Config{Registerer: reg})),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	names := map[string]bool{}
	for n := range reg.names {
		names[n] = true
		for _, suffix := range []string{"_bucket", "_count", "_sum"} {
			names[n+suffix] = true
		}
	}
	return names
}

func ignore[T any](_ T, err error) error { return err }

// noGateway is a payment gateway never called: the breaker only needs one
// to register its metrics.
type noGateway struct{ ports.PaymentGateway }

type noSource struct{}

// noRetries is an empty retry queue.
type noRetries struct{ ports.RetryStore }

func (noRetries) Claim(context.Context, string, int, time.Duration) ([]ports.RetryingMessage, error) {
	return nil, nil
}

func (noRetries) Pending(context.Context) (map[string]int, error) { return nil, nil }

func (noSource) ForwardBatch(_ context.Context, _ int, _ func(context.Context, []*message.Message) error) (int, error) {
	return 0, nil
}

// metricNameRE finds the orderflow metrics a PromQL expression names.
var metricNameRE = regexp.MustCompile(`\borderflow_[a-z0-9_]+`)

// TestAlertsMatchTheCode checks that every metric alerts.yml queries is one
// the code registers, so that renaming a metric cannot silently disarm an
// alert (an absent series never fires). promtool tests the rules' logic.
func TestAlertsMatchTheCode(t *testing.T) {
	raw, err := os.ReadFile("prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(raw, &rules); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	registered := registeredMetrics(t)
	var alerts []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
			used := metricNameRE.FindAllString(r.Expr, -1)
			if len(used) == 0 {
				t.Errorf("alert %s queries no orderflow metric", r.Alert)
			}
			for _, name := range used {
				if !registered[name] {
					t.Errorf("alert %s queries %s, which the code does not register", r.Alert, name)
				}
			}
		}
	}
	for _, want := range []string{"OrderflowPipelineStalled", "OrderflowPoisonGrowing", "OrderflowCheckoutsStuck", "OrderflowProjectionLag"} {
		if !slices.Contains(alerts, want) {
			t.Errorf("alerts.yml has no alert %s (the README's Alerts section names it)", want)
		}
	}
	if !registered["orderflow_router_poisoned_messages_total"] || !registered["orderflow_outbox_forwarded_messages_total"] {
		t.Fatalf("the router's or the forwarder's metrics were not seen: %v", registered)
	}
}
