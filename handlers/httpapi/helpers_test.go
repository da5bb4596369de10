package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/orderflow/orderflow/app"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/handlers/httpapi"
)

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is a handler over a fakeApp, with the OpenAPI document every response
// is checked against.
type env struct {
	app     *fakeApp
	handler http.Handler
	logs    *syncBuffer
}

func newEnv(t *testing.T, configure ...func(*httpapi.Config)) *env {
	t.Helper()
	e := &env{app: &fakeApp{}, logs: &syncBuffer{}}
	// Orders have no checkout unless a test says otherwise.
	e.app.checkout.Err = apperr.New(apperr.NotFound, "no checkout")
	cfg := httpapi.Config{Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Admin: e.app.admin()}
	for _, c := range configure {
		c(&cfg)
	}
	e.handler = httpapi.NewHandler(e.app.application(), cfg)
	return e
}

// do sends a request with an optional body and header pairs. A body gets
// Content-Type: application/json unless the pairs set it ("" removes it).
// The response is checked against the OpenAPI document, and so is the
// request when the response is a success: the document must accept what the
// handlers accept.
func (e *env) do(t *testing.T, method, target, body string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	build := func() *http.Request {
		var r *http.Request
		if body == "" {
			r = httptest.NewRequest(method, target, nil)
		} else {
			r = httptest.NewRequest(method, target, strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(header); i += 2 {
			switch k, v := header[i], header[i+1]; {
			case v == "":
				r.Header.Del(k)
			case seen[k]:
				r.Header.Add(k, v)
			default:
				r.Header.Set(k, v)
			}
			seen[header[i]] = true
		}
		return r
	}
	rec := e.serve(t, build())
	if rec.Code < 300 {
		validateRequest(t, build())
	}
	return rec
}

// serve runs req through the handler and checks the response against the document.
func (e *env) serve(t *testing.T, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	validateResponse(t, req, rec)
	return rec
}

var loadDoc = sync.OnceValues(func() (*openapi3.T, error) {
	// Read the document as served, which proves it is embedded.
	rec := httptest.NewRecorder()
	httpapi.NewHandler(app.Application{}, httpapi.Config{Logger: slog.New(slog.DiscardHandler)}).
		ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.yaml", nil))
	if rec.Code != http.StatusOK {
		return nil, errors.New("GET /openapi.yaml: " + rec.Result().Status)
	}
	return openapi3.NewLoader().LoadFromData(rec.Body.Bytes())
})

var docRouter = sync.OnceValues(func() (routers.Router, error) {
	doc, err := loadDoc()
	if err != nil {
		return nil, err
	}
	return gorillamux.NewRouter(doc)
})

func mustDoc(t *testing.T) (*openapi3.T, routers.Router) {
	t.Helper()
	doc, err := loadDoc()
	if err != nil {
		t.Fatalf("load OpenAPI document: %v", err)
	}
	router, err := docRouter()
	if err != nil {
		t.Fatalf("route OpenAPI document: %v", err)
	}
	return doc, router
}

// validateResponse checks a response against the operation the document has
// for the request, with undocumented statuses refused. HEAD is checked as the
// GET it stands for (the document leaves HEAD implied), with an empty body.
// A request no operation matches must get a 404 or 405 problem; a 405's
// Allow must list the methods the document has for the path (and HEAD with
// GET).
func validateResponse(t *testing.T, req *http.Request, rec *httptest.ResponseRecorder) {
	t.Helper()
	doc, router := mustDoc(t)
	head := req.Method == http.MethodHead
	if head {
		if rec.Body.Len() != 0 {
			t.Fatalf("HEAD %s: %d bytes of body", req.URL, rec.Body.Len())
		}
		asGet := req.Clone(req.Context())
		asGet.Method = http.MethodGet
		if _, _, err := router.FindRoute(asGet); err == nil {
			req = asGet
		}
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		switch {
		case errors.Is(err, routers.ErrPathNotFound) && rec.Code == http.StatusNotFound:
		case errors.Is(err, routers.ErrMethodNotAllowed) && rec.Code == http.StatusMethodNotAllowed:
			if got, want := rec.Header().Get("Allow"), documentedAllow(t, req); got != want {
				t.Fatalf("%s %s: Allow %q, but the document has %q", req.Method, req.URL, got, want)
			}
		default:
			t.Fatalf("%s %s: no operation in the document (%v), yet status %d", req.Method, req.URL, err, rec.Code)
		}
		if !head {
			validateProblem(t, doc, rec)
		}
		return
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 rec.Code,
		Header:                 rec.Header(),
		Body:                   io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, ExcludeResponseBody: head},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		t.Fatalf("%s %s: response %d does not match the document: %v\nbody: %s", req.Method, req.URL, rec.Code, err, rec.Body)
	}
}

// documentedAllow is the Allow header the document implies for the path of
// req: its operations' methods in the router's order, HEAD after GET.
func documentedAllow(t *testing.T, req *http.Request) string {
	t.Helper()
	_, router := mustDoc(t)
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := req.Clone(req.Context())
		probe.Method = m
		if _, _, err := router.FindRoute(probe); err == nil {
			allow = append(allow, m)
			if m == http.MethodGet {
				allow = append(allow, http.MethodHead)
			}
		}
	}
	return strings.Join(allow, ", ")
}

func validateProblem(t *testing.T, doc *openapi3.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json", ct)
	}
	var v any
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("problem body: %v", err)
	}
	if err := doc.Components.Schemas["Problem"].Value.VisitJSON(v); err != nil {
		t.Fatalf("problem body does not match the Problem schema: %v\nbody: %s", err, rec.Body)
	}
}

func validateRequest(t *testing.T, req *http.Request) {
	t.Helper()
	_, router := mustDoc(t)
	if req.Method == http.MethodHead { // the document leaves HEAD implied by GET
		req.Method = http.MethodGet
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s succeeded but the document has no operation for it: %v", req.Method, req.URL, err)
	}
	// Security is left out: these handlers mostly run without API keys, so
	// a write succeeds without one; TestSecurityIsDocumented checks it.
	input := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{MultiError: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	if err := openapi3filter.ValidateRequest(context.Background(), input); err != nil {
		t.Fatalf("%s %s succeeded but the document refuses the request: %v", req.Method, req.URL, err)
	}
}

// problemOf decodes a problem response.
type problemBody struct {
	Type          string `json:"type"`
	Title         string `json:"title"`
	Status        int    `json:"status"`
	Detail        string `json:"detail"`
	Instance      string `json:"instance"`
	CorrelationID string `json:"correlation_id"`
	Errors        []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

func problemOf(t *testing.T, rec *httptest.ResponseRecorder) problemBody {
	t.Helper()
	var p problemBody
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("decode problem: %v\nbody: %s", err, rec.Body)
	}
	return p
}

// fields lists a problem's errors as "field: message".
func (p problemBody) fields() []string {
	out := make([]string, len(p.Errors))
	for i, e := range p.Errors {
		out[i] = e.Field + ": " + e.Message
	}
	return out
}

func decodeJSON[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode body: %v\nbody: %s", err, rec.Body)
	}
	return v
}

// newRecorder serves a request without checking the response against the
// document; the caller checks what applies.
func newRecorder(h http.Handler, method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}
