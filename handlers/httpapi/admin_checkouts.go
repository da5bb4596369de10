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

var errNoCheckoutAdmin = apperr.New(apperr.Unavailable, "checkout administration is not configured")

func (s *server) listCheckouts(w http.ResponseWriter, r *http.Request) error {
	if s.admin.ListCheckouts == nil {
		return errNoCheckoutAdmin
	}
	after, limit, err := pageQuery(r, query.MaxCheckoutPage, "state")
	if err != nil {
		return err
	}
	state := r.URL.Query().Get("state")
	if state == "" {
		state = "parked"
	}
	list, err := s.admin.ListCheckouts.Handle(r.Context(), query.ListCheckouts{State: state, After: after, Limit: limit})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, adminPageOf(list, checkoutOf))
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
