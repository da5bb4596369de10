package upcast

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/orderflow/orderflow/app/domain/order"
)

// Default returns the registry of every event this release knows: the order
// events at their newest versions and the steps from each older one. It is
// built once and never changes.
var Default = sync.OnceValue(func() *Registry {
	return NewRegistry().
		Current(order.EventPlaced, order.EventConfirmed, order.EventCancelled,
			order.EventShipped, order.EventDelivered).
		Register(order.EventPlacedV1, PlacedV1ToV2)
})

// PlacedV1ToV2 migrates order.placed.v1 to v2: every item gains line_total,
// quantity × unit_price, which v1 left to the reader. Every other field is
// kept byte for byte (json.RawMessage), numbers stay exact (json.Number).
func PlacedV1ToV2(data []byte) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(doc["items"]))
	dec.UseNumber()
	var items []map[string]any
	if err := dec.Decode(&items); err != nil {
		return nil, fmt.Errorf("items: %w", err)
	}
	for i, it := range items {
		q, errQ := intField(it, "quantity")
		p, errP := intField(it, "unit_price")
		if err := errors.Join(errQ, errP); err != nil {
			return nil, fmt.Errorf("items[%d]: %w", i, err)
		}
		it["line_total"] = q * p
	}
	raw, err := json.Marshal(items)
	if err != nil {
		return nil, err
	}
	doc["items"] = raw
	return json.Marshal(doc)
}

// intField reads an integer field; absent is 0, as Go's decoder of v1 read it.
func intField(m map[string]any, key string) (int64, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return 0, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("%s is not a number", key)
	}
	i, err := n.Int64()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	return i, nil
}
