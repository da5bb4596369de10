// Package httpapi is the inbound HTTP adapter: a JSON API over the
// application's commands and queries, described by the OpenAPI document
// served at /openapi.yaml. Every error is an RFC 9457 problem
// (application/problem+json) whose type is urn:orderflow:problem:<code>.
package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/orderflow/orderflow/app"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/idempotency"
	"github.com/orderflow/orderflow/internal/apikeys"
)

// Config configures the HTTP handler.
type Config struct {
	// Ready reports whether the service can take traffic; /readyz answers
	// 503 with the error's message when it fails. Nil: always ready.
	Ready func(ctx context.Context) error
	// Store and Broker name the event store and the broker in /readyz's
	// answer (e.g. "postgres", "kafka"). Optional.
	Store, Broker string
	// Tracing puts every request in a server span (otelhttp) on the global
	// tracer provider, and its traceparent in the response.
	Tracing bool
	// Metrics is served at /metrics. Nil: /metrics is 404.
	Metrics http.Handler
	// Requests records every request's duration, route and status (nil:
	// none are).
	Requests RequestMetrics
	// Logger receives one line per request and every 5xx cause. Default slog.Default().
	Logger *slog.Logger
	// ReadWait is how long GET /v1/orders/{id}?min_version=N waits for the
	// read model to reach version N before answering with what it has
	// (Orderflow-Stale: true). Default 2s; the query caps it at query.MaxWait.
	ReadWait time.Duration
	// OpsOnly serves only the operational endpoints (/healthz, /readyz,
	// /metrics, /openapi.*): for a process that runs no API role but must
	// still be probed and scraped. /v1/... is then 404.
	OpsOnly bool
	// Idempotency runs POSTs made with an Idempotency-Key at most once per
	// key (idempotency.go). Nil: the header is ignored.
	Idempotency *idempotency.Guard
	// Admin serves /v1/admin/poison: list, show and delete need its poison
	// queue use cases, requeue its RequeuePoisoned. A nil one answers 503.
	Admin app.Admin
	// APIKeys, when not empty, are required on writes and admin endpoints
	// (auth.go); KeyReads requires them on reads too.
	APIKeys  []string
	KeyReads bool
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.ReadWait <= 0 {
		c.ReadWait = 2 * time.Second
	}
}

// readyTimeout bounds one readiness check.
const readyTimeout = 5 * time.Second

// server holds what the endpoints need.
type server struct {
	app         app.Application
	ready       func(ctx context.Context) error
	metrics     http.Handler
	requests    RequestMetrics
	logger      *slog.Logger
	readWait    time.Duration
	opsOnly     bool
	idempotency *idempotency.Guard
	admin       app.Admin
	apiKeys     apikeys.Set
	keyReads    bool
	store       string
	broker      string
}

// handler is the http.Handler NewHandler returns: the router inside the
// middleware that applies to every request, matched or not.
type handler struct {
	http.Handler
	router *mux.Router
}

// NewHandler returns the HTTP API. Every request gets a correlation id and a
// request id (from X-Correlation-ID and X-Request-ID, or generated; echoed in
// the response and carried to the use cases through app/meta), one log line,
// and a 500 problem if it panics.
func NewHandler(application app.Application, cfg Config) http.Handler {
	cfg.setDefaults()
	s := &server{app: application, ready: cfg.Ready, metrics: cfg.Metrics, requests: cfg.Requests, logger: cfg.Logger, readWait: cfg.ReadWait,
		opsOnly:     cfg.OpsOnly,
		idempotency: cfg.Idempotency,
		admin:       cfg.Admin,
		apiKeys:     apikeys.New(cfg.APIKeys), keyReads: cfg.KeyReads,
		store: cfg.Store, broker: cfg.Broker}
	router := s.routes()
	h := correlate(s.logRequests(s.recoverPanics(s.authenticate(withoutBody(router)))))
	if cfg.Tracing {
		h = traced(h)
	}
	return handler{Handler: h, router: router}
}

// routes registers every endpoint; openapi.yaml describes exactly these
// (a test walks both). Every GET answers HEAD too (RFC 9110 section 9.3.2):
// the same status and headers, without the body (see withoutBody).
func (s *server) routes() *mux.Router {
	r := mux.NewRouter()
	r.NotFoundHandler = s.api(func(http.ResponseWriter, *http.Request) error {
		return errNoRoute
	})
	r.MethodNotAllowedHandler = s.api(func(w http.ResponseWriter, req *http.Request) error {
		w.Header().Set("Allow", allowedMethods(r, req))
		return newHTTPError(codeMethodNotAllowed, "this resource does not support "+req.Method)
	})
	r.Use(recordRoute)
	if s.opsOnly {
		r.Use(s.onlyOps)
	}
	r.Use(s.idempotent)

	r.Handle("/v1/orders", s.api(s.placeOrder)).Methods(http.MethodPost)
	r.Handle("/v1/orders", s.api(s.listOrders)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/v1/orders/{id}", s.api(s.getOrder)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/v1/orders/{id}/confirm", s.api(s.confirmOrder)).Methods(http.MethodPost)
	r.Handle("/v1/orders/{id}/cancel", s.api(s.cancelOrder)).Methods(http.MethodPost)
	r.Handle("/v1/orders/{id}/ship", s.api(s.shipOrder)).Methods(http.MethodPost)
	r.Handle("/v1/orders/{id}/deliver", s.api(s.deliverOrder)).Methods(http.MethodPost)
	r.Handle("/v1/orders/{id}/events", s.api(s.orderEvents)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/v1/orders/{id}/history", s.api(s.orderHistory)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/v1/orders/{id}/checkout", s.api(s.getCheckout)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/v1/orders/{id}/notifications", s.api(s.listNotifications)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/v1/inventory/{sku}", s.api(s.putStock)).Methods(http.MethodPut)
	r.Handle("/v1/inventory/{sku}", s.api(s.getStock)).Methods(http.MethodGet, http.MethodHead)

	r.Handle("/v1/admin/poison", s.api(s.listPoison)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/v1/admin/poison/{id}", s.api(s.getPoison)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/v1/admin/poison/{id}", s.api(s.deletePoison)).Methods(http.MethodDelete)
	r.Handle("/v1/admin/poison/{id}/requeue", s.api(s.requeuePoison)).Methods(http.MethodPost)
	r.Handle("/v1/admin/checkouts", s.api(s.listCheckouts)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/v1/admin/checkouts/{id}/resume", s.api(s.resumeCheckout)).Methods(http.MethodPost)

	r.Handle("/healthz", s.api(s.healthz)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/readyz", s.api(s.readyz)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/metrics", s.api(s.serveMetrics)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/openapi.yaml", s.api(serveOpenAPIYAML)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/openapi.json", s.api(serveOpenAPIJSON)).Methods(http.MethodGet, http.MethodHead)
	s.docsRoutes(r)
	return r
}

// apiFunc is an endpoint: it writes a success response itself and returns
// any error for api to answer as a problem.
type apiFunc func(w http.ResponseWriter, r *http.Request) error

func (s *server) api(f apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

var errNoRoute = newHTTPError(code(apperr.NotFound), "no such resource; see /openapi.yaml for the API")

// allowedMethods lists the methods the request's path supports, for the
// Allow header of a 405.
func allowedMethods(router *mux.Router, r *http.Request) string {
	allow := ""
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.WithContext(r.Context())
		probe.Method = m
		var match mux.RouteMatch
		if router.Match(probe, &match) && match.MatchErr == nil {
			if allow != "" {
				allow += ", "
			}
			allow += m
		}
	}
	return allow
}

// writeJSON answers v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	writeBody(w, status, "application/json", append(body, '\n'))
	return nil
}

// writeBody answers body with its Content-Type and Content-Length: the
// length is set here, not left to net/http, so that HEAD, whose body
// withoutBody drops, says the same length as GET.
func writeBody(w http.ResponseWriter, status int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// withoutBody runs a HEAD request as its GET (the routes accept both) and
// drops whatever body the endpoint writes.
func withoutBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w = headWriter{w}
		}
		next.ServeHTTP(w, r)
	})
}

type headWriter struct{ http.ResponseWriter }

func (headWriter) Write(p []byte) (int, error) { return len(p), nil }

// Unwrap lets http.ResponseController reach the underlying writer.
func (w headWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
