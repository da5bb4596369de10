package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/idempotency"
	"github.com/orderflow/orderflow/ports"
)

// Idempotency headers.
const (
	headerIdempotencyKey = "Idempotency-Key"
	// headerReplayed marks a response replayed from the idempotency store.
	headerReplayed = "Idempotent-Replayed"
)

// replayedHeaders are the response headers kept with an idempotent response.
var replayedHeaders = []string{"Content-Type", "Location", "ETag"}

// errNotStored ends the unit of a request whose response must not be
// stored: the unit rolls back, the key is freed, and the response the
// handler wrote is sent as it is.
var errNotStored = errors.New("response not stored")

// idempotent makes POST requests that carry an Idempotency-Key safe to
// retry, by the protocol of app/idempotency: the first request's response
// is stored with a fingerprint of the request (method, path, If-Match and
// body) in the same transaction as its effects; a later request with the
// key and the same fingerprint gets that response again (with
// Idempotent-Replayed: true) and runs nothing; a different fingerprint is
// 422, whether the key is in flight or done; the same one still in flight
// is 409. A response that says the request never began executing (see
// storable) or failed (5xx) is not kept: the key is freed so the client can
// retry, corrected. Requests without the header, and other methods, pass
// through.
//
// The handler's response is buffered until the unit commits: a client
// never sees a response whose effects were rolled back. A requeue of the
// poison queue publishes to the broker, outside the database: it runs with
// Guard.DoOutside.
func (s *server) idempotent(next http.Handler) http.Handler {
	if s.idempotency == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get(headerIdempotencyKey)
		if r.Method != http.MethodPost || key == "" {
			next.ServeHTTP(w, r)
			return
		}
		if !validID(key) {
			s.writeError(w, r, newHTTPError(codeMalformed, "Idempotency-Key must be 1 to 128 letters, digits or . _ : -",
				apperr.FieldError{Field: headerIdempotencyKey, Message: "not a valid key"}))
			return
		}
		if r.ContentLength > maxBodyBytes {
			s.writeError(w, r, errTooLarge)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
		if err != nil {
			s.writeError(w, r, errTooLarge)
			return
		}
		var (
			buf      *bufferedResponse // what the handler answered, if it ran
			panicked any
		)
		run := func(ctx context.Context) (resp ports.StoredResponse, err error) {
			buf = &bufferedResponse{header: http.Header{}, status: http.StatusOK}
			defer func() {
				if p := recover(); p != nil {
					panicked, err = p, errNotStored
				}
			}()
			req := r.WithContext(ctx)
			req.Body = io.NopCloser(bytes.NewReader(body))
			next.ServeHTTP(buf, req)
			if !storable(buf.status) {
				return buf.stored(), errNotStored
			}
			return buf.stored(), nil
		}
		do := s.idempotency.Do
		if strings.HasPrefix(r.URL.Path, "/v1/admin/poison/") {
			do = s.idempotency.DoOutside
		}
		out, err := do(r.Context(), scopedIdempotencyKey(r, key), fingerprint(r, body), run)
		if panicked != nil {
			panic(panicked)
		}
		switch {
		case errors.Is(err, idempotency.ErrReused):
			s.writeError(w, r, apperr.Validation("this Idempotency-Key was used for a different request",
				[]apperr.FieldError{{Field: headerIdempotencyKey, Message: "reused with a different request"}}))
			return
		case err != nil && !errors.Is(err, errNotStored):
			s.writeError(w, r, err)
			return
		}
		if !out.Replayed {
			buf.sendTo(w)
			return
		}
		for k, v := range out.Response.Header {
			w.Header().Set(k, v)
		}
		w.Header().Set(headerReplayed, "true")
		w.WriteHeader(out.Response.Status)
		_, _ = w.Write(out.Response.Body)
	})
}

// storable reports whether a response says the request began executing:
// it reached the use case, which answered. The HTTP layer's own refusals
// (a malformed request or id, a body too large or of the wrong type, a
// missing API key) happen before it, and a 5xx is a failure a retry may
// not repeat: neither is stored, nor holds the key.
func storable(status int) bool {
	switch status {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusMethodNotAllowed,
		http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		return false
	}
	return status < http.StatusInternalServerError
}

// scopedIdempotencyKey is the key as stored: with API keys configured,
// prefixed by the scope of the API key that sent it, so that two clients
// choosing the same Idempotency-Key neither replay each other's responses
// nor hold each other's keys. Without API keys it is the key itself.
func scopedIdempotencyKey(r *http.Request, key string) string {
	if scope := requestScope(r); scope != "" {
		return scope + ":" + key
	}
	return key
}

// fingerprint identifies what a request asks for.
func fingerprint(r *http.Request, body []byte) string {
	h := sha256.New()
	for _, part := range []string{r.Method, r.URL.Path, r.Header.Get("If-Match"), strconv.Itoa(len(body))} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// bufferedResponse keeps a response until the unit that produced it
// ended; all of it is sent then, and the part a replay needs (the headers
// in replayedHeaders) is stored.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(status int) {
	if !b.wrote {
		b.status, b.wrote = status, true
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	b.wrote = true
	return b.body.Write(p)
}

// sendTo writes the whole response to w.
func (b *bufferedResponse) sendTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}

func (b *bufferedResponse) stored() ports.StoredResponse {
	h := map[string]string{}
	for _, k := range replayedHeaders {
		if v := b.header.Get(k); v != "" {
			h[k] = v
		}
	}
	return ports.StoredResponse{Status: b.status, Header: h, Body: bytes.Clone(b.body.Bytes())}
}
