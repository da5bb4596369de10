package ports_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/ports"
)

// The ports' sentinel errors carry the application's error codes, so an
// adapter returns them (wrapped with %w) and no handler translates them case
// by case: HTTP status, poison-or-retry and use-case outcomes all read the
// code.
func TestSentinelErrorsCarryApplicationCodes(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code apperr.Code
	}{
		{ports.ErrNotFound, apperr.NotFound},
		{ports.ErrCheckoutNotFound, apperr.NotFound},
		{ports.ErrPoisonNotFound, apperr.NotFound},
		{ports.ErrRetryClaimLost, apperr.Conflict},
		{ports.ErrCacheMiss, apperr.NotFound},
		{ports.ErrInvalidCursor, apperr.Invalid},
		{ports.ErrConcurrency, apperr.Conflict},
		{ports.ErrStaleWrite, apperr.Conflict},
		{ports.ErrUnknownAuthorization, apperr.Conflict},
		{ports.ErrAuthorizationState, apperr.Conflict},
		{&ports.ConcurrencyError{Stream: ports.Stream{Type: "order", ID: "o-1"}, Expected: 1, Actual: 2}, apperr.Conflict},
	} {
		wrapped := fmt.Errorf("adapter context: %w", tc.err)
		if got := apperr.CodeOf(wrapped); got != tc.code {
			t.Errorf("CodeOf(%v) = %q, want %q", tc.err, got, tc.code)
		}
	}
	if !errors.Is(fmt.Errorf("x: %w", &ports.ConcurrencyError{}), ports.ErrConcurrency) {
		t.Error("a *ConcurrencyError does not match ErrConcurrency")
	}
}
