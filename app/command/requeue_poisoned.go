package command

import (
	"context"
	"fmt"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/text"
	"github.com/orderflow/orderflow/ports"
)

// RequeuePoisoned sends a parked message back to the topic it was consumed
// from and removes it from the poison queue.
type RequeuePoisoned struct{ ID string }

// RequeuePoisonedHandler runs RequeuePoisoned.
type RequeuePoisonedHandler struct {
	store       ports.PoisonStore
	republisher ports.PoisonRepublisher
}

func NewRequeuePoisonedHandler(store ports.PoisonStore, republisher ports.PoisonRepublisher) RequeuePoisonedHandler {
	if store == nil || republisher == nil {
		panic("command: nil poison store or republisher")
	}
	return RequeuePoisonedHandler{store: store, republisher: republisher}
}

// Handle republishes, then deletes, and returns the message as it was
// parked. The handler that poisoned it sees it again (its deduplication
// claim was released); handlers that had processed it drop it as a
// duplicate. If the delete fails after the republish, the message is in
// both places: requeueing it again is harmless for the same reason. An
// unknown id wraps ports.ErrPoisonNotFound (apperr.NotFound).
func (h RequeuePoisonedHandler) Handle(ctx context.Context, cmd RequeuePoisoned) (ports.PoisonedMessage, error) {
	if cmd.ID == "" {
		return ports.PoisonedMessage{}, apperr.New(apperr.Invalid, "a poisoned message id is required")
	}
	if !text.Valid(cmd.ID) { // no message has it, and not every store can look it up
		return ports.PoisonedMessage{}, apperr.Detail(ports.ErrPoisonNotFound, "no poisoned message has that id")
	}
	m, err := h.store.Get(ctx, cmd.ID)
	if err != nil {
		return m, err
	}
	if m.Topic == "" {
		return m, fmt.Errorf("poisoned message %s has no original topic", cmd.ID)
	}
	if err := h.republisher.Republish(ctx, m); err != nil {
		return m, fmt.Errorf("requeue %s to %s: %w", cmd.ID, m.Topic, err)
	}
	return m, h.store.Delete(ctx, cmd.ID)
}
