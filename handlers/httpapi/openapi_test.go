package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
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
			return nil
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
