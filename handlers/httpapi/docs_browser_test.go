package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/orderflow/orderflow/internal/browsertest"
)

// chromium and headless are internal/browsertest's, for the /docs page.
func chromium(t *testing.T) string {
	t.Helper()
	return browsertest.Chromium(t, "/docs")
}

func headless(t *testing.T, url string, action ...string) (stdout, stderr string) {
	t.Helper()
	return browsertest.Headless(t, "/docs", url, action...)
}

// redoclyLogo is the one resource Redoc's bundle asks for from elsewhere: the
// logo beside "API docs by Redocly" at the foot of the menu. The
// Content-Security-Policy refuses it, the browser never sends the request,
// and Redoc drops the image when it fails to load.
const redoclyLogo = "https://cdn.redoc.ly/redoc/logo-mini.svg"

// TestDocsRenderInChromium: headless Chromium renders /docs from a loopback
// server into a page that lists the order operations, having fetched only
// the page, Redoc's bundle and the document, all from that server, with no
// Content-Security-Policy violation but the Redocly logo's. ORDERFLOW_DOCS_SCREENSHOT=file.png also
// saves a screenshot there.
func TestDocsRenderInChromium(t *testing.T) {
	chromium(t)
	var (
		mu    sync.Mutex
		paths []string
	)
	handler := newEnv(t).handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		handler.ServeHTTP(w, r)
	}))
	defer srv.Close()

	dom, console := headless(t, srv.URL+"/docs", "--dump-dom")
	for _, summary := range []string{
		"Place an order", "List orders, newest first", "Read an order", "Cancel a placed or confirmed order",
		"Hand a confirmed order to a carrier", "Mark a shipped order delivered",
	} {
		if !strings.Contains(dom, summary) {
			t.Errorf("the rendered /docs does not list %q", summary)
		}
	}
	for _, line := range strings.Split(console, "\n") {
		switch {
		case strings.Contains(line, "Content Security Policy") && strings.Contains(line, redoclyLogo):
			t.Logf("blocked as intended: %s", redoclyLogo)
		case strings.Contains(line, "Content Security Policy"), strings.Contains(line, "ERR_NAME_NOT_RESOLVED"):
			t.Errorf("chromium: %s", line)
		}
	}
	mu.Lock()
	fetched := slices.Clone(paths)
	mu.Unlock()
	for _, want := range []string{"/docs", "/docs/redoc.standalone.js", "/openapi.yaml"} {
		if !slices.Contains(fetched, want) {
			t.Errorf("chromium never fetched %s; it fetched %v", want, fetched)
		}
	}
	if t.Failed() {
		t.Logf("rendered DOM (%d bytes), first 2000:\n%.2000s\nconsole:\n%s", len(dom), dom, console)
	}

	if file := os.Getenv("ORDERFLOW_DOCS_SCREENSHOT"); file != "" {
		headless(t, srv.URL+"/docs", "--screenshot="+file, "--window-size=1280,900")
		if info, err := os.Stat(file); err != nil || info.Size() == 0 {
			t.Errorf("no screenshot at %s: %v", file, err)
		}
	}
}
