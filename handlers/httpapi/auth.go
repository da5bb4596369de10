package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/internal/apikeys"
)

// headerAPIKey carries an API key; "Authorization: Bearer <key>" works too.
const headerAPIKey = "X-API-Key"

var errUnauthorized = apperr.New(apperr.Unauthorized, "a valid API key is required (Authorization: Bearer <key>, or X-API-Key)")

// authenticate requires one of the API keys on writes (every method but
// GET, HEAD and OPTIONS) and on /v1/admin/, and on reads too when keyReads.
// Probes, the API document and its /docs page stay open. Keys are compared in constant
// time (apikeys). Without keys it is a no-op.
func (s *server) authenticate(next http.Handler) http.Handler {
	if s.apiKeys.Empty() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if scope, ok := s.keyScope(presentedKey(r)); ok {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyScopeCtx{}, scope)))
			return
		}
		if !s.needsKey(r) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="orderflow"`)
		s.writeError(w, r, errUnauthorized)
	})
}

// keyScopeCtx carries the scope of the request's API key (see keyScope).
type keyScopeCtx struct{}

// requestScope is the scope of the API key the request was authenticated
// with; "" without API keys.
func requestScope(r *http.Request) string {
	scope, _ := r.Context().Value(keyScopeCtx{}).(string)
	return scope
}

func (s *server) needsKey(r *http.Request) bool {
	switch r.URL.Path {
	case "/healthz", "/readyz", "/openapi.yaml", "/openapi.json", "/docs", "/docs/redoc.standalone.js":
		return false
	}
	if strings.HasPrefix(r.URL.Path, "/v1/admin/") || r.URL.Path == "/v1/admin" {
		return true
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return s.keyReads
	}
	return true
}

func presentedKey(r *http.Request) string {
	if k := r.Header.Get(headerAPIKey); k != "" {
		return k
	}
	return apikeys.Bearer(r.Header.Get("Authorization"))
}

// keyScope reports whether k is one of the API keys, and the key's scope
// (apikeys.Set.Scope).
func (s *server) keyScope(k string) (string, bool) { return s.apiKeys.Scope(k) }
