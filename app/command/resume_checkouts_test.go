package command_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/saga"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/ports"
)

// ResumeCheckouts refuses what names no checkout or too many; it restores
// a parked checkout's state and reason, and leaves other states alone. The
// whole path through the saga is app/saga's TestParkedCheckoutsAreListedAndResumed.
func TestResumeCheckouts(t *testing.T) {
	st := storetest.SQLite(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	h := command.NewResumeCheckoutsHandler(st.Checkouts, fixedClock{now})
	for _, c := range []struct {
		name string
		cmd  command.ResumeCheckouts
		code apperr.Code
	}{
		{"no operator", command.ResumeCheckouts{OrderID: uuid.NewString()}, apperr.Invalid},
		{"neither", command.ResumeCheckouts{Operator: "ada"}, apperr.Invalid},
		{"both", command.ResumeCheckouts{OrderID: uuid.NewString(), AllParked: true, Operator: "ada"}, apperr.Invalid},
		{"unknown", command.ResumeCheckouts{OrderID: uuid.NewString(), Operator: "ada"}, apperr.NotFound},
	} {
		if _, err := h.Handle(t.Context(), c.cmd); !apperr.Is(err, c.code) {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}

	parked := ports.Checkout{OrderID: uuid.NewString(), State: saga.StateParked, Reason: "parked: 10 attempts failed",
		ResumeState: saga.StateReserving, ResumeReason: "", Attempts: 10, StartedAt: now, DeadlineAt: now, UpdatedAt: now,
		Steps: []ports.CheckoutStep{{Step: "park", Status: "failed", At: now}}, Version: 3}
	confirmed := ports.Checkout{OrderID: uuid.NewString(), State: saga.StateConfirmed, StartedAt: now, DeadlineAt: now,
		UpdatedAt: now, Version: 1}
	for _, c := range []ports.Checkout{parked, confirmed} {
		v := c.Version
		for c.Version = 1; c.Version <= v; c.Version++ {
			if err := st.Checkouts.Save(t.Context(), c); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := h.Handle(t.Context(), command.ResumeCheckouts{OrderID: confirmed.OrderID, Operator: "ada"}); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("resume a confirmed checkout: %v, want a conflict", err)
	}
	res, err := h.Handle(t.Context(), command.ResumeCheckouts{AllParked: true, Operator: "ada"})
	if err != nil || len(res.Checkouts) != 1 || res.Checkouts[0].OrderID != parked.OrderID {
		t.Fatalf("resume all parked = %v, %v", res, err)
	}
	got, err := st.Checkouts.Get(t.Context(), parked.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != saga.StateReserving || got.Reason != "" || got.Attempts != 0 || !got.NextAttemptAt.Equal(now) || got.Version != 4 {
		t.Fatalf("resumed = %+v", got)
	}
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }
