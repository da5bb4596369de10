package saga

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/ports"
)

// StepResume is the step an operator's resume of a parked checkout logs.
const StepResume = "resume"

// Resume returns parked checkout c resumed by operator at now: back in the
// state it was parked in, with the reason it had then, its failed attempts
// reset and due at once (the deadline scanner advances it on its next
// scan), and a "resume" step naming the operator. The caller saves it (its
// Version is the next). A checkout that is not parked is a conflict.
//
// A checkout parked before the state was recorded (ResumeState empty)
// resumes in the state its park step names, with the park reason.
func Resume(c ports.Checkout, operator string, now time.Time) (ports.Checkout, error) {
	if c.State != StateParked {
		return c, apperr.New(apperr.Conflict, "the checkout of order %s is %s, not parked", c.OrderID, c.State)
	}
	state, reason := c.ResumeState, c.ResumeReason
	if state == "" {
		state, reason = parkedIn(c), c.Reason
	}
	if !slices.Contains(DueStates, state) {
		return c, apperr.New(apperr.Conflict, "the checkout of order %s does not say which state it was parked in", c.OrderID)
	}
	c = logStep(c, StepResume, "done", fmt.Sprintf("by %s, back to %s", operator, state), now)
	c.State, c.Reason, c.ResumeState, c.ResumeReason = state, reason, "", ""
	c.Attempts, c.NextAttemptAt, c.UpdatedAt = 0, now, now
	c.Version++
	return c, nil
}

// parkedIn is the state the last park step of c names ("... in state S: ...").
func parkedIn(c ports.Checkout) string {
	for i := len(c.Steps) - 1; i >= 0; i-- {
		if c.Steps[i].Step != "park" {
			continue
		}
		_, rest, ok := strings.Cut(c.Steps[i].Detail, " in state ")
		if !ok {
			return ""
		}
		state, _, _ := strings.Cut(rest, ":")
		return state
	}
	return ""
}
