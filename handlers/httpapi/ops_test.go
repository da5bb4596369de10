package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/query"
	"github.com/orderflow/orderflow/handlers/httpapi"
)

func TestHealthz(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) {
		c.Ready = func(context.Context) error { return errors.New("store: down") }
	})
	rec := e.do(t, http.MethodGet, "/healthz", "")
	if rec.Code != 200 || rec.Body.String() != `{"status":"ok"}`+"\n" {
		t.Fatalf("status %d, body %s: liveness must not depend on readiness", rec.Code, rec.Body)
	}
}

func TestReadyz(t *testing.T) {
	var hadDeadline bool
	tests := []struct {
		name       string
		ready      func(context.Context) error
		wantStatus int
		wantDetail string
	}{
		{"no check", nil, 200, ""},
		{"ready", func(ctx context.Context) error { _, hadDeadline = ctx.Deadline(); return nil }, 200, ""},
		{"down", func(context.Context) error {
			return errors.Join(errors.New("store: connection refused"), errors.New("router: not running"))
		}, 503, "not ready: store: connection refused; router: not running"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *httpapi.Config) { c.Ready = tt.ready })
			rec := e.do(t, http.MethodGet, "/readyz", "")
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, body %s", rec.Code, rec.Body)
			}
			if tt.wantStatus == 200 {
				if rec.Body.String() != `{"status":"ready"}`+"\n" {
					t.Errorf("body %s", rec.Body)
				}
				return
			}
			if p := problemOf(t, rec); p.Type != "urn:orderflow:problem:unavailable" || p.Detail != tt.wantDetail {
				t.Errorf("problem %+v", p)
			}
		})
	}
	if !hadDeadline {
		t.Error("the readiness check runs without a deadline")
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	if rec := e.do(t, http.MethodGet, "/metrics", ""); rec.Code != 404 {
		t.Errorf("no Metrics handler: status %d", rec.Code)
	}
	e = newEnv(t, func(c *httpapi.Config) {
		c.Metrics = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
			fmt.Fprintln(w, "orderflow_up 1")
		})
	})
	if rec := e.do(t, http.MethodGet, "/metrics", ""); rec.Code != 200 || rec.Body.String() != "orderflow_up 1\n" {
		t.Errorf("status %d, body %s", rec.Code, rec.Body)
	}
}

func TestUnknownRouteAndMethod(t *testing.T) {
	tests := []struct {
		method, path string
		wantStatus   int
		wantAllow    string
	}{
		{http.MethodGet, "/v2/orders", 404, ""},
		{http.MethodGet, "/", 404, ""},
		{http.MethodGet, "/v1/orders/" + orderID + "/refund", 404, ""},
		{http.MethodDelete, "/v1/orders", 405, "GET, HEAD, POST"},
		{http.MethodPut, "/v1/orders/" + orderID, 405, "GET, HEAD"},
		{http.MethodGet, "/v1/orders/" + orderID + "/confirm", 405, "POST"},
		{http.MethodPost, "/healthz", 405, "GET, HEAD"},
		{http.MethodOptions, "/v1/orders", 405, "GET, HEAD, POST"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			e := newEnv(t)
			rec := e.do(t, tt.method, tt.path, "")
			p := problemOf(t, rec)
			if rec.Code != tt.wantStatus || p.Status != tt.wantStatus {
				t.Fatalf("status %d, problem %+v", rec.Code, p)
			}
			wantType := map[int]string{404: "not_found", 405: "method_not_allowed"}[tt.wantStatus]
			if p.Type != "urn:orderflow:problem:"+wantType {
				t.Errorf("type %q", p.Type)
			}
			if got := rec.Header().Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
			if rec.Header().Get("X-Correlation-ID") == "" {
				t.Error("no X-Correlation-ID on an unmatched request")
			}
		})
	}
}

// TestProblemMapping: every application error code has its status and type.
func TestProblemMapping(t *testing.T) {
	doc, _ := mustDoc(t)
	tests := []struct {
		code   apperr.Code
		status int
	}{
		{apperr.Invalid, 422},
		{apperr.NotFound, 404},
		{apperr.Conflict, 409},
		{apperr.PreconditionFailed, 412},
		{apperr.Unauthorized, 401},
		{apperr.Unavailable, 503},
		{apperr.Internal, 500},
		{apperr.Code("something_new"), 500},
	}
	for _, tt := range tests {
		t.Run(string(tt.code), func(t *testing.T) {
			e := newEnv(t)
			e.app.get.Err = fmt.Errorf("reading: %w", apperr.New(tt.code, "message for the client"))
			rec := newRecorder(e.handler, http.MethodGet, "/v1/orders/"+orderID)
			// Not every code is documented for this operation (no use case
			// answers unauthorized yet), so check the Problem schema only.
			validateProblem(t, doc, rec)
			p := problemOf(t, rec)
			wantType := "urn:orderflow:problem:" + string(tt.code)
			if tt.status == 500 {
				wantType = "urn:orderflow:problem:internal"
			}
			if rec.Code != tt.status || p.Status != tt.status || p.Type != wantType || p.Title == "" {
				t.Fatalf("status %d, problem %+v", rec.Code, p)
			}
			if tt.status != 500 && p.Detail != "message for the client" {
				t.Errorf("detail %q", p.Detail)
			}
		})
	}
}

func TestInternalErrorDoesNotLeak(t *testing.T) {
	e := newEnv(t)
	e.app.get.Err = apperr.Wrap(apperr.Internal, errors.New("pq: password authentication failed for user orderflow"), "cannot read")
	rec := e.do(t, http.MethodGet, "/v1/orders/"+orderID, "", "X-Correlation-ID", "corr-500")
	p := problemOf(t, rec)
	if rec.Code != 500 || p.CorrelationID != "corr-500" || p.Instance != "/v1/orders/"+orderID {
		t.Fatalf("status %d, problem %+v", rec.Code, p)
	}
	if strings.Contains(rec.Body.String(), "password") || strings.Contains(rec.Body.String(), "cannot read") {
		t.Errorf("the cause leaks: %s", rec.Body)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "password authentication failed") || !strings.Contains(logs, "correlation_id=corr-500") {
		t.Errorf("the cause is not logged with the correlation id:\n%s", logs)
	}
}

func TestPanicIsA500Problem(t *testing.T) {
	e := newEnv(t)
	e.app.get.Run = func(context.Context, query.GetOrder) (query.OrderView, error) { panic("boom in the read model") }
	rec := e.do(t, http.MethodGet, "/v1/orders/"+orderID, "", "X-Correlation-ID", "corr-panic")
	p := problemOf(t, rec)
	if rec.Code != 500 || p.Type != "urn:orderflow:problem:internal" || strings.Contains(rec.Body.String(), "boom") {
		t.Fatalf("status %d, body %s", rec.Code, rec.Body)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "boom in the read model") || !strings.Contains(logs, "correlation_id=corr-panic") {
		t.Errorf("the panic is not logged with the correlation id:\n%s", logs)
	}
	if !strings.Contains(logs, `msg="http request" method=GET path=/v1/orders/{id} status=500`) {
		t.Errorf("the panicking request is not logged:\n%s", logs)
	}
}

func TestCorrelation(t *testing.T) {
	tests := []struct {
		name                         string
		header                       []string
		wantCorrelation, wantRequest string // "": generated
	}{
		{"given", []string{"X-Correlation-ID", "checkout-7f3a", "X-Request-ID", "req.42:a_b"}, "checkout-7f3a", "req.42:a_b"},
		{"generated", nil, "", ""},
		{"implausible ids are replaced", []string{"X-Correlation-ID", "has spaces", "X-Request-ID", strings.Repeat("a", 129)}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.app.get.Result = query.OrderView{OrderSummary: summary(1)}
			rec := e.do(t, http.MethodGet, "/v1/orders/"+orderID, "", tt.header...)
			corr, req := rec.Header().Get("X-Correlation-ID"), rec.Header().Get("X-Request-ID")
			for _, c := range []struct{ got, want string }{{corr, tt.wantCorrelation}, {req, tt.wantRequest}} {
				if c.want != "" && c.got != c.want {
					t.Errorf("echoed %q, want %q", c.got, c.want)
				}
				if id, err := uuid.Parse(c.got); c.want == "" && (err != nil || id.Version() != 7) {
					t.Errorf("generated id %q is not a UUIDv7", c.got)
				}
			}
			if corr == req {
				t.Error("correlation and request ids are the same")
			}
			if got := e.app.get.LastIDs(); got != [2]string{corr, req} {
				t.Errorf("the query saw correlation/causation %v, the client %q/%q", got, corr, req)
			}
			want := `msg="http request" method=GET path=/v1/orders/{id} status=200 duration=`
			if logs := e.logs.String(); !strings.Contains(logs, want) || !strings.Contains(logs, "correlation_id="+corr) {
				t.Errorf("request log line missing:\n%s", logs)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	// A zero Config works: default logger, always ready, no metrics.
	h := httpapi.NewHandler((&fakeApp{}).application(), httpapi.Config{})
	for path, want := range map[string]int{"/readyz": 200, "/metrics": 404} {
		rec := newRecorder(h, http.MethodGet, path)
		if rec.Code != want {
			t.Errorf("%s: status %d, want %d", path, rec.Code, want)
		}
	}
}
