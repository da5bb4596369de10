package ports

import (
	"context"
	"github.com/orderflow/orderflow/app/apperr"
)

// Errors of a PaymentGateway, matched with errors.Is. Both are Conflict (a
// state the request cannot apply to), not NotFound: an authorization the
// provider has not recorded yet may exist on a later attempt, so a message
// handler retries them instead of parking the message.
var (
	// ErrUnknownAuthorization: the provider has no authorization with that id.
	ErrUnknownAuthorization = apperr.New(apperr.Conflict, "unknown authorization")
	// ErrAuthorizationState: the authorization cannot be captured or voided
	// in its state (e.g. capture after void).
	ErrAuthorizationState = apperr.New(apperr.Conflict, "authorization state does not allow this")
)

// AuthorizeRequest asks the provider to hold Amount on a payment method.
type AuthorizeRequest struct {
	// IdempotencyKey makes retries safe: the same key always yields the same
	// authorization (the saga uses "<checkout id>:authorize").
	IdempotencyKey string
	Token          string // the payment method, e.g. "tok_visa"
	Amount         int64  // minor units
	Currency       string
}

// Authorization is the provider's answer: approved with an id, or declined
// with a decline code.
type Authorization struct {
	ID          string
	Approved    bool
	DeclineCode string
}

// PaymentGateway is the external payment provider.
//
// Authorize is idempotent by key: a repeated request returns the first
// request's outcome, waiting for it if it is still being processed. When ctx
// ends first, Authorize returns ctx's error but the provider may still
// complete the authorization: the caller repeats the request with the same
// key to learn the outcome (and void it if no longer wanted).
//
// Capture and Void are idempotent by their own key and by state (capturing
// a captured authorization succeeds); an unknown id is
// ErrUnknownAuthorization, a forbidden transition ErrAuthorizationState.
type PaymentGateway interface {
	Authorize(ctx context.Context, req AuthorizeRequest) (Authorization, error)
	Capture(ctx context.Context, idempotencyKey, authorizationID string) error
	Void(ctx context.Context, idempotencyKey, authorizationID string) error
}
