package query

import (
	"context"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/text"
	"github.com/orderflow/orderflow/app/wire"
	"github.com/orderflow/orderflow/ports"
)

// Page sizes of ListPoisoned.
const (
	DefaultPoisonPage = 50
	MaxPoisonPage     = 500
)

// ListPoisoned lists the poison queue, oldest first: up to Limit messages
// (DefaultPoisonPage when 0, at most MaxPoisonPage) with an ID after After
// ("" starts at the beginning).
type ListPoisoned struct {
	After string
	Limit int
}

// PoisonPage is one page of the poison queue.
type PoisonPage = Page[ports.PoisonedMessage]

// ListPoisonedHandler answers ListPoisoned from the poison store.
type ListPoisonedHandler struct{ store ports.PoisonStore }

func NewListPoisonedHandler(store ports.PoisonStore) ListPoisonedHandler {
	return ListPoisonedHandler{store: wire.Need(store, "query: nil poison store")}
}

// Handle returns apperr.Invalid for a negative Limit or an After no message
// id could be (see package text); a store error is returned as it is.
func (h ListPoisonedHandler) Handle(ctx context.Context, q ListPoisoned) (PoisonPage, error) {
	if q.Limit < 0 {
		return PoisonPage{}, apperr.New(apperr.Invalid, "limit must be 0 or more, not %d", q.Limit)
	}
	if msg := text.Problem(q.After); msg != "" {
		return PoisonPage{}, apperr.Validation("invalid poison queue listing", []apperr.FieldError{{Field: "after", Message: msg}})
	}
	limit := pageSize(q.Limit, DefaultPoisonPage, MaxPoisonPage)
	list, err := h.store.List(ctx, q.After, limit)
	if err != nil {
		return PoisonPage{}, err
	}
	return PoisonPage{Items: list, NextAfter: nextAfter(list, limit, func(m ports.PoisonedMessage) string { return m.ID })}, nil
}
