package service

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/orderflow/orderflow/adapters/prommetrics"
	"github.com/orderflow/orderflow/app"
	"github.com/orderflow/orderflow/handlers/httpapi"
)

const openMetrics = "application/openmetrics-text"

func scrape(t *testing.T, url, accept string) (contentType, body string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v\n%s", url, res.StatusCode, err, b)
	}
	return res.Header.Get("Content-Type"), string(b)
}

// tracedRequests stands in for the tracing middleware: a request with
// X-Test-Trace-Id runs with a sampled span context of that trace id.
func tracedRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, err := trace.TraceIDFromHex(r.Header.Get("X-Test-Trace-Id")); err == nil {
			sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: id, SpanID: trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8},
				TraceFlags: trace.FlagsSampled})
			r = r.WithContext(trace.ContextWithSpanContext(r.Context(), sc))
		}
		next.ServeHTTP(w, r)
	})
}

// /metrics negotiates OpenMetrics, whose latency buckets carry the trace id
// of the request they observed as an exemplar, when the request ran in a
// sampled span, and none otherwise; the classic text format carries none.
func TestMetricsExemplars(t *testing.T) {
	reg := prometheus.NewRegistry()
	requests, err := prommetrics.NewHTTPRequests(reg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(tracedRequests(httpapi.NewHandler(app.Application{}, httpapi.Config{
		Metrics: MetricsHandler(reg), Requests: requests, Logger: slog.New(slog.DiscardHandler)})))
	defer srv.Close()

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	for path, id := range map[string]string{"/healthz": traceID, "/openapi.yaml": ""} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
		if id != "" {
			req.Header.Set("X-Test-Trace-Id", id)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}

	ct, body := scrape(t, srv.URL+"/metrics", openMetrics+"; version=1.0.0")
	if !strings.HasPrefix(ct, openMetrics) || !strings.HasSuffix(body, "# EOF\n") {
		t.Fatalf("asked for OpenMetrics, got %q:\n%s", ct, body)
	}
	exemplarRE := regexp.MustCompile(`^orderflow_http_request_duration_seconds_bucket\{(.*)\} \d+ # \{trace_id="([0-9a-f]{32})"\} `)
	var traced, untraced []string
	for line := range strings.Lines(body) {
		m := exemplarRE.FindStringSubmatch(line)
		switch {
		case m != nil && strings.Contains(m[1], `route="/healthz"`):
			traced = append(traced, m[2])
		case strings.Contains(line, `route="/openapi.yaml"`) && strings.Contains(line, "# {"):
			untraced = append(untraced, line)
		}
	}
	if len(traced) != 1 || traced[0] != traceID {
		t.Errorf("the traced request's exemplars: %v, want one trace_id=%s\n%s", traced, traceID, body)
	}
	if len(untraced) != 0 {
		t.Errorf("exemplars on the request without a span: %q", untraced)
	}
	if !strings.Contains(body, `orderflow_http_request_duration_seconds_count{code="200",method="GET",route="/openapi.yaml"} 1`) {
		t.Errorf("the untraced request was not counted:\n%s", body)
	}

	ct, body = scrape(t, srv.URL+"/metrics", "")
	if !strings.HasPrefix(ct, "text/plain") || strings.Contains(body, "trace_id") {
		t.Errorf("the classic format (%q) carries exemplars or is not text:\n%s", ct, body)
	}
}

// A real process's scrape, after an order went through checkout, is clean
// for promtool check metrics, parses as OpenMetrics, and has the latency
// histograms the dashboards read.
func TestMetricsScrapeIsClean(t *testing.T) {
	m := NewMain(Config{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0"})
	m.Logger = slog.New(slog.DiscardHandler)
	defer func() {
		if err := m.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	if err := m.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	base := "http://" + m.Addr()
	send := func(method, path string, body any) *http.Response {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequestWithContext(t.Context(), method, base+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := send(http.MethodPut, "/v1/inventory/SKU-1", map[string]int64{"on_hand": 5})
	res.Body.Close()
	res = send(http.MethodPost, "/v1/orders", map[string]any{
		"customer_id": "c1", "currency": "EUR", "payment_method": "tok_visa",
		"items":            []map[string]any{{"sku": "SKU-1", "quantity": 1, "unit_price": 100}},
		"shipping_address": map[string]any{"name": "A", "line1": "B", "city": "C", "postal_code": "1", "country": "DE"},
	})
	var placed struct {
		OrderID string `json:"order_id"`
	}
	if err := json.NewDecoder(res.Body).Decode(&placed); err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("place: %d %v", res.StatusCode, err)
	}
	res.Body.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, body := scrape(t, base+"/metrics", "")
		if strings.Contains(body, "orderflow_order_placed_to_confirmed_seconds_count 1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the order was never confirmed:\n%s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}

	_, text := scrape(t, base+"/metrics", "")
	for _, family := range []string{
		"orderflow_http_request_duration_seconds_bucket", "orderflow_use_case_duration_seconds_bucket",
		"orderflow_router_handler_execution_time_seconds_bucket", "orderflow_checkout_step_duration_seconds_bucket",
		"orderflow_order_placed_to_confirmed_seconds_bucket", "orderflow_events_appended_total",
		"orderflow_outbox_forwarded_messages_total",
	} {
		if !strings.Contains(text, family) {
			t.Errorf("the scrape has no %s", family)
		}
	}
	for _, step := range []string{"reserve_inventory", "authorize_payment", "confirm_order"} {
		if !strings.Contains(text, `orderflow_checkout_step_duration_seconds_count{outcome="done",step="`+step+`"} 1`) {
			t.Errorf("step %s was not observed once", step)
		}
	}
	ct, om := scrape(t, base+"/metrics", openMetrics)
	if !strings.HasPrefix(ct, openMetrics) || !strings.HasSuffix(om, "# EOF\n") {
		t.Errorf("no OpenMetrics: %q", ct)
	}

	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool is not installed; .ci/run installs it (the prometheus package)")
		}
		t.Skip("promtool is not installed (apt-get install prometheus); CI runs this check")
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}
