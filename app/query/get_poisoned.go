package query

import (
	"context"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/text"
	"github.com/orderflow/orderflow/app/wire"
	"github.com/orderflow/orderflow/ports"
)

// GetPoisoned reads one parked message by the id of its parked copy.
type GetPoisoned struct{ ID string }

// GetPoisonedHandler answers GetPoisoned from the poison store.
type GetPoisonedHandler struct{ store ports.PoisonStore }

func NewGetPoisonedHandler(store ports.PoisonStore) GetPoisonedHandler {
	return GetPoisonedHandler{store: wire.Need(store, "query: nil poison store")}
}

// Handle returns an error wrapping ports.ErrPoisonNotFound (apperr.NotFound)
// for an unknown id.
func (h GetPoisonedHandler) Handle(ctx context.Context, q GetPoisoned) (ports.PoisonedMessage, error) {
	if !text.Valid(q.ID) { // no message has it, and not every store can look it up
		return ports.PoisonedMessage{}, apperr.Detail(ports.ErrPoisonNotFound, "no poisoned message has that id")
	}
	return h.store.Get(ctx, q.ID)
}
