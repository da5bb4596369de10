package porttest

import (
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/ports"
)

// PaymentTokens are a provider's test-mode payment methods.
type PaymentTokens struct {
	Approve string // always approved
	Decline string // always declined
}

// RunPaymentGateway runs the ports.PaymentGateway contract.
func RunPaymentGateway(t *testing.T, newGateway func(t *testing.T) ports.PaymentGateway, tokens PaymentTokens) {
	t.Run("ApproveCaptureIdempotent", func(t *testing.T) { testPaymentApprove(t, newGateway(t), tokens) })
	t.Run("DeclineHasCode", func(t *testing.T) { testPaymentDecline(t, newGateway(t), tokens) })
	t.Run("SameKeySameAuthorization", func(t *testing.T) { testPaymentReplay(t, newGateway(t), tokens) })
	t.Run("UnknownAuthorizationFails", func(t *testing.T) { testPaymentUnknown(t, newGateway(t)) })
	t.Run("VoidThenCaptureFails", func(t *testing.T) { testPaymentVoidThenCapture(t, newGateway(t), tokens) })
}

func authorize(t *testing.T, g ports.PaymentGateway, key, token string) ports.Authorization {
	t.Helper()
	a, err := g.Authorize(testContext(t, visibilityTimeout), ports.AuthorizeRequest{
		IdempotencyKey: key, Token: token, Amount: 1250, Currency: "EUR"})
	if err != nil {
		t.Fatalf("authorize %s: %v", token, err)
	}
	return a
}

func testPaymentApprove(t *testing.T, g ports.PaymentGateway, tokens PaymentTokens) {
	ctx := testContext(t, visibilityTimeout)
	a := authorize(t, g, uuid.NewString(), tokens.Approve)
	if !a.Approved || a.ID == "" || a.DeclineCode != "" {
		t.Fatalf("authorization %+v, want approved with an id", a)
	}
	key := uuid.NewString()
	for range 2 {
		if err := g.Capture(ctx, key, a.ID); err != nil {
			t.Fatalf("capture: %v", err)
		}
	}
	if err := g.Capture(ctx, uuid.NewString(), a.ID); err != nil {
		t.Fatalf("capture a captured authorization with a new key: %v", err)
	}
}

func testPaymentDecline(t *testing.T, g ports.PaymentGateway, tokens PaymentTokens) {
	a := authorize(t, g, uuid.NewString(), tokens.Decline)
	if a.Approved || a.ID != "" || a.DeclineCode == "" {
		t.Fatalf("authorization %+v, want declined with a code and no id", a)
	}
}

func testPaymentReplay(t *testing.T, g ports.PaymentGateway, tokens PaymentTokens) {
	key := uuid.NewString()
	first := authorize(t, g, key, tokens.Approve)
	again := authorize(t, g, key, tokens.Approve)
	if first != again {
		t.Fatalf("same key: %+v then %+v", first, again)
	}
	if other := authorize(t, g, uuid.NewString(), tokens.Approve); other.ID == first.ID {
		t.Fatalf("two keys share authorization %s", first.ID)
	}
}

func testPaymentUnknown(t *testing.T, g ports.PaymentGateway) {
	ctx := testContext(t, visibilityTimeout)
	if err := g.Capture(ctx, uuid.NewString(), "auth_unknown"); !errors.Is(err, ports.ErrUnknownAuthorization) {
		t.Errorf("capture unknown: %v", err)
	}
	if err := g.Void(ctx, uuid.NewString(), "auth_unknown"); !errors.Is(err, ports.ErrUnknownAuthorization) {
		t.Errorf("void unknown: %v", err)
	}
}

func testPaymentVoidThenCapture(t *testing.T, g ports.PaymentGateway, tokens PaymentTokens) {
	ctx := testContext(t, visibilityTimeout)
	a := authorize(t, g, uuid.NewString(), tokens.Approve)
	if err := g.Void(ctx, uuid.NewString(), a.ID); err != nil {
		t.Fatal(err)
	}
	if err := g.Void(ctx, uuid.NewString(), a.ID); err != nil {
		t.Fatalf("void twice: %v", err)
	}
	if err := g.Capture(ctx, uuid.NewString(), a.ID); !errors.Is(err, ports.ErrAuthorizationState) {
		t.Fatalf("capture after void: %v, want ErrAuthorizationState", err)
	}
}
