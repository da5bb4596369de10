package order

import (
	"github.com/google/uuid"

	"github.com/orderflow/orderflow/app/apperr"
)

// ParseID returns raw as an order id in canonical UUID form. Anything that is
// not a UUID cannot name an order: an apperr.NotFound error quoting (at most
// 64 characters of) it, so an inbound adapter answers not found without
// asking the store.
func ParseID(raw string) (string, error) {
	id, err := uuid.Parse(raw)
	if err != nil {
		return "", apperr.New(apperr.NotFound, "order %s not found: an order id is a UUID", apperr.Quote(raw))
	}
	return id.String(), nil
}
