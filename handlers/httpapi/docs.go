package httpapi

import (
	_ "embed"
	"net/http"

	"github.com/gorilla/mux"
)

// The browsable API documentation at /docs: Redoc's standalone bundle (a
// pinned npm release, fetched by docs/fetch-redoc.sh, its SHA-256 recorded
// beside it) rendering /openapi.yaml. Both are embedded, so the page works
// with no request leaving the service's origin; docsCSP makes the browser
// enforce that.

//go:embed docs/index.html
var docsHTML []byte

//go:embed docs/redoc.standalone.js
var redocJS []byte

// docsCSP allows the page nothing but its own origin, plus what Redoc needs
// beyond that: inline styles (styled-components writes <style> elements),
// data: images (its icons) and a blob: worker (its search index). No host
// is named, so the browser fetches nothing from anywhere else.
const docsCSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src blob:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// docsRoutes registers /docs and the bundle it loads; openapi.yaml has both.
func (s *server) docsRoutes(r *mux.Router) {
	r.Handle("/docs", s.api(serveDocs)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/docs/redoc.standalone.js", s.api(serveRedocJS)).Methods(http.MethodGet, http.MethodHead)
}

func serveDocs(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Security-Policy", docsCSP)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	writeBody(w, http.StatusOK, "text/html; charset=utf-8", docsHTML)
	return nil
}

func serveRedocJS(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	writeBody(w, http.StatusOK, "text/javascript; charset=utf-8", redocJS)
	return nil
}
