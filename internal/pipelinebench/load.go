package pipelinebench

import (
	"context"
	"fmt"

	"github.com/orderflow/orderflow/internal/loadtest"
)

const (
	unitPrice     = 1250
	paymentMethod = "tok_visa" // the sandbox approves it
)

// address is the shipping address of every order: the one the loadtest's
// HTTP target sends, for the ceiling's events to match what POST stores.
var address = struct{ Name, Line1, City, PostalCode, Country string }{"Ada Lovelace", "12 Analytical St", "London", "N1 9GU", "GB"}

func skuName(i int) string { return fmt.Sprintf("SKU-BENCH-%05d", i) }

// place POSTs one order of one unit of sku through t (the service's HTTP
// API) and returns its id.
func place(ctx context.Context, t loadtest.Target, n int, sku string) (string, error) {
	return t.Place(ctx, loadtest.Placement{CustomerID: fmt.Sprintf("bench-%d", n%997), SKUs: []string{sku},
		UnitPrice: unitPrice, Token: paymentMethod})
}
