package httpapi

import (
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/query"
	"github.com/orderflow/orderflow/ports"
)

// Inventory and checkout endpoints.

type stockRequest struct {
	OnHand *int64 `json:"on_hand"`
}

type stockJSON struct {
	SKU       string `json:"sku"`
	OnHand    int64  `json:"on_hand"`
	Reserved  int64  `json:"reserved"`
	Available int64  `json:"available"`
}

func stockOf(l command.StockLevels) stockJSON {
	return stockJSON{SKU: l.SKU, OnHand: l.OnHand, Reserved: l.Reserved, Available: l.Available}
}

// putStock sets a SKU's on-hand stock: 200 with the levels after it.
func (s *server) putStock(w http.ResponseWriter, r *http.Request) error {
	var req stockRequest
	if err := decodeBody(w, r, &req, true); err != nil {
		return err
	}
	if req.OnHand == nil {
		return apperr.Validation("invalid stock", []apperr.FieldError{{Field: "on_hand", Message: "is required"}})
	}
	levels, err := s.app.Commands.SetStock.Handle(r.Context(), command.SetStock{SKU: mux.Vars(r)["sku"], OnHand: *req.OnHand})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, stockOf(levels))
}

// getStock answers a SKU's levels (all zero for a SKU never stocked).
func (s *server) getStock(w http.ResponseWriter, r *http.Request) error {
	levels, err := s.app.Queries.GetStock.Handle(r.Context(), query.GetStock{SKU: mux.Vars(r)["sku"]})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, stockOf(levels))
}

type stepJSON struct {
	Step   string    `json:"step"`
	Status string    `json:"status"`
	At     time.Time `json:"at"`
	Detail string    `json:"detail,omitempty"`
}

type checkoutJSON struct {
	OrderID       string     `json:"order_id"`
	State         string     `json:"state"`
	Reason        string     `json:"reason,omitempty"`
	Steps         []stepJSON `json:"steps"`
	Compensations []stepJSON `json:"compensations"`
	StartedAt     time.Time  `json:"started_at"`
	DeadlineAt    time.Time  `json:"deadline_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	// ResumeState is, on a parked checkout, the state resuming it restores.
	ResumeState string `json:"resume_state,omitempty"`
}

func stepsOf(steps []ports.CheckoutStep) []stepJSON {
	out := make([]stepJSON, len(steps))
	for i, st := range steps {
		out[i] = stepJSON{Step: st.Step, Status: st.Status, At: st.At.UTC(), Detail: st.Detail}
	}
	return out
}

func checkoutOf(c ports.Checkout) checkoutJSON {
	return checkoutJSON{OrderID: c.OrderID, State: c.State, Reason: c.Reason, Steps: stepsOf(c.Steps),
		Compensations: stepsOf(c.Compensations), StartedAt: c.StartedAt.UTC(), DeadlineAt: c.DeadlineAt.UTC(),
		UpdatedAt: c.UpdatedAt.UTC(), ResumeState: c.ResumeState}
}

// getCheckout answers the order's checkout: 404 until it has started.
func (s *server) getCheckout(w http.ResponseWriter, r *http.Request) error {
	id, err := orderIDVar(r)
	if err != nil {
		return err
	}
	c, err := s.app.Queries.GetCheckout.Handle(r.Context(), query.GetCheckout{OrderID: id})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, checkoutOf(c))
}

type notificationJSON struct {
	ID     string    `json:"id"`
	Kind   string    `json:"kind"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

// listNotifications answers the order's notifications, oldest first.
func (s *server) listNotifications(w http.ResponseWriter, r *http.Request) error {
	id, err := orderIDVar(r)
	if err != nil {
		return err
	}
	if s.app.Queries.ListNotifications == nil {
		return apperr.New(apperr.NotFound, "notifications are not kept by this service")
	}
	ns, err := s.app.Queries.ListNotifications.Handle(r.Context(), query.ListNotifications{OrderID: id})
	if err != nil {
		return err
	}
	out := make([]notificationJSON, len(ns))
	for i, n := range ns {
		out[i] = notificationJSON{ID: n.ID, Kind: n.Kind, Reason: n.Reason, At: n.At.UTC()}
	}
	return writeJSON(w, http.StatusOK, out)
}
