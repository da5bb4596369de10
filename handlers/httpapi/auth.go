package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/orderflow/orderflow/app/apperr"
)

// headerAPIKey carries an API key; "Authorization: Bearer <key>" works too.
const headerAPIKey = "X-API-Key"

var errUnauthorized = apperr.New(apperr.Unauthorized, "a valid API key is required (Authorization: Bearer <key>, or X-API-Key)")

// authenticate requires one of the API keys on writes (every method but
// GET, HEAD and OPTIONS) and on /v1/admin/, and on reads too when keyReads.
// Probes, the API document and its /docs page stay open. Keys are compared in constant
// time, as SHA-256 digests so that lengths leak nothing either; every key is
// compared, whichever matches. Without keys it is a no-op.
func (s *server) authenticate(next http.Handler) http.Handler {
	if len(s.apiKeys) == 0 {
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
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// keyScope reports whether k is one of the API keys, and the key's scope:
// the first 8 bytes of its SHA-256 digest in hex, which names the key in
// stored records (Idempotency-Keys belong to the API key that used them)
// without storing the key.
func (s *server) keyScope(k string) (string, bool) {
	if k == "" || len(s.apiKeys) == 0 {
		return "", false
	}
	d := sha256.Sum256([]byte(k))
	ok := 0
	for _, want := range s.apiKeys {
		ok |= subtle.ConstantTimeCompare(d[:], want[:])
	}
	if ok != 1 {
		return "", false
	}
	return hex.EncodeToString(d[:8]), true
}

func hashKeys(keys []string) [][sha256.Size]byte {
	var out [][sha256.Size]byte
	for _, k := range keys {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, sha256.Sum256([]byte(k)))
		}
	}
	return out
}
