package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/ports"
)

// Idempotency headers.
const (
	headerIdempotencyKey = "Idempotency-Key"
	// headerReplayed marks a response replayed from the idempotency store.
	headerReplayed = "Idempotent-Replayed"
)

// idempotencyLock is how long a request holds its key against concurrent
// retries; a process that dies mid-request frees its keys after it.
const idempotencyLock = time.Minute

// replayedHeaders are the response headers kept with an idempotent response.
var replayedHeaders = []string{"Content-Type", "Location", "ETag"}

// idempotent makes POST requests that carry an Idempotency-Key safe to
// retry: the first request's response is stored with a fingerprint of the
// request (method, path, If-Match and body); a later request with the same
// key and the same fingerprint gets that response again (with
// Idempotent-Replayed: true) and runs nothing; a request whose key is still
// in flight is 409; a different fingerprint is 422. 5xx responses are not
// kept: the key is released so the client can retry. Requests without the
// header, and other methods, pass through.
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
		r.Body = io.NopCloser(bytes.NewReader(body))
		fp := fingerprint(r, body)
		key = scopedIdempotencyKey(r, key)
		rec, reserved, err := s.idempotency.Reserve(r.Context(), key, fp, idempotencyLock, s.idempotencyTTL)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if !reserved {
			s.answerKnownKey(w, r, rec, fp)
			return
		}
		rec2 := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec2, r)
		// The client may be gone; the bookkeeping must still happen.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
		defer cancel()
		if rec2.status >= http.StatusInternalServerError {
			err = s.idempotency.Release(ctx, key)
		} else {
			err = s.idempotency.Complete(ctx, key, rec2.stored())
		}
		if err != nil {
			s.logger.ErrorContext(ctx, "idempotency key not stored", "key", key, "error", err)
		}
	})
}

// scopedIdempotencyKey is the key as stored: with API keys configured,
// prefixed by the scope of the API key that sent it, so that two clients
// choosing the same Idempotency-Key neither replay each other's responses
// nor collide on the order id derived from it. Without API keys it is the
// key itself.
func scopedIdempotencyKey(r *http.Request, key string) string {
	if scope := requestScope(r); scope != "" {
		return scope + ":" + key
	}
	return key
}

func (s *server) answerKnownKey(w http.ResponseWriter, r *http.Request, rec ports.IdempotencyRecord, fp string) {
	switch {
	case rec.Response == nil:
		s.writeError(w, r, apperr.New(apperr.Conflict, "a request with this Idempotency-Key is still in progress; retry later"))
	case rec.Fingerprint != fp:
		s.writeError(w, r, apperr.Validation("this Idempotency-Key was used for a different request",
			[]apperr.FieldError{{Field: headerIdempotencyKey, Message: "reused with a different request"}}))
	default:
		for k, v := range rec.Response.Header {
			w.Header().Set(k, v)
		}
		w.Header().Set(headerReplayed, "true")
		w.WriteHeader(rec.Response.Status)
		_, _ = w.Write(rec.Response.Body)
	}
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

// recorder passes a response through and keeps a copy.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
	wrote  bool
}

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

func (r *recorder) stored() ports.StoredResponse {
	h := map[string]string{}
	for _, k := range replayedHeaders {
		if v := r.Header().Get(k); v != "" {
			h[k] = v
		}
	}
	return ports.StoredResponse{Status: r.status, Header: h, Body: r.body.Bytes()}
}
