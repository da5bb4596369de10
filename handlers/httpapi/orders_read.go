package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/query"
)

// The read side: GET endpoints over the queries. Query parameters that do
// not parse, or are given more than once, are 422 naming the parameter, like
// any other invalid input; unknown query parameters are ignored.

// getOrder answers the read model's view with its ETag; 304 when
// If-None-Match holds that ETag. With ?min_version=N it waits up to ReadWait
// for the read model to reach version N and, if it does not, answers what it
// has with Orderflow-Stale: true (the ETag then names the older version).
func (s *server) getOrder(w http.ResponseWriter, r *http.Request) error {
	id, err := orderIDVar(r)
	if err != nil {
		return err
	}
	var fields []apperr.FieldError
	singleValued(r.URL.Query(), &fields, "min_version")
	minVersion := queryInt(r.URL.Query(), "min_version", 0, &fields)
	if err := apperr.Validation("invalid query parameters", fields); err != nil {
		return err
	}
	q := query.GetOrder{OrderID: id, MinVersion: minVersion, SeenVersion: seenVersion(r)}
	if minVersion > 0 {
		q.Wait = s.readWait
	}
	view, err := s.app.Queries.GetOrder.Handle(r.Context(), q)
	if err != nil {
		return err
	}
	tag := etag(view.Version)
	w.Header().Set("ETag", tag)
	if view.Stale {
		w.Header().Set("Orderflow-Stale", "true")
	}
	if noneMatch(r, tag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	body := orderOf(view.OrderSummary)
	if body.Checkout, err = s.checkoutBrief(r, id); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, body)
}

// checkoutBrief is the order's checkout state and reason while it runs or
// after it failed; nil once it confirmed the order, or before it started.
func (s *server) checkoutBrief(r *http.Request, orderID string) (*checkoutBrief, error) {
	if s.app.Queries.GetCheckout == nil {
		return nil, nil
	}
	c, err := query.CheckoutOnOrder(s.app.Queries.GetCheckout.Handle(r.Context(), query.GetCheckout{OrderID: orderID}))
	if c == nil || err != nil {
		return nil, err
	}
	return &checkoutBrief{State: c.State, Reason: c.Reason}, nil
}

// seenVersion is the newest version named by If-None-Match: the client holds
// it, so no cache may answer with anything older. Tags this service never
// issues count as nothing.
func seenVersion(r *http.Request) int64 {
	var seen int64
	for _, value := range r.Header.Values("If-None-Match") {
		for part := range strings.SplitSeq(value, ",") {
			part = strings.Trim(strings.TrimPrefix(strings.TrimSpace(part), "W/"), `"`)
			if v, err := strconv.ParseInt(part, 10, 64); err == nil && v > seen {
				seen = v
			}
		}
	}
	return seen
}

// listOrders answers one page, newest first. limit is 1 or more (default
// query.DefaultLimit; anything above query.MaxLimit is capped); next_cursor is
// omitted on the last page.
func (s *server) listOrders(w http.ResponseWriter, r *http.Request) error {
	params := r.URL.Query()
	var fields []apperr.FieldError
	singleValued(params, &fields, "customer_id", "status", "limit", "cursor")
	limit := queryInt(params, "limit", 1, &fields)
	if err := apperr.Validation("invalid query parameters", fields); err != nil {
		return err
	}
	page, err := s.app.Queries.ListOrders.Handle(r.Context(), query.ListOrders{
		CustomerID: params.Get("customer_id"),
		Status:     params.Get("status"),
		Limit:      int(min(limit, int64(query.MaxLimit))),
		Cursor:     params.Get("cursor"),
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pageOf(page))
}

// orderEvents answers every stored event of the order, oldest first.
func (s *server) orderEvents(w http.ResponseWriter, r *http.Request) error {
	id, err := orderIDVar(r)
	if err != nil {
		return err
	}
	events, err := s.app.Queries.OrderEvents.Handle(r.Context(), query.OrderEvents{OrderID: id})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, eventsOf(events))
}

// orderHistory answers the order as it was at ?version=N or ?at=<RFC 3339>;
// the query insists on exactly one of them.
func (s *server) orderHistory(w http.ResponseWriter, r *http.Request) error {
	id, err := orderIDVar(r)
	if err != nil {
		return err
	}
	params := r.URL.Query()
	var fields []apperr.FieldError
	singleValued(params, &fields, "version", "at")
	version := queryInt(params, "version", 1, &fields)
	var at *time.Time
	if raw := params.Get("at"); raw != "" {
		if t, err := time.Parse(time.RFC3339, raw); err != nil {
			fields = append(fields, apperr.FieldError{Field: "at", Message: "must be an RFC 3339 date-time such as 2025-01-02T15:04:05Z"})
		} else {
			at = &t
		}
	}
	if err := apperr.Validation("invalid query parameters", fields); err != nil {
		return err
	}
	summary, err := s.app.Queries.OrderHistory.Handle(r.Context(), query.OrderHistory{OrderID: id, Version: version, At: at})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, orderOf(summary))
}
