package loadtest

import (
	"context"
	"errors"
	"fmt"
)

// Target is the service under test, as the loadtest drives it: the calls
// of the public API a client makes. HTTP is one transport (NewHTTPTarget);
// another, such as gRPC, implements the same methods and the schedule, mix,
// confirmation tracking and report apply to it unchanged.
//
// A call the service answers with anything but success returns a
// *StatusError; a call that got no answer returns another error.
type Target interface {
	// SetStock sets a SKU's on-hand stock.
	SetStock(ctx context.Context, sku string, onHand int) error
	// Place places an order and returns its id.
	Place(ctx context.Context, p Placement) (string, error)
	// Get reads an order, waiting (as long as the service allows) until
	// its read model has at least minVersion.
	Get(ctx context.Context, id string, minVersion int64) (OrderState, error)
	Cancel(ctx context.Context, id, reason string) error
	Ship(ctx context.Context, id, carrier, tracking string) error
	Deliver(ctx context.Context, id string) error
}

// Placement is an order to place: one unit of each SKU at UnitPrice minor
// units, paid with Token.
type Placement struct {
	CustomerID string
	SKUs       []string
	UnitPrice  int64
	Token      string
}

// OrderState is what a read of an order says. Stale is set when the
// service answered before its read model reached the version asked for.
type OrderState struct {
	Status  string
	Version int64
	Stale   bool
}

// StatusError is a call the service refused or failed: Code is the
// transport's status (the HTTP status, "503"; a gRPC code name).
type StatusError struct {
	Op     string
	Code   string
	Detail string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s: status %s: %.200s", e.Op, e.Code, e.Detail)
}

// errorCode is how an error counts in the report: the status code of a
// *StatusError, "canceled" when the run was stopping, "transport"
// otherwise (no answer: refused, reset, timed out).
func errorCode(err error) string {
	var se *StatusError
	switch {
	case errors.As(err, &se):
		return se.Code
	case errors.Is(err, context.Canceled):
		return "canceled"
	default:
		return "transport"
	}
}
