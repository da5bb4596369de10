// Package paymentsandbox is a stand-in for the external payment provider,
// behaving like a provider's test mode. It is the only fake in the system,
// because the provider is the only part outside it; it is selected by
// configuration (--payment-gateway sandbox, the default).
//
// Test tokens:
//
//	tok_visa            approved
//	tok_chargeDeclined  declined with decline code "card_declined"
//	tok_timeout         approved, but only after Config.LateAfter: longer
//	                    than the checkout deadline, so the caller gives up
//	                    and must void the late authorization
//	anything else       declined with "invalid_payment_method"
//
// Every answer takes Config.Latency.
//
// Like a real provider, the sandbox is durable and shared: its state lives
// in the service's own database (tables payment_sandbox_authorizations and
// payment_sandbox_operations, created by the migrations), so an
// authorization made before a restart, or by another process on the same
// database, can be captured or voided by any process. NewPostgres and
// NewSQLite choose the database.
//
// The first Authorize of an idempotency key decides the outcome at once and
// stores it with the time the provider answers (now + Latency, or
// LateAfter for tok_timeout); every Authorize with that key, in any
// process, waits until then and returns that outcome, and the authorization
// exists for Capture and Void only from then on. Times are the clocks of the
// processes, which must roughly agree.
package paymentsandbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/ports"
)

// Test tokens.
const (
	TokenApprove = "tok_visa"
	TokenDecline = "tok_chargeDeclined"
	TokenTimeout = "tok_timeout"
)

// DeclineCode is the code of a TokenDecline decline.
const DeclineCode = "card_declined"

// declineInvalid is the decline code of an unknown token.
const declineInvalid = "invalid_payment_method"

// Authorization states, as State reports them.
const (
	StateAuthorized = "authorized"
	StateCaptured   = "captured"
	StateVoided     = "voided"
	// stateDeclined is the stored state of a declined request: it has no
	// authorization id, so State never reports it.
	stateDeclined = "declined"
)

// ErrIdempotencyKeyReused: an idempotency key already used for another
// request (another token, amount or currency; another operation or
// authorization). Real providers reject such a request; it never succeeds.
var ErrIdempotencyKeyReused = errors.New("idempotency key reused for a different request")

// Config tunes the sandbox.
type Config struct {
	// Latency is how long every call takes.
	Latency time.Duration
	// LateAfter is how long a TokenTimeout authorization takes. Default 60s.
	LateAfter time.Duration
}

// Gateway is the sandbox provider.
type Gateway struct {
	cfg   Config
	store store
}

var _ ports.PaymentGateway = (*Gateway)(nil)

// store keeps the sandbox's state. Implementation: sqlStore, on Postgres
// or SQLite.
type store interface {
	// authorize stores a unless a row exists under its key, and returns the
	// row stored under the key: a, or the earlier one.
	authorize(ctx context.Context, a authRecord) (authRecord, error)
	// transition, in one transaction: if op.key is set and was used
	// before, returns the operation stored under it; otherwise locks the
	// authorization op.authorizationID if it is ready at op.at
	// (ports.ErrUnknownAuthorization if not), asks decide for its next
	// state and the refusal ("": success), stores both (the outcome under
	// op.key if set), and returns op with the outcome (see withOutcome).
	// A key taken meanwhile for another authorization is
	// ErrIdempotencyKeyReused.
	transition(ctx context.Context, op opRecord, decide func(state string) (next, refusal string)) (opRecord, error)
	// state returns the state of the authorization id if it is ready at
	// now (ports.ErrUnknownAuthorization if not).
	state(ctx context.Context, id string, now time.Time) (string, error)
}

// authRecord is one Authorize idempotency key: the request and its outcome.
type authRecord struct {
	key, token  string
	amount      int64
	currency    string
	id          string // "" when declined
	declineCode string
	readyAt     time.Time
	createdAt   time.Time
}

func (a authRecord) initialState() string {
	if a.id == "" {
		return stateDeclined
	}
	return StateAuthorized
}

// opRecord is one Capture or Void and its outcome.
type opRecord struct {
	key             string // "" when the caller gave none: nothing is stored
	operation       string // opCapture or opVoid
	authorizationID string
	errorCode       string // "" on success, or codeAuthorizationState
	errorMessage    string
	at              time.Time
}

const (
	opCapture = "capture"
	opVoid    = "void"

	codeAuthorizationState = "authorization_state"
)

func newGateway(cfg Config, s store) *Gateway {
	if cfg.LateAfter == 0 {
		cfg.LateAfter = time.Minute
	}
	return &Gateway{cfg: cfg, store: s}
}

// Authorize implements ports.PaymentGateway. The provider processes the
// request on its own time: if ctx ends first, the authorization still
// completes, and a repeated request with the same key, from any process on
// the same database, returns it. The same key with another token, amount
// or currency is ErrIdempotencyKeyReused.
func (g *Gateway) Authorize(ctx context.Context, req ports.AuthorizeRequest) (ports.Authorization, error) {
	if req.IdempotencyKey == "" {
		return ports.Authorization{}, fmt.Errorf("paymentsandbox: idempotency key required")
	}
	now := time.Now()
	a := authRecord{key: req.IdempotencyKey, token: req.Token, amount: req.Amount, currency: req.Currency,
		readyAt: now.Add(g.cfg.Latency), createdAt: now}
	switch req.Token {
	case TokenApprove:
		a.id = "auth_" + uuid.NewString()
	case TokenTimeout:
		a.id, a.readyAt = "auth_"+uuid.NewString(), now.Add(g.cfg.LateAfter)
	case TokenDecline:
		a.declineCode = DeclineCode
	default:
		a.declineCode = declineInvalid
	}
	stored, err := g.store.authorize(ctx, a)
	if err != nil {
		return ports.Authorization{}, err
	}
	if stored.token != a.token || stored.amount != a.amount || stored.currency != a.currency {
		return ports.Authorization{}, fmt.Errorf("paymentsandbox: authorize with key %q: first used for token %q, %d %s; now %q, %d %s: %w",
			a.key, stored.token, stored.amount, stored.currency, a.token, a.amount, a.currency, ErrIdempotencyKeyReused)
	}
	if err := sleepUntil(ctx, stored.readyAt); err != nil {
		return ports.Authorization{}, err
	}
	return ports.Authorization{ID: stored.id, Approved: stored.id != "", DeclineCode: stored.declineCode}, nil
}

// Capture implements ports.PaymentGateway. The key used for another
// operation or authorization is ErrIdempotencyKeyReused.
func (g *Gateway) Capture(ctx context.Context, key, authorizationID string) error {
	return g.transition(ctx, key, authorizationID, opCapture, StateCaptured)
}

// Void implements ports.PaymentGateway. The key used for another operation
// or authorization is ErrIdempotencyKeyReused.
func (g *Gateway) Void(ctx context.Context, key, authorizationID string) error {
	return g.transition(ctx, key, authorizationID, opVoid, StateVoided)
}

// transition moves an authorization to state to. A refusal (its state does
// not allow it) is stored under key like a success, so the key's repeats
// answer the same; an unknown authorization is not, since nothing happened.
func (g *Gateway) transition(ctx context.Context, key, id, operation, to string) error {
	if err := sleepUntil(ctx, time.Now().Add(g.cfg.Latency)); err != nil {
		return err
	}
	op := opRecord{key: key, operation: operation, authorizationID: id, at: time.Now()}
	done, err := g.store.transition(ctx, op, func(state string) (string, string) {
		switch {
		case state == to:
			return state, ""
		case state != StateAuthorized:
			return state, fmt.Sprintf("paymentsandbox: authorization %s is %s, cannot be %s", id, state, to)
		}
		return to, ""
	})
	if err != nil {
		return err
	}
	if done.operation != operation || done.authorizationID != id {
		return fmt.Errorf("paymentsandbox: %s %s with key %q: the key was used to %s %s: %w",
			operation, id, key, done.operation, done.authorizationID, ErrIdempotencyKeyReused)
	}
	switch done.errorCode {
	case "":
		return nil
	case codeAuthorizationState:
		return fmt.Errorf("%s: %w", done.errorMessage, ports.ErrAuthorizationState)
	}
	return fmt.Errorf("paymentsandbox: operation %q has unknown error code %q: %s", key, done.errorCode, done.errorMessage)
}

// withOutcome is op with decide's refusal as its outcome.
func (op opRecord) withOutcome(refusal string) opRecord {
	if refusal != "" {
		op.errorCode, op.errorMessage = codeAuthorizationState, refusal
	}
	return op
}

// State returns the state of an authorization (StateAuthorized,
// StateCaptured or StateVoided), as the provider's dashboard shows it; an
// id the provider does not know (yet) is ports.ErrUnknownAuthorization.
func (g *Gateway) State(ctx context.Context, authorizationID string) (string, error) {
	return g.store.state(ctx, authorizationID, time.Now())
}

// sleepUntil waits until t, or returns ctx's error if it ends first.
func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
