package httpapi

import (
	"fmt"
	"net/http"

	"github.com/google/uuid"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/domain/order"
)

// The write side: POST endpoints that run one command each. A request
// refused by the HTTP layer (body, headers, id) never reaches the command.

type placeOrderRequest struct {
	CustomerID      string         `json:"customer_id"`
	Currency        string         `json:"currency"`
	Items           []itemRequest  `json:"items"`
	ShippingAddress addressRequest `json:"shipping_address"`
	PaymentMethod   string         `json:"payment_method"`
}

type itemRequest struct {
	SKU       string `json:"sku"`
	Quantity  int64  `json:"quantity"`
	UnitPrice int64  `json:"unit_price"`
}

type addressRequest struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
}

type cancelRequest struct {
	Reason string `json:"reason"`
}

type shipRequest struct {
	Carrier        string `json:"carrier"`
	TrackingNumber string `json:"tracking_number"`
}

// emptyRequest is the body of confirm and deliver: none, or {}.
type emptyRequest struct{}

// placeOrder answers 201 with Location and ETag. The order id is generated
// here (UUIDv7): the client learns it from the response. A request with an
// Idempotency-Key needs no id derived from its key: its order and its key's
// record commit in one transaction (app/idempotency), so a retry either
// replays the stored response or, when nothing was stored, places the order
// anew; and a key reused after its TTL places a new order.
func (s *server) placeOrder(w http.ResponseWriter, r *http.Request) error {
	var req placeOrderRequest
	if err := decodeBody(w, r, &req, true); err != nil {
		return err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("generate order id: %w", err)
	}
	items := make([]order.Item, len(req.Items))
	for i, it := range req.Items {
		items[i] = order.Item{SKU: it.SKU, Quantity: it.Quantity, UnitPrice: it.UnitPrice}
	}
	a := req.ShippingAddress
	res, err := s.app.Commands.PlaceOrder.Handle(r.Context(), command.PlaceOrder{PlaceParams: order.PlaceParams{
		OrderID:    id.String(),
		CustomerID: req.CustomerID,
		Currency:   req.Currency,
		Items:      items,
		ShippingAddress: order.Address{
			Name: a.Name, Line1: a.Line1, Line2: a.Line2, City: a.City, PostalCode: a.PostalCode, Country: a.Country,
		},
		PaymentMethod: req.PaymentMethod,
	}})
	if err != nil {
		return err
	}
	body := resultOf(res)
	body.Total = &money{Amount: res.Total, Currency: res.Currency}
	w.Header().Set("Location", "/v1/orders/"+res.OrderID)
	w.Header().Set("ETag", etag(res.Version))
	return writeJSON(w, http.StatusCreated, body)
}

// confirmOrder always refuses (409): checkout confirms an order once its
// stock is reserved and its payment authorized. The request is still
// checked, so a malformed one is told so first.
func (s *server) confirmOrder(w http.ResponseWriter, r *http.Request) error {
	return s.transition(w, r, &emptyRequest{}, false, func(id string, _ int64) (command.Result, error) {
		return command.Result{}, apperr.New(apperr.Conflict,
			"orders are confirmed by checkout, once stock is reserved and payment authorized; "+
				"follow it at GET /v1/orders/%s/checkout", id)
	})
}

func (s *server) cancelOrder(w http.ResponseWriter, r *http.Request) error {
	var req cancelRequest
	return s.transition(w, r, &req, true, func(id string, version int64) (command.Result, error) {
		return s.app.Commands.CancelOrder.Handle(r.Context(), command.CancelOrder{OrderID: id, Reason: req.Reason, IfMatch: version})
	})
}

func (s *server) shipOrder(w http.ResponseWriter, r *http.Request) error {
	var req shipRequest
	return s.transition(w, r, &req, true, func(id string, version int64) (command.Result, error) {
		return s.app.Commands.ShipOrder.Handle(r.Context(), command.ShipOrder{
			OrderID: id, Carrier: req.Carrier, TrackingNumber: req.TrackingNumber, IfMatch: version,
		})
	})
}

func (s *server) deliverOrder(w http.ResponseWriter, r *http.Request) error {
	return s.transition(w, r, &emptyRequest{}, false, func(id string, version int64) (command.Result, error) {
		return s.app.Commands.DeliverOrder.Handle(r.Context(), command.DeliverOrder{OrderID: id, IfMatch: version})
	})
}

// transition reads the order id, If-Match and the body into req, then runs
// the command and answers 200 with the order's new status, version and ETag.
// If-Match is checked by the command against the stored version (412 on a
// mismatch), so it holds even when two requests race.
func (s *server) transition(w http.ResponseWriter, r *http.Request, req any, bodyRequired bool,
	run func(orderID string, ifMatch int64) (command.Result, error)) error {
	id, err := orderIDVar(r)
	if err != nil {
		return err
	}
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	if err := decodeBody(w, r, req, bodyRequired); err != nil {
		return err
	}
	res, err := run(id, version)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(res.Version))
	return writeJSON(w, http.StatusOK, resultOf(res))
}
