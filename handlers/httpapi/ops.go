package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/orderflow/orderflow/app/apperr"
)

// The operational endpoints: probes and metrics.

// healthz answers 200 while the process can serve HTTP at all.
func (s *server) healthz(w http.ResponseWriter, _ *http.Request) error {
	return writeJSON(w, http.StatusOK, status{Status: "ok"})
}

// readyz answers 200 when Config.Ready passes, and otherwise a 503 problem
// whose detail is the check's error message (which names what is down).
func (s *server) readyz(w http.ResponseWriter, r *http.Request) error {
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := s.ready(ctx); err != nil {
			msg := strings.ReplaceAll(err.Error(), "\n", "; ") // errors.Join puts one error per line
			return apperr.Wrap(apperr.Unavailable, err, "not ready: %s", msg)
		}
	}
	return writeJSON(w, http.StatusOK, status{Status: "ready", Store: s.store, Broker: s.broker})
}

// serveMetrics serves Config.Metrics, or 404 when there is none.
func (s *server) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	if s.metrics == nil {
		return apperr.New(apperr.NotFound, "metrics are not enabled")
	}
	s.metrics.ServeHTTP(w, r)
	return nil
}

// onlyOps answers 404 for the order API, in a process without the api role.
func (s *server) onlyOps(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/") {
			s.writeError(w, r, newHTTPError(code(apperr.NotFound), "this process runs no api role; send API requests to one that does"))
			return
		}
		next.ServeHTTP(w, r)
	})
}
