package httpapi_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
)

// The document describes /docs and its script as text; kin-openapi decodes
// no text/html or text/javascript body unless told how.
func init() {
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("text/javascript", openapi3filter.PlainBodyDecoder)
}

// TestRedocBundleIsTheRecordedOne: the embedded bundle is byte for byte the
// one docs/fetch-redoc.sh fetched, as served. Changing it means running the
// script (make docs-assets), which records the new digest.
func TestRedocBundleIsTheRecordedOne(t *testing.T) {
	recorded, err := os.ReadFile("docs/redoc.standalone.js.sha256")
	if err != nil {
		t.Fatal(err)
	}
	want, file, ok := strings.Cut(strings.TrimSpace(string(recorded)), "  ")
	if !ok || file != "redoc.standalone.js" {
		t.Fatalf("docs/redoc.standalone.js.sha256 is not one sha256sum line for redoc.standalone.js: %q", recorded)
	}
	rec := newEnv(t).do(t, http.MethodGet, "/docs/redoc.standalone.js", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	sum := sha256.Sum256(rec.Body.Bytes())
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Errorf("the served redoc.standalone.js has SHA-256 %s, docs/redoc.standalone.js.sha256 records %s: "+
			"fetch the bundle with `make docs-assets` rather than edit it", got, want)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
}

// TestDocsPageIsSelfContained: /docs loads Redoc and the document from its
// own origin, and its Content-Security-Policy names no other origin, so a
// browser fetches nothing from anywhere else.
func TestDocsPageIsSelfContained(t *testing.T) {
	rec := newEnv(t).do(t, http.MethodGet, "/docs", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	page := rec.Body.String()
	for _, want := range []string{`<script src="/docs/redoc.standalone.js">`, `spec-url="/openapi.yaml"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if strings.Contains(page, "//") {
		t.Error("the page names a URL with a host (//)")
	}

	csp := rec.Header().Get("Content-Security-Policy")
	directives := map[string][]string{}
	for _, d := range strings.Split(csp, ";") {
		if f := strings.Fields(d); len(f) > 0 {
			directives[f[0]] = f[1:]
		}
	}
	if got := directives["default-src"]; len(got) != 1 || got[0] != "'none'" {
		t.Errorf("default-src %v, want 'none': whatever is not listed is refused", got)
	}
	allowed := map[string]bool{"'self'": true, "'none'": true}
	exceptions := map[string]string{"style-src": "'unsafe-inline'", "img-src": "data:", "worker-src": "blob:"}
	for name, sources := range directives {
		for _, src := range sources {
			if !allowed[src] && exceptions[name] != src {
				t.Errorf("Content-Security-Policy %s allows %s; only 'self' and what Redoc needs inline may be", name, src)
			}
		}
	}
	for _, name := range []string{"script-src", "connect-src", "frame-ancestors"} {
		if _, ok := directives[name]; !ok {
			t.Errorf("Content-Security-Policy has no %s", name)
		}
	}
}
