package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/router"
)

// jaegerPath is Jaeger's v2 binary (the OpenTelemetry-collector-based one)
// as pinned in tools/jaeger/go.mod, a tools module of its own (its
// dependencies conflict with buf's): go tool -n builds it into the build
// cache once and prints where. .ci/run builds it before the tests.
var jaegerPath = sync.OnceValues(func() (string, error) {
	cmd := exec.Command("go", "tool", "-modfile=tools/jaeger/go.mod", "-n", "jaeger")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go tool -modfile=tools/jaeger/go.mod -n jaeger: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
})

// jaeger is a running Jaeger with in-memory storage.
type jaeger struct {
	otlpHTTP, otlpGRPC string // http://host:port
	query              string // the query service's HTTP API, http://host:port
}

// startJaeger runs the real Jaeger v2 on free loopback ports (OTLP gRPC and
// HTTP receivers, the query API and its gRPC, the health check), with
// in-memory storage and its own telemetry off, until the test ends.
func startJaeger(t *testing.T) jaeger {
	t.Helper()
	bin, err := jaegerPath()
	if err != nil {
		t.Fatal(err)
	}
	grpcAddr, httpAddr, queryAddr, queryGRPC, health := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	config := fmt.Sprintf(`service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: %q
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: %q
    grpc:
      endpoint: %q
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 10000
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %q
      http:
        endpoint: %q
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`, health, queryAddr, queryGRPC, grpcAddr, httpAddr)
	path := filepath.Join(t.TempDir(), "jaeger.yaml")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config", path)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil && !t.Failed() {
				t.Logf("jaeger exited: %v", err)
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Logf("jaeger killed after 10s: %v", <-done)
		}
		if t.Failed() {
			t.Logf("jaeger's output:\n%s", out.String())
		}
	})
	j := jaeger{otlpHTTP: "http://" + httpAddr, otlpGRPC: "http://" + grpcAddr, query: "http://" + queryAddr}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-done:
			t.Fatalf("jaeger exited: %v\n%s", err, out.String())
		default:
		}
		if res, err := http.Get(j.query + "/api/services"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return j
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("jaeger's query API not up after 60s:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// jaegerSpan is a span as Jaeger's query API (/api/traces/{id}) shows it.
type jaegerSpan struct {
	TraceID       string `json:"traceID"`
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	References    []struct {
		RefType string `json:"refType"`
		TraceID string `json:"traceID"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	Tags []struct {
		Key   string `json:"key"`
		Value any    `json:"value"`
	} `json:"tags"`
}

func (s jaegerSpan) tag(k string) string {
	for _, t := range s.Tags {
		if t.Key == k {
			return fmt.Sprint(t.Value)
		}
	}
	return ""
}

// traceOf is one trace as Jaeger has it: its spans by id.
type traceOf map[string]jaegerSpan

func (j jaeger) trace(t *testing.T, id string) traceOf {
	t.Helper()
	res, err := http.Get(j.query + "/api/traces/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusNotFound {
		return nil
	}
	var body struct {
		Data []struct {
			Spans []jaegerSpan `json:"spans"`
		} `json:"data"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("GET /api/traces/%s: %d, %v", id, res.StatusCode, err)
	}
	tr := traceOf{}
	for _, d := range body.Data {
		for _, s := range d.Spans {
			tr[s.SpanID] = s
		}
	}
	return tr
}

// parent is the span's parent in the trace (a CHILD_OF reference), if any.
func (tr traceOf) parent(s jaegerSpan) (jaegerSpan, bool) {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" {
			p, ok := tr[r.SpanID]
			return p, ok
		}
	}
	return jaegerSpan{}, false
}

// roots are the operation names of the spans whose parent is not in the
// trace.
func (tr traceOf) roots() []string {
	var roots []string
	for _, s := range tr {
		if _, ok := tr.parent(s); !ok {
			roots = append(roots, s.OperationName)
		}
	}
	return roots
}

// named returns the spans whose operation name is name, a partition of a
// handler's counting as the handler (unpartitioned).
func (tr traceOf) named(name string) []jaegerSpan {
	var out []jaegerSpan
	for _, s := range tr {
		if unpartitioned(s.OperationName) == name {
			out = append(out, s)
		}
	}
	return out
}

// ancestors lists the names of s's ancestors, nearest first (unpartitioned).
func (tr traceOf) ancestors(s jaegerSpan) []string {
	var out []string
	for p, ok := tr.parent(s); ok && len(out) < 100; p, ok = tr.parent(p) {
		out = append(out, unpartitioned(p.OperationName))
	}
	return out
}

// unpartitioned is a span name with a partitioned handler's name
// (router.PartitionName: "handle h.p0of2") cut to the handler's ("handle h"),
// so that the checks hold whatever --saga-partitions the broker's default is.
func unpartitioned(name string) string {
	if i := strings.LastIndex(name, ".p"); i > 0 && strings.HasPrefix(name, "handle ") {
		var p, n int
		if _, err := fmt.Sscanf(name[i:], ".p%dof%d", &p, &n); err == nil && router.PartitionName(name[:i], p, n) == name {
			return name[:i]
		}
	}
	return name
}

func (tr traceOf) names() []string {
	var out []string
	for _, s := range tr {
		out = append(out, s.OperationName)
	}
	slices.Sort(out)
	return out
}

// TestTraceOfAnOrderInJaeger runs the real binary exporting over OTLP to a
// real Jaeger, places an order, lets checkout confirm it and ships it
// (continuing the trace: the ship request sends the traceparent the place
// request answered with, as a client following its order would), then
// reads the trace back from Jaeger's query API: one trace holds the POST,
// the use case, the append, the forward (the event's publish span, linked
// to the outbox batch span of another trace), the checkout's delivery and
// every step, the payment calls and the projection, each under the span
// that caused it. On the embedded default, on Kafka (devkafka) with
// Postgres, and on the Postgres broker.
func TestTraceOfAnOrderInJaeger(t *testing.T) {
	j := startJaeger(t)
	bin := mustBuildBinary(t)
	for _, tc := range []struct {
		name, protocol string
		env            func(t *testing.T) []string
	}{
		{"embedded", "http/protobuf", func(t *testing.T) []string { return []string{"ORDERFLOW_DATA_DIR=" + t.TempDir()} }},
		{"kafka", "grpc", func(t *testing.T) []string {
			return []string{"ORDERFLOW_POSTGRES_URL=" + testenv.PostgresURL(t), "ORDERFLOW_BROKER=kafka",
				"ORDERFLOW_KAFKA_BROKERS=" + startDevKafka(t)}
		}},
		{"postgres", "http/protobuf", func(t *testing.T) []string {
			return []string{"ORDERFLOW_POSTGRES_URL=" + testenv.PostgresURL(t), "ORDERFLOW_BROKER=postgres"}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			endpoint := j.otlpHTTP
			if tc.protocol == "grpc" {
				endpoint = j.otlpGRPC
			}
			t.Setenv(EnvTestLogLevel, "info") // the request log lines
			addr := freeAddr(t)
			base := "http://" + addr
			env := append(tc.env(t), "ORDERFLOW_HTTP_ADDR="+addr, "ORDERFLOW_AUTO_MIGRATE=true",
				"OTEL_EXPORTER_OTLP_ENDPOINT="+endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL="+tc.protocol,
				"OTEL_SERVICE_NAME=orderflow-e2e-"+tc.name, "OTEL_BSP_SCHEDULE_DELAY=100")
			p := startProcess(t, bin, env)
			waitReady(t, base, p)

			setStock(t, base, "SKU-RED-MUG", 10)
			setStock(t, base, "SKU-TEA", 10)
			placed := do(t, "POST", base+"/v1/orders", newOrder("trace-cust"))
			expectStatus(t, placed, http.StatusCreated)
			var o orderBody
			placed.json(t, &o)
			traceparent := placed.header.Get("traceparent")
			fields := strings.Split(traceparent, "-")
			if len(fields) != 4 || len(fields[1]) != 32 {
				t.Fatalf("POST /v1/orders answered traceparent %q", traceparent)
			}
			traceID := fields[1]
			waitReadModel(t, base, o.OrderID, "confirmed")
			shipped := do(t, "POST", base+"/v1/orders/"+o.OrderID+"/ship",
				map[string]string{"carrier": "DHL", "tracking_number": "T1"}, "traceparent", traceparent)
			expectStatus(t, shipped, http.StatusOK)
			if got := shipped.header.Get("traceparent"); !strings.Contains(got, traceID) {
				t.Fatalf("the ship request, sent traceparent %s, answered %q: not the same trace", traceparent, got)
			}
			waitCheckout(t, base, o.OrderID, "completed")
			waitReadModel(t, base, o.OrderID, "shipped")

			checkout, summary := "handle "+router.HandlerCheckoutOrders, "handle "+router.HandlerOrderSummary
			steps := []string{"checkout.step reserve_inventory", "checkout.step authorize_payment",
				"checkout.step confirm_order", "checkout.step capture_payment", "checkout.step commit_inventory"}
			want := append([]string{"POST /v1/orders", "usecase place_order", "eventstore.append",
				"publish " + router.EventTopic("order"), checkout, "checkout.advance", "payment.authorize", "payment.capture",
				"POST /v1/orders/{id}/ship", "usecase ship_order", "projection.apply order_summary", summary}, steps...)
			var tr traceOf
			var missing []string
			defer func() {
				if t.Failed() {
					t.Logf("spans missing from the trace: %q; its roots: %q; its spans: %q", missing, tr.roots(), tr.names())
				}
			}()
			waitFor(t, 60*time.Second, "the order's spans in Jaeger", func() bool {
				tr = j.trace(t, traceID)
				missing = missing[:0]
				for _, n := range want {
					if len(tr.named(n)) == 0 {
						missing = append(missing, n)
					}
				}
				if len(missing) > 0 {
					return false
				}
				// The last projection of the shipment.
				shipment := false
				for _, s := range tr.named("projection.apply order_summary") {
					shipment = shipment || s.tag("orderflow.event.type") == "order.shipped.v1"
				}
				// And every parent: a span is exported when it ends, so a
				// handler's children reach Jaeger before the handler's own
				// span (its parent) does.
				return shipment && slices.Equal(tr.roots(), []string{"POST /v1/orders"})
			})

			// Every parent a span names is in the trace: one tree, no
			// orphans, rooted at the POST.
			if roots := tr.roots(); !slices.Equal(roots, []string{"POST /v1/orders"}) {
				t.Fatalf("trace %s has roots %v, want the POST alone; spans: %v", traceID, roots, tr.names())
			}
			// The chain from the request to the checkout's first step.
			reserve := tr.named("checkout.step reserve_inventory")[0]
			if a := tr.ancestors(reserve); !isSubsequence([]string{"checkout.advance", checkout,
				"publish " + router.EventTopic("order"), "eventstore.append", "usecase place_order", "POST /v1/orders"}, a) {
				t.Fatalf("reserve_inventory's ancestors %v", a)
			}
			for _, call := range []string{"payment.authorize", "payment.capture"} {
				if a := tr.ancestors(tr.named(call)[0]); !isSubsequence([]string{"checkout.call", "checkout.advance", checkout}, prefixes(a)) {
					t.Fatalf("%s's ancestors %v", call, a)
				}
			}
			capture := tr.named("payment.capture")[0]
			if a := tr.ancestors(capture); !slices.Contains(a, "POST /v1/orders/{id}/ship") {
				t.Fatalf("the capture is not under the ship request: %v", a)
			}
			for _, s := range tr.named("projection.apply order_summary") {
				if a := tr.ancestors(s); len(a) < 3 || a[0] != summary || !strings.HasPrefix(a[1], "publish ") || a[2] != "eventstore.append" {
					t.Fatalf("projection of %s: ancestors %v", s.tag("orderflow.event.type"), a)
				}
			}
			// Each publish (the forward of one event) links to its outbox
			// batch, a span of another trace.
			for _, pub := range tr.named("publish " + router.EventTopic("order")) {
				var link string
				for _, r := range pub.References {
					if r.RefType == "FOLLOWS_FROM" && r.TraceID != traceID {
						link = r.TraceID
					}
				}
				if link == "" {
					t.Fatalf("publish span %s has no link to its batch: %+v", pub.SpanID, pub.References)
				}
				var batch traceOf
				waitFor(t, 30*time.Second, "the batch's trace", func() bool { batch = j.trace(t, link); return len(batch) > 0 })
				if len(batch.named("outbox.forward_batch")) != 1 {
					t.Fatalf("linked trace %s holds %v, want the outbox.forward_batch span", link, batch.names())
				}
			}
			// The log lines written inside the order's spans name its trace
			// (the requests' lines, at info).
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			if err := <-p.done; err != nil {
				t.Fatalf("orderflow did not stop cleanly: %v\n%s", err, p.out)
			}
			if n := strings.Count(p.out.String(), "trace_id="+traceID); n < 2 {
				t.Fatalf("%d log lines name trace %s, want the POST's and the ship's at least:\n%s", n, traceID, p.out)
			}
			t.Logf("trace %s: %d spans (%s)", traceID, len(tr), strings.Join(uniq(tr.names()), ", "))
		})
	}
}

// isSubsequence reports whether want appears in got in order.
func isSubsequence(want, got []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

// prefixes cuts each name at its first space ("checkout.call authorize_payment" → "checkout.call").
func prefixes(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i], _, _ = strings.Cut(n, " ")
		if strings.HasPrefix(n, "handle ") {
			out[i] = n
		}
	}
	return out
}

func uniq(s []string) []string { return slices.Compact(slices.Clone(s)) }
