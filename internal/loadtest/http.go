package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// httpTarget is the service's HTTP API (handlers/httpapi/openapi.yaml).
type httpTarget struct {
	base   string
	apiKey string
	client *http.Client
}

var _ Target = (*httpTarget)(nil)

// NewHTTPTarget drives the HTTP API at base (http://127.0.0.1:8080), with
// apiKey as a bearer token when set, over at most conns connections.
func NewHTTPTarget(base, apiKey string, conns int) Target {
	return &httpTarget{base: strings.TrimSuffix(base, "/"), apiKey: apiKey, client: &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, IdleConnTimeout: time.Minute,
			Proxy: nil}, // the target, never a proxy the environment names
	}}
}

// do sends body (nil: none) and decodes a 2xx answer into out (nil: drops
// it); any other answer is a *StatusError.
func (h *httpTarget) do(ctx context.Context, op, method, path string, body, out any) (http.Header, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, h.base+path, r)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if h.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+h.apiKey)
	}
	res, err := h.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode/100 != 2 {
		return nil, &StatusError{Op: op, Code: strconv.Itoa(res.StatusCode), Detail: string(data)}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, fmt.Errorf("%s: answer: %w", op, err)
		}
	}
	return res.Header, nil
}

func (h *httpTarget) SetStock(ctx context.Context, sku string, onHand int) error {
	_, err := h.do(ctx, "stock", http.MethodPut, "/v1/inventory/"+url.PathEscape(sku), map[string]int{"on_hand": onHand}, nil)
	return err
}

type placeItem struct {
	SKU       string `json:"sku"`
	Quantity  int    `json:"quantity"`
	UnitPrice int64  `json:"unit_price"`
}

type address struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
}

type placeRequest struct {
	CustomerID      string      `json:"customer_id"`
	Currency        string      `json:"currency"`
	Items           []placeItem `json:"items"`
	ShippingAddress address     `json:"shipping_address"`
	PaymentMethod   string      `json:"payment_method"`
}

func (h *httpTarget) Place(ctx context.Context, p Placement) (string, error) {
	req := placeRequest{CustomerID: p.CustomerID, Currency: "EUR", PaymentMethod: p.Token,
		ShippingAddress: address{"Ada Lovelace", "12 Analytical St", "London", "N1 9GU", "GB"}}
	for _, sku := range p.SKUs {
		req.Items = append(req.Items, placeItem{SKU: sku, Quantity: 1, UnitPrice: p.UnitPrice})
	}
	var out struct {
		OrderID string `json:"order_id"`
	}
	if _, err := h.do(ctx, "place", http.MethodPost, "/v1/orders", req, &out); err != nil {
		return "", err
	}
	if out.OrderID == "" {
		return "", fmt.Errorf("place: the answer has no order_id")
	}
	return out.OrderID, nil
}

func (h *httpTarget) Get(ctx context.Context, id string, minVersion int64) (OrderState, error) {
	var out struct {
		Status  string `json:"status"`
		Version int64  `json:"version"`
	}
	path := "/v1/orders/" + url.PathEscape(id)
	if minVersion > 0 {
		path += "?min_version=" + strconv.FormatInt(minVersion, 10)
	}
	hdr, err := h.do(ctx, "read", http.MethodGet, path, nil, &out)
	if err != nil {
		return OrderState{}, err
	}
	return OrderState{Status: out.Status, Version: out.Version, Stale: hdr.Get("Orderflow-Stale") == "true"}, nil
}

func (h *httpTarget) Cancel(ctx context.Context, id, reason string) error {
	_, err := h.do(ctx, "cancel", http.MethodPost, "/v1/orders/"+url.PathEscape(id)+"/cancel", map[string]string{"reason": reason}, nil)
	return err
}

func (h *httpTarget) Ship(ctx context.Context, id, carrier, tracking string) error {
	_, err := h.do(ctx, "ship", http.MethodPost, "/v1/orders/"+url.PathEscape(id)+"/ship",
		map[string]string{"carrier": carrier, "tracking_number": tracking}, nil)
	return err
}

func (h *httpTarget) Deliver(ctx context.Context, id string) error {
	_, err := h.do(ctx, "deliver", http.MethodPost, "/v1/orders/"+url.PathEscape(id)+"/deliver", nil, nil)
	return err
}
