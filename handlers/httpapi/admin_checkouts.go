package httpapi

import (
	"net/http"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/query"
)

// The checkouts' admin endpoints: list the checkouts in a state (the
// parked ones) and resume a parked one, through the admin use cases
// (app.Admin), as `orderflow checkouts` does.

type checkoutPage struct {
	Items     []checkoutJSON `json:"items"`
	NextAfter string         `json:"next_after,omitempty"`
}

var errNoCheckoutAdmin = apperr.New(apperr.Unavailable, "checkout administration is not configured")

func (s *server) listCheckouts(w http.ResponseWriter, r *http.Request) error {
	if s.admin.ListCheckouts == nil {
		return errNoCheckoutAdmin
	}
	var fields []apperr.FieldError
	singleValued(r.URL.Query(), &fields, "state", "after", "limit")
	limit := queryInt(r.URL.Query(), "limit", 1, &fields)
	if err := apperr.Validation("invalid query", fields); err != nil {
		return err
	}
	state := r.URL.Query().Get("state")
	if state == "" {
		state = "parked"
	}
	list, err := s.admin.ListCheckouts.Handle(r.Context(), query.ListCheckouts{State: state,
		After: r.URL.Query().Get("after"), Limit: int(min(limit, query.MaxCheckoutPage))})
	if err != nil {
		return err
	}
	page := checkoutPage{Items: make([]checkoutJSON, len(list.Items)), NextAfter: list.NextAfter}
	for i, c := range list.Items {
		page.Items[i] = checkoutOf(c)
	}
	return writeJSON(w, http.StatusOK, page)
}

// resumeCheckout answers the resumed checkout. The operator in its step log
// is "api", with the scope of the API key that asked when there are keys.
func (s *server) resumeCheckout(w http.ResponseWriter, r *http.Request) error {
	if s.admin.ResumeCheckouts == nil {
		return errNoCheckoutAdmin
	}
	id, err := orderIDVar(r)
	if err != nil {
		return err
	}
	if err := decodeBody(w, r, &emptyRequest{}, false); err != nil {
		return err
	}
	operator := "api"
	if scope := requestScope(r); scope != "" {
		operator += ":" + scope
	}
	res, err := s.admin.ResumeCheckouts.Handle(r.Context(), command.ResumeCheckouts{OrderID: id, Operator: operator})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, checkoutOf(res.Checkouts[0]))
}
