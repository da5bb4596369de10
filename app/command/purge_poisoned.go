package command

import (
	"context"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/text"
	"github.com/orderflow/orderflow/app/wire"
	"github.com/orderflow/orderflow/ports"
)

// PurgePoisoned drops parked messages for good: the one with ID, or, with
// All, every one (ID must then be empty).
type PurgePoisoned struct {
	ID  string
	All bool
}

// Purged counts the messages a PurgePoisoned dropped.
type Purged struct{ Count int }

// purgePage is how many parked messages one List of a purge reads.
const purgePage = 500

// PurgePoisonedHandler runs PurgePoisoned.
type PurgePoisonedHandler struct{ store ports.PoisonStore }

func NewPurgePoisonedHandler(store ports.PoisonStore) PurgePoisonedHandler {
	return PurgePoisonedHandler{store: wire.Need(store, "command: nil poison store")}
}

// Handle deletes. An unknown ID wraps ports.ErrPoisonNotFound
// (apperr.NotFound). Purging all deletes page by page until the queue is
// empty, messages parked meanwhile included; on an error, what was deleted
// stays deleted and Count says how many.
func (h PurgePoisonedHandler) Handle(ctx context.Context, cmd PurgePoisoned) (Purged, error) {
	switch {
	case cmd.All && cmd.ID != "":
		return Purged{}, apperr.New(apperr.Invalid, "purge one message or all of them, not both")
	case !cmd.All && cmd.ID == "":
		return Purged{}, apperr.New(apperr.Invalid, "a poisoned message id is required to purge one")
	case !cmd.All && !text.Valid(cmd.ID): // no message has it, and not every store can look it up
		return Purged{}, apperr.Detail(ports.ErrPoisonNotFound, "no poisoned message has that id")
	case !cmd.All:
		if err := h.store.Delete(ctx, cmd.ID); err != nil {
			return Purged{}, err
		}
		return Purged{Count: 1}, nil
	}
	var n Purged
	for {
		page, err := h.store.List(ctx, "", purgePage)
		if err != nil || len(page) == 0 {
			return n, err
		}
		for _, m := range page {
			if err := h.store.Delete(ctx, m.ID); err != nil {
				return n, err
			}
			n.Count++
		}
	}
}
