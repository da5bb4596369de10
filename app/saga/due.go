package saga

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/ports"
)

// The durable timer: checkouts past their deadline, advanced again with a
// backoff per checkout, and parked after Config.MaxAttempts.

// AdvanceDue advances up to limit checkouts whose deadline has passed and
// that are not finished: the durable timer. It returns how many it found;
// errors of single checkouts are joined.
//
// A checkout that fails is not tried again before its backoff has passed
// (Config.RetryBackoff, doubled per failure up to MaxRetryBackoff), and the
// scan takes the earliest due first, so checkouts that keep failing never
// hold up a later deadline. After Config.MaxAttempts failures in a row the
// checkout is parked (StateParked, the last error as reason) for an
// operator, and counted (Metrics.CheckoutParked).
func (s *Checkout) AdvanceDue(ctx context.Context, limit int) (int, error) {
	ids, err := s.d.Checkouts.Due(ctx, s.d.Clock.Now(), DueStates, limit)
	if err != nil {
		return 0, apperr.Wrap(apperr.Unavailable, err, "scan due checkouts")
	}
	var errs []error
	for _, id := range ids {
		err := s.Advance(ctx, id)
		if err == nil {
			continue
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
		if ferr := s.attemptFailed(ctx, id, err); ferr != nil {
			errs = append(errs, ferr)
		}
	}
	return len(ids), errors.Join(errs...)
}

// attemptFailed records a failed attempt of the scanner on orderID's
// checkout: it backs off, or is parked after MaxAttempts. A checkout another
// Advance moved meanwhile is left as it is.
func (s *Checkout) attemptFailed(ctx context.Context, orderID string, cause error) error {
	c, err := s.d.Checkouts.Get(ctx, orderID)
	if err != nil {
		return apperr.Dependency(err, "record failed attempt of checkout %s", orderID)
	}
	if !slices.Contains(DueStates, c.State) {
		return nil
	}
	now := s.d.Clock.Now()
	stuck := c.State
	c.Attempts++
	c.Version++
	c.UpdatedAt = now
	if c.Attempts >= s.cfg.MaxAttempts {
		detail := printable(fmt.Sprintf("%d attempts failed in state %s: %v", c.Attempts, stuck, cause))
		c = logStep(c, "park", "failed", detail, now)
		c.ResumeState, c.ResumeReason = stuck, c.Reason // what Resume restores
		c.State, c.Reason, c.NextAttemptAt = StateParked, limitReason(ReasonParked+": "+detail), time.Time{}
	} else {
		c.NextAttemptAt = now.Add(s.backoff(c.Attempts))
	}
	err = s.d.Checkouts.Save(ctx, c)
	if errors.Is(err, ports.ErrConcurrency) {
		return nil
	}
	if err != nil {
		return apperr.Dependency(err, "record failed attempt of checkout %s", orderID)
	}
	if c.State == StateParked {
		s.d.Metrics.CheckoutParked(stuck)
	}
	return nil
}

// printable is s with invalid UTF-8 and control characters replaced, so
// that an error quoting bad data (a NUL in a SKU) can be stored as a reason.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
}

// backoff is the wait after the n-th failed attempt (n >= 1).
func (s *Checkout) backoff(n int) time.Duration {
	d := s.cfg.RetryBackoff
	for i := 1; i < n && d < s.cfg.MaxRetryBackoff; i++ {
		d *= 2
	}
	return min(d, s.cfg.MaxRetryBackoff)
}
