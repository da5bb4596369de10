package saga

import (
	"fmt"
	"slices"
	"time"

	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/ports"
)

// The checkout's step log and the small helpers the steps share.

// logged returns the records next added to prev's log (Steps and
// Compensations only grow) and the time of prev's newest record.
func logged(prev, next ports.Checkout) (added []ports.CheckoutStep, since time.Time) {
	for _, r := range slices.Concat(prev.Steps, prev.Compensations) {
		if r.At.After(since) {
			since = r.At
		}
	}
	if len(next.Steps) > len(prev.Steps) {
		added = append(added, next.Steps[len(prev.Steps):]...)
	}
	if len(next.Compensations) > len(prev.Compensations) {
		added = append(added, next.Compensations[len(prev.Compensations):]...)
	}
	return added, since
}

func logStep(c ports.Checkout, step, status, detail string, at time.Time) ports.Checkout {
	c.Steps = append(append([]ports.CheckoutStep(nil), c.Steps...), ports.CheckoutStep{Step: step, Status: status, At: at, Detail: detail})
	return c
}

func logCompensation(c ports.Checkout, step, detail string, at time.Time) ports.Checkout {
	c.Compensations = append(append([]ports.CheckoutStep(nil), c.Compensations...), ports.CheckoutStep{Step: step, Status: "done", At: at, Detail: detail})
	return c
}

func hasStep(steps []ports.CheckoutStep, step, status string) bool {
	for _, s := range steps {
		if s.Step == step && (status == "" || s.Status == status) {
			return true
		}
	}
	return false
}

// compensateFor moves c to compensating with reason.
func compensateFor(c ports.Checkout, reason string) *transition {
	c.State, c.Reason = StateCompensating, reason
	return &transition{next: c, step: "compensate"}
}

func lines(o *order.Order) []string {
	skus := map[string]bool{}
	var out []string
	for _, it := range o.Items() {
		if !skus[it.SKU] {
			skus[it.SKU] = true
			out = append(out, it.SKU)
		}
	}
	return out
}

func key(orderID, step string) string { return fmt.Sprintf("%s:%s", orderID, step) }
