package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/orderflow/orderflow/app/meta"
)

// Headers carrying the ids of a request; both are echoed in every response.
const (
	headerCorrelationID = "X-Correlation-ID"
	headerRequestID     = "X-Request-ID"
)

// correlate puts the request's correlation id (X-Correlation-ID, or a new
// UUIDv7) and its request id (X-Request-ID, or a new UUIDv7) in the context,
// the request id as the causation id of whatever the request causes. An id
// the client sends that is not plausible (see validID) is replaced, so junk
// never reaches logs or stored event metadata.
func correlate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		correlationID := idFromHeader(r, headerCorrelationID)
		requestID := idFromHeader(r, headerRequestID)
		w.Header().Set(headerCorrelationID, correlationID)
		w.Header().Set(headerRequestID, requestID)
		ctx := meta.WithCausationID(meta.WithCorrelationID(r.Context(), correlationID), requestID)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func idFromHeader(r *http.Request, name string) string {
	if v := r.Header.Get(name); validID(v) {
		return v
	}
	return newID()
}

// validID is meta.ValidID.
func validID(s string) bool { return meta.ValidID(s) }

func newID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

type ctxKey int

const routeKey ctxKey = iota

// matchedRoute is filled in by recordRoute once the router has matched, so
// that logRequests, outside the router, can log the path template. ctx is
// the request's context there, inside every middleware: what the request
// metrics take their exemplar's trace from.
type matchedRoute struct {
	template string
	ctx      context.Context
}

// RequestMetrics records one HTTP request: its method, route (the path
// template, or "unmatched"), status and duration; ctx may carry the
// request's trace (prommetrics.HTTPRequests).
type RequestMetrics interface {
	ObserveRequest(ctx context.Context, method, route string, status int, elapsed time.Duration)
}

func recordRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mr, ok := r.Context().Value(routeKey).(*matchedRoute); ok {
			mr.ctx = r.Context()
			if t, err := mux.CurrentRoute(r).GetPathTemplate(); err == nil {
				mr.template = t
				nameSpan(r, t)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// quietRoutes are polled by machines; their requests are logged at debug level.
var quietRoutes = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// logRequests logs one line per request, even one that panics: method, path
// template ("unmatched" for a 404 or 405 of the router), status, duration and
// the ids; and records the same in Config.Requests.
func (s *server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		route := &matchedRoute{}
		defer func() {
			path := route.template
			if path == "" {
				path = "unmatched"
			}
			if s.requests != nil {
				ctx := route.ctx
				if ctx == nil {
					ctx = r.Context()
				}
				s.requests.ObserveRequest(ctx, r.Method, path, rec.statusCode(), time.Since(start))
			}
			level := slog.LevelInfo
			if quietRoutes[path] {
				level = slog.LevelDebug
			}
			s.logger.LogAttrs(r.Context(), level, "http request",
				slog.String("method", r.Method),
				slog.String("path", path),
				slog.Int("status", rec.statusCode()),
				slog.Duration("duration", time.Since(start)),
				slog.Int64("bytes", rec.bytes),
				slog.String("correlation_id", meta.CorrelationID(r.Context())),
				slog.String("request_id", meta.CausationID(r.Context())),
			)
		}()
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), routeKey, route)))
	})
}

// recoverPanics answers a panic with a 500 problem and logs the panic value
// and stack with the correlation id. If the response had already started, it
// aborts the connection instead so the client sees a broken response rather
// than a truncated one that looks whole.
func (s *server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			err := fmt.Errorf("panic: %v\n%s", v, debug.Stack())
			if rec, ok := w.(*statusRecorder); ok && rec.status != 0 {
				s.logger.ErrorContext(r.Context(), "panic after the response started",
					"correlation_id", meta.CorrelationID(r.Context()), "error", err)
				panic(http.ErrAbortHandler)
			}
			s.writeError(w, r, err)
		}()
		next.ServeHTTP(w, r)
	})
}

// statusRecorder remembers the status and size of a response.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusRecorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusRecorder) statusCode() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
