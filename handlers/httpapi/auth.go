package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/orderflow/orderflow/app/apperr"
)

// headerAPIKey carries an API key; "Authorization: Bearer <key>" works too.
const headerAPIKey = "X-API-Key"

var errUnauthorized = apperr.New(apperr.Unauthorized, "a valid API key is required (Authorization: Bearer <key>, or X-API-Key)")

// authenticate requires one of the API keys on writes (every method but
// GET, HEAD and OPTIONS) and on /v1/admin/, and on reads too when keyReads.
// Probes and the API document stay open. Keys are compared in constant
// time, as SHA-256 digests so that lengths leak nothing either; every key is
// compared, whichever matches. Without keys it is a no-op.
func (s *server) authenticate(next http.Handler) http.Handler {
	if len(s.apiKeys) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.needsKey(r) || s.validKey(presentedKey(r)) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="orderflow"`)
		s.writeError(w, r, errUnauthorized)
	})
}

func (s *server) needsKey(r *http.Request) bool {
	switch r.URL.Path {
	case "/healthz", "/readyz", "/openapi.yaml", "/openapi.json":
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

func (s *server) validKey(k string) bool {
	if k == "" {
		return false
	}
	d := sha256.Sum256([]byte(k))
	ok := 0
	for _, want := range s.apiKeys {
		ok |= subtle.ConstantTimeCompare(d[:], want[:])
	}
	return ok == 1
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
