package paymentsandbox_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/orderflow/orderflow/adapters/paymentsandbox"
	"github.com/orderflow/orderflow/ports"
	"github.com/orderflow/orderflow/ports/porttest"
)

func TestGatewayContract(t *testing.T) {
	porttest.RunPaymentGateway(t, func(t *testing.T) ports.PaymentGateway {
		return paymentsandbox.New(paymentsandbox.Config{Latency: time.Millisecond})
	}, porttest.PaymentTokens{Approve: paymentsandbox.TokenApprove, Decline: paymentsandbox.TokenDecline})
}

// tok_timeout answers after the caller gave up; the same key then returns
// the late authorization, which can be voided.
func TestTimeoutTokenAuthorizesLate(t *testing.T) {
	g := paymentsandbox.New(paymentsandbox.Config{LateAfter: 300 * time.Millisecond})
	req := ports.AuthorizeRequest{IdempotencyKey: "k1", Token: paymentsandbox.TokenTimeout, Amount: 1, Currency: "EUR"}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := g.Authorize(ctx, req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("first answer: %v, want the caller's deadline", err)
	}
	late, err := g.Authorize(t.Context(), req)
	if err != nil || !late.Approved || late.ID == "" {
		t.Fatalf("replay: %+v, %v; want the late approval", late, err)
	}
	if err := g.Void(t.Context(), "v1", late.ID); err != nil {
		t.Fatal(err)
	}
}

func TestUnknownTokenDeclines(t *testing.T) {
	g := paymentsandbox.New(paymentsandbox.Config{})
	a, err := g.Authorize(t.Context(), ports.AuthorizeRequest{IdempotencyKey: "k", Token: "tok_nope"})
	if err != nil || a.Approved || a.DeclineCode != "invalid_payment_method" {
		t.Fatalf("%+v, %v", a, err)
	}
}
