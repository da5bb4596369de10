package pipelinebench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

const (
	unitPrice     = 1250
	paymentMethod = "tok_visa" // the sandbox approves it
)

var address = struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
}{"Ada Lovelace", "12 Analytical St", "London", "N1 9GU", "GB"}

func skuName(i int) string { return fmt.Sprintf("SKU-BENCH-%05d", i) }

// client talks to the service under test over loopback.
type client struct {
	base string
	http *http.Client
}

func newClient(addr string, conns int) *client {
	return &client{base: "http://" + addr, http: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, IdleConnTimeout: time.Minute},
	}}
}

func (c *client) do(ctx context.Context, method, path string, body any, want int, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: status %d: %.200s", method, path, res.StatusCode, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// setStock gives every SKU the orders use onHand units, from a few
// requests at a time.
func (c *client) setStock(ctx context.Context, skus []string, onHand int) error {
	work := make(chan string)
	errs := make(chan error, len(skus))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for sku := range work {
				errs <- c.do(ctx, http.MethodPut, "/v1/inventory/"+sku, map[string]int{"on_hand": onHand}, http.StatusOK, nil)
			}
		})
	}
	for _, sku := range skus {
		work <- sku
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return fmt.Errorf("set stock: %w", err)
		}
	}
	return nil
}

type placeItem struct {
	SKU       string `json:"sku"`
	Quantity  int    `json:"quantity"`
	UnitPrice int    `json:"unit_price"`
}

type placeRequest struct {
	CustomerID      string      `json:"customer_id"`
	Currency        string      `json:"currency"`
	Items           []placeItem `json:"items"`
	ShippingAddress any         `json:"shipping_address"`
	PaymentMethod   string      `json:"payment_method"`
}

// place POSTs one order of one unit of sku and returns its id.
func (c *client) place(ctx context.Context, n int, sku string) (string, error) {
	var out struct {
		OrderID string `json:"order_id"`
	}
	err := c.do(ctx, http.MethodPost, "/v1/orders", placeRequest{
		CustomerID: fmt.Sprintf("bench-%d", n%997), Currency: "EUR",
		Items:           []placeItem{{SKU: sku, Quantity: 1, UnitPrice: unitPrice}},
		ShippingAddress: address, PaymentMethod: paymentMethod,
	}, http.StatusCreated, &out)
	return out.OrderID, err
}
