package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gorilla/mux"

	"github.com/orderflow/orderflow/handlers/httpapi"
)

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc, _ := mustDoc(t)
	// Validate also checks every example against its schema.
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
}

// TestRoutesMatchOpenAPI: the router's routes and the document's operations
// are the same set of (method, path template), in both directions. HEAD is
// the exception: every GET route answers it, and the document (which says
// so in its description) leaves it implied rather than repeat each GET.
func TestRoutesMatchOpenAPI(t *testing.T) {
	doc, _ := mustDoc(t)
	var routes []string
	router := httpapi.RouterOf(newEnv(t).handler)
	err := router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tmpl, err := route.GetPathTemplate()
		if err != nil {
			return err
		}
		methods, err := route.GetMethods()
		if err != nil {
			t.Errorf("route %s has no method matcher: every route must name its methods", tmpl)
			return nil //nolint:nilerr // reported; the walk goes on to check the other routes
		}
		hasGet, hasHead := slices.Contains(methods, http.MethodGet), slices.Contains(methods, http.MethodHead)
		if hasGet != hasHead {
			t.Errorf("route %s: GET and HEAD must come together, got %v", tmpl, methods)
		}
		for _, m := range methods {
			if m != http.MethodHead {
				routes = append(routes, m+" "+tmpl)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk router: %v", err)
	}

	var operations []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			operations = append(operations, method+" "+path)
		}
	}

	slices.Sort(routes)
	slices.Sort(operations)
	if len(routes) == 0 {
		t.Fatal("the router has no routes")
	}
	for _, r := range routes {
		if !slices.Contains(operations, r) {
			t.Errorf("route %s is not in openapi.yaml", r)
		}
	}
	for _, o := range operations {
		if !slices.Contains(routes, o) {
			t.Errorf("openapi.yaml operation %s has no route", o)
		}
	}
	if dup := slices.Compact(slices.Clone(routes)); len(dup) != len(routes) {
		t.Errorf("a route is registered twice: %v", routes)
	}
}

// TestOpenAPIJSON: /openapi.json is the YAML document, converted.
func TestOpenAPIJSON(t *testing.T) {
	e := newEnv(t)
	rec := e.do(t, http.MethodGet, "/openapi.json", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if !json.Valid(rec.Body.Bytes()) {
		t.Fatal("/openapi.json is not JSON")
	}
	fromJSON, err := openapi3.NewLoader().LoadFromData(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("load /openapi.json: %v", err)
	}
	fromYAML, _ := mustDoc(t)
	a, _ := json.Marshal(fromJSON)
	b, _ := json.Marshal(fromYAML)
	if string(a) != string(b) {
		t.Error("/openapi.json and /openapi.yaml describe different APIs")
	}

	rec = e.do(t, http.MethodGet, "/openapi.yaml", "")
	if ct := rec.Header().Get("Content-Type"); ct != "application/yaml" {
		t.Errorf("/openapi.yaml Content-Type = %q", ct)
	}
	if !strings.HasPrefix(rec.Body.String(), "openapi: 3.0.3") {
		t.Errorf("/openapi.yaml body starts %q", rec.Body.String()[:20])
	}
}

// TestProblemTypesAreDocumented: every problem type the API can answer with
// is listed in the document's description.
func TestProblemTypesAreDocumented(t *testing.T) {
	doc, _ := mustDoc(t)
	for _, code := range []string{
		"invalid", "not_found", "conflict", "precondition_failed", "unauthorized", "unavailable", "internal",
		"malformed_request", "unsupported_media_type", "payload_too_large", "method_not_allowed",
	} {
		if !strings.Contains(doc.Info.Description, "`urn:orderflow:problem:"+code+"`") {
			t.Errorf("problem type %s is not documented in info.description", code)
		}
	}
}

// operations lists the document's operations with a concrete target for
// each: path parameters filled in with values the handlers accept.
func operations(t *testing.T) []docOperation {
	t.Helper()
	doc, _ := mustDoc(t)
	fill := strings.NewReplacer("{id}", orderID, "{sku}", "SKU-1")
	var ops []docOperation
	for path, item := range doc.Paths.Map() {
		target := fill.Replace(path)
		if strings.HasPrefix(path, "/v1/admin/poison/") {
			target = strings.Replace(path, "{id}", "p1", 1)
		}
		for method, op := range item.Operations() {
			ops = append(ops, docOperation{method: method, path: path, target: target, op: op})
		}
	}
	slices.SortFunc(ops, func(a, b docOperation) int { return strings.Compare(a.method+a.path, b.method+b.path) })
	return ops
}

// exampleBody is the document's example of the operation's request body;
// "" for an operation without one, "{}" when it gives none.
func exampleBody(t *testing.T, o docOperation) string {
	t.Helper()
	if o.op.RequestBody == nil {
		return ""
	}
	media := o.op.RequestBody.Value.Content.Get("application/json")
	example := media.Example
	if example == nil && media.Schema != nil {
		example = media.Schema.Value.Example
	}
	if example == nil {
		return "{}"
	}
	b, err := json.Marshal(example)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type docOperation struct {
	method, path, target string
	op                   *openapi3.Operation
}

// TestSecurityIsDocumented: each operation's security says what
// authenticate does. No security (security: []): never 401. A key optional
// ({} among the requirements): 401 without a key only with KeyReads. Else
// 401 without a key whenever the service has keys. With a key, never 401.
// Every 401 is checked against the document like any response.
func TestSecurityIsDocumented(t *testing.T) {
	for _, keyReads := range []bool{false, true} {
		e := newEnv(t, func(c *httpapi.Config) { c.APIKeys, c.KeyReads = []string{"k1"}, keyReads })
		e.app.answerEverything()
		for _, o := range operations(t) {
			if o.op.Security == nil {
				t.Errorf("%s %s declares no security", o.method, o.path)
				continue
			}
			none, optional := len(*o.op.Security) == 0, false
			for _, req := range *o.op.Security {
				optional = optional || len(req) == 0
			}
			want := !none && (!optional || keyReads)
			body := exampleBody(t, o)
			if got := e.do(t, o.method, o.target, body).Code == http.StatusUnauthorized; got != want {
				t.Errorf("%s %s (keyReads %v) without a key: 401 is %v, the document says %v", o.method, o.path, keyReads, got, want)
			}
			for _, h := range [][2]string{{"Authorization", "Bearer k1"}, {"X-API-Key", "k1"}} {
				if rec := e.do(t, o.method, o.target, body, h[0], h[1]); rec.Code == http.StatusUnauthorized {
					t.Errorf("%s %s with %s: 401", o.method, o.path, h[0])
				}
			}
		}
	}
}

// TestEdgeStatusesAreDocumented provokes on every operation the refusals
// that apply to it, each answer checked against the document (e.do refuses
// an undocumented status): 405 for a method a path lacks, 413, 415 (Content-
// Type and Content-Encoding) and 400 (a duplicate key) for a body, 422 for a
// repeated query parameter, 404 for a path id that names nothing.
func TestEdgeStatusesAreDocumented(t *testing.T) {
	e := newEnv(t)
	expect := func(o docOperation, what string, rec *httptest.ResponseRecorder, want int) {
		t.Helper()
		if rec.Code != want {
			t.Errorf("%s %s, %s: status %d, want %d", o.method, o.path, what, rec.Code, want)
		}
	}
	for _, o := range operations(t) {
		if o.op.RequestBody != nil {
			expect(o, "too large", e.do(t, o.method, o.target, `{"a":"`+strings.Repeat("x", 1<<20)+`"}`), 413)
			expect(o, "text/plain", e.do(t, o.method, o.target, `{}`, "Content-Type", "text/plain"), 415)
			expect(o, "gzip", e.do(t, o.method, o.target, `{}`, "Content-Encoding", "gzip"), 415)
			expect(o, "a key twice", e.do(t, o.method, o.target, `{"a":1,"a":2}`), 400)
		}
		for _, p := range o.op.Parameters {
			if p.Value.In != "query" {
				continue
			}
			v := "x"
			switch s := p.Value.Schema.Value; {
			case len(s.Enum) > 0:
				v = s.Enum[0].(string)
			case s.Type.Is("integer"):
				v = "1"
			case s.Format == "date-time":
				v = "2025-01-01T00:00:00Z"
			}
			target := o.target + "?" + p.Value.Name + "=" + v + "&" + p.Value.Name + "=" + v
			expect(o, p.Value.Name+" twice", e.do(t, o.method, target, ""), 422)
		}
		if strings.Contains(o.path, "{id}") && strings.HasPrefix(o.path, "/v1/orders/") {
			expect(o, "an id that is no UUID", e.do(t, o.method, strings.Replace(o.target, orderID, strings.Repeat("z", 4096), 1), ""), 404)
		}
	}
	doc, _ := mustDoc(t)
	for path := range doc.Paths.Map() {
		target := strings.NewReplacer("{id}", orderID, "{sku}", "SKU-1").Replace(path)
		expect(docOperation{method: http.MethodPatch, path: path}, "PATCH", e.do(t, http.MethodPatch, target, ""), 405)
	}
}
