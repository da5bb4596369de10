package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/query"
	"github.com/orderflow/orderflow/handlers/httpapi"
	"github.com/orderflow/orderflow/ports"
)

var cancelled = command.Result{OrderID: orderID, Status: "cancelled", Version: 2}

// answerEverything gives every use case an answer the document accepts.
func (f *fakeApp) answerEverything() {
	f.place.Run = placed
	f.cancel.Result, f.ship.Result, f.deliver.Result = cancelled, cancelled, cancelled
	f.get.Result = query.OrderView{OrderSummary: summary(3)}
	f.list.Result = ports.OrderPage{Items: []ports.OrderSummary{summary(1)}}
	f.history.Result = summary(1)
	f.events.Result = []ports.RecordedEvent{{Stream: ports.Stream{Type: "order", ID: orderID}, Version: 1,
		Type: "order.placed.v1", Data: []byte(`{}`), Metadata: ports.EventMetadata{EventID: "ev-1", OccurredAt: created}, RecordedAt: created}}
	f.setStock.Result = command.StockLevels{SKU: "SKU-1", OnHand: 1, Available: 1}
	f.getStock.Result = command.StockLevels{SKU: "SKU-1"}
	f.checkout.Result, f.checkout.Err = ports.Checkout{OrderID: orderID, State: "reserving",
		StartedAt: created, DeadlineAt: created, UpdatedAt: created, Steps: []ports.CheckoutStep{}, Compensations: []ports.CheckoutStep{}}, nil
	f.listPoisoned.Result = query.PoisonPage{}
	f.getPoisoned.Result = parked("p1", nil)
	f.requeuePoisoned.Result = parked("p1", nil)
	f.listCheckouts.Result = query.CheckoutPage{}
	f.resumeCheckouts.Result = command.Resumed{Checkouts: []ports.Checkout{f.checkout.Result}}
}

// Invalid UTF-8 in a string is 422 naming its JSON path: encoding/json
// would quietly turn it into U+FFFD, so the use case could never tell.
func TestBodyWithInvalidUTF8(t *testing.T) {
	for _, tc := range []struct{ target, body, field string }{
		{"/v1/orders", strings.Replace(validOrder, `"Ada Lovelace"`, "\"Ada\xff\"", 1), "shipping_address.name"},
		{"/v1/orders", strings.Replace(validOrder, `"MUG-RED"`, "\"MUG\xc3\"", 1), "items[0].sku"},
		{"/v1/orders/" + orderID + "/cancel", "{\"reason\":\"\xed\xa0\x80\"}", "reason"},
		{"/v1/orders/" + orderID + "/cancel", `{"reason":"\ufffd and \ud800"}`, "reason"},
	} {
		e := newEnv(t)
		e.app.place.Run = placed
		e.app.cancel.Result = cancelled
		rec := e.do(t, http.MethodPost, tc.target, tc.body)
		if p := problemOf(t, rec); rec.Code != 422 || !slices.Equal(p.fields(), []string{tc.field + ": must be valid UTF-8"}) {
			t.Errorf("%s: status %d, problem %+v", tc.field, rec.Code, p)
		}
		if e.app.callCount() != 0 {
			t.Errorf("%s: invalid UTF-8 reached a use case", tc.field)
		}
	}
	// U+FFFD itself is a character like any other, spelled out or escaped.
	e := newEnv(t)
	e.app.cancel.Result = cancelled
	if rec := e.do(t, http.MethodPost, "/v1/orders/"+orderID+"/cancel", "{\"reason\":\"\uFFFD \xef\xbf\xbd \\uFFFD\"}"); rec.Code != 200 {
		t.Errorf("U+FFFD: status %d: %s", rec.Code, rec.Body)
	}
}

// A JSON object naming a key twice is 400 naming the key: which one wins is
// up to each parser, so the request has no single meaning.
func TestBodyWithDuplicateKeys(t *testing.T) {
	for _, tc := range []struct{ target, body, field string }{
		{"/v1/orders/" + orderID + "/cancel", `{"reason":"a","reason":"b"}`, "reason"},
		{"/v1/orders", strings.Replace(validOrder, `"sku": "MUG-RED"`, `"sku": "MUG-RED", "sku": "X"`, 1), "items[0].sku"},
		{"/v1/orders", strings.Replace(validOrder, `"city": "London"`, `"city": "London", "city": "Paris"`, 1), "shipping_address.city"},
		{"/v1/inventory/SKU-1", `{"on_hand":1,"on_hand":2}`, "on_hand"},
	} {
		e := newEnv(t)
		e.app.cancel.Result = cancelled
		rec := e.do(t, http.MethodPost, tc.target, tc.body)
		if strings.HasPrefix(tc.target, "/v1/inventory/") {
			rec = e.do(t, http.MethodPut, tc.target, tc.body)
		}
		if p := problemOf(t, rec); rec.Code != 400 || !slices.Equal(p.fields(), []string{tc.field + ": appears more than once"}) {
			t.Errorf("%s: status %d, problem %+v", tc.field, rec.Code, p)
		}
		if e.app.callCount() != 0 {
			t.Errorf("%s: a duplicate key reached a use case", tc.field)
		}
	}
}

func gzipped(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return b.String()
}

// Request bodies are never decoded: a Content-Encoding other than identity
// is 415 with Accept-Encoding: identity (RFC 9110 section 15.5.16).
func TestContentEncoding(t *testing.T) {
	for _, tc := range []struct {
		name, encoding, body string
		want                 int
	}{
		{"gzip", "gzip", gzipped(`{"reason":"r"}`), 415},
		{"br on a plain body", "br", `{"reason":"r"}`, 415},
		{"a list", "identity, gzip", `{"reason":"r"}`, 415},
		{"identity", "identity", `{"reason":"r"}`, 200},
		{"IDENTITY", "IDENTITY", `{"reason":"r"}`, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.app.cancel.Result = cancelled
			rec := e.do(t, http.MethodPost, "/v1/orders/"+orderID+"/cancel", tc.body, "Content-Encoding", tc.encoding)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.want, rec.Body)
			}
			if tc.want == 415 {
				if got := rec.Header().Get("Accept-Encoding"); got != "identity" {
					t.Errorf("Accept-Encoding = %q", got)
				}
				if len(e.app.cancel.Calls()) != 0 {
					t.Error("an encoded body reached the command")
				}
			}
		})
	}
}

// A 404 quotes at most a short prefix of what the path named, and the
// problem's instance is left out for an absurdly long path.
func TestNotFoundDoesNotEchoLongIDs(t *testing.T) {
	e := newEnv(t)
	long := strings.Repeat("x", 1<<20)
	for _, target := range []string{"/v1/orders/" + long, "/v1/orders/" + long + "/events", "/v1/nothing/" + long} {
		rec := e.do(t, http.MethodGet, target, "")
		if rec.Code != 404 || rec.Body.Len() > 1024 {
			t.Errorf("GET %.30s...: status %d, %d bytes of body", target, rec.Code, rec.Body.Len())
		}
	}
	rec := e.do(t, http.MethodGet, "/v1/orders/"+strings.Repeat("y", 100), "")
	if p := problemOf(t, rec); !strings.Contains(p.Detail, `"`+strings.Repeat("y", 64)+`…"`) || strings.Contains(p.Detail, strings.Repeat("y", 65)) {
		t.Errorf("detail %q: want the id cut at 64 characters with an ellipsis", p.Detail)
	}
}

// A single-valued query parameter given twice is 422 naming it.
func TestRepeatedQueryParameters(t *testing.T) {
	for _, tc := range []struct{ target, field string }{
		{"/v1/orders?status=placed&status=cancelled", "status"},
		{"/v1/orders?customer_id=a&customer_id=b", "customer_id"},
		{"/v1/orders?limit=1&limit=2", "limit"},
		{"/v1/orders?cursor=a&cursor=b", "cursor"},
		{"/v1/orders/" + orderID + "?min_version=1&min_version=2", "min_version"},
		{"/v1/orders/" + orderID + "/history?version=1&version=1", "version"},
		{"/v1/orders/" + orderID + "/history?at=2025-01-01T00:00:00Z&at=2025-01-02T00:00:00Z", "at"},
		{"/v1/admin/poison?limit=1&limit=2", "limit"},
		{"/v1/admin/poison?after=a&after=b", "after"},
	} {
		e := newEnv(t)
		e.app.get.Result = query.OrderView{OrderSummary: summary(3)}
		e.app.history.Result = summary(1)
		rec := e.do(t, http.MethodGet, tc.target, "")
		if p := problemOf(t, rec); rec.Code != 422 || !slices.Equal(p.fields(), []string{tc.field + ": must be given at most once"}) {
			t.Errorf("%s: status %d, problem %+v", tc.target, rec.Code, p)
		}
		if e.app.callCount() != 0 {
			t.Errorf("%s: reached a use case", tc.target)
		}
	}
}

// The zero moment is a moment: ?at=0001-01-01T00:00:00Z reaches the query.
func TestOrderHistoryAtTheZeroMoment(t *testing.T) {
	e := newEnv(t)
	e.app.history.Result = summary(1)
	rec := e.do(t, http.MethodGet, "/v1/orders/"+orderID+"/history?at=0001-01-01T00:00:00Z", "")
	calls := e.app.history.Calls()
	if rec.Code != 200 || len(calls) != 1 || calls[0].At == nil || !calls[0].At.IsZero() {
		t.Fatalf("status %d, calls %+v", rec.Code, calls)
	}
}

// HEAD answers like GET, without a body, on every resource GET has.
func TestHeadOnEveryGet(t *testing.T) {
	e := newEnv(t, func(c *httpapi.Config) {
		c.Metrics = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte("up 1\n"))
		})
	})
	e.app.answerEverything()
	targets := map[string]string{
		"/v1/orders": "/v1/orders", "/v1/orders/{id}": "/v1/orders/" + orderID,
		"/v1/orders/{id}/events": "/v1/orders/" + orderID + "/events", "/v1/orders/{id}/history": "/v1/orders/" + orderID + "/history?version=1",
		"/v1/orders/{id}/checkout": "/v1/orders/" + orderID + "/checkout", "/v1/orders/{id}/notifications": "/v1/orders/" + orderID + "/notifications",
		"/v1/inventory/{sku}": "/v1/inventory/SKU-1", "/v1/admin/poison": "/v1/admin/poison", "/v1/admin/poison/{id}": "/v1/admin/poison/p1",
		"/v1/admin/checkouts": "/v1/admin/checkouts",
		"/healthz":            "/healthz", "/readyz": "/readyz", "/metrics": "/metrics", "/openapi.yaml": "/openapi.yaml", "/openapi.json": "/openapi.json",
		"/docs": "/docs", "/docs/redoc.standalone.js": "/docs/redoc.standalone.js",
	}
	doc, _ := mustDoc(t)
	for path, item := range doc.Paths.Map() {
		if item.Get == nil {
			continue
		}
		target, ok := targets[path]
		if !ok {
			t.Errorf("no HEAD target for GET %s", path)
			continue
		}
		get := e.do(t, http.MethodGet, target, "")
		head := e.do(t, http.MethodHead, target, "")
		if head.Code != get.Code || head.Body.Len() != 0 {
			t.Errorf("HEAD %s: status %d and %d body bytes; GET: %d", target, head.Code, head.Body.Len(), get.Code)
		}
		for _, h := range []string{"Content-Type", "ETag", "Content-Length"} {
			if head.Header().Get(h) != get.Header().Get(h) {
				t.Errorf("HEAD %s: %s %q, GET's %q", target, h, head.Header().Get(h), get.Header().Get(h))
			}
		}
	}

	rec := e.do(t, http.MethodDelete, "/v1/orders/"+orderID, "")
	if got := rec.Header().Get("Allow"); rec.Code != 405 || got != "GET, HEAD" {
		t.Errorf("DELETE an order: status %d, Allow %q, want 405 and GET, HEAD", rec.Code, got)
	}
	rec = e.do(t, http.MethodHead, "/v1/orders/"+orderID+"/confirm", "")
	if got := rec.Header().Get("Allow"); rec.Code != 405 || got != "POST" || rec.Body.Len() != 0 {
		t.Errorf("HEAD confirm: status %d, Allow %q, %d body bytes; want 405, POST and none", rec.Code, got, rec.Body.Len())
	}
	rec = e.do(t, http.MethodPatch, "/v1/inventory/SKU-1", "")
	if got := rec.Header().Get("Allow"); rec.Code != 405 || got != "GET, HEAD, PUT" {
		t.Errorf("PATCH a SKU: status %d, Allow %q, want 405 and GET, HEAD, PUT", rec.Code, got)
	}
}

// HEAD through a real server: no body on the wire, Content-Length as GET's.
func TestHeadOverTheWire(t *testing.T) {
	e := newEnv(t)
	e.app.get.Result = query.OrderView{OrderSummary: summary(3)}
	srv := httptest.NewServer(e.handler)
	defer srv.Close()
	get, err := http.Get(srv.URL + "/v1/orders/" + orderID)
	if err != nil {
		t.Fatal(err)
	}
	get.Body.Close()
	head, err := http.Head(srv.URL + "/v1/orders/" + orderID)
	if err != nil {
		t.Fatal(err)
	}
	head.Body.Close()
	if head.StatusCode != 200 || head.ContentLength != get.ContentLength || head.ContentLength <= 0 {
		t.Errorf("HEAD: status %d, Content-Length %d; GET's %d", head.StatusCode, head.ContentLength, get.ContentLength)
	}
}
