package inventory

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// Remembered is how many settled (released or committed) and failed orders
// a stock remembers, the most recent ones: a late, redelivered reserve of one
// of them records nothing. Older ones are forgotten, so that a SKU's state
// (and its snapshot) stays bounded however many orders it served; the
// checkout reserves an order only while its checkout is reserving, in the
// same transaction that moves it on, so no reserve of a long-settled order
// can come.
const Remembered = 1000

// StateSchemaVersion names the encoding of EncodeState.
const StateSchemaVersion = 1

// state is the stored form of a Stock (a snapshot).
type state struct {
	SKU      string           `json:"sku"`
	OnHand   int64            `json:"on_hand"`
	Reserved int64            `json:"reserved"`
	Holds    map[string]int64 `json:"holds"`
	// Recent are the remembered orders, oldest first, each settled or failed.
	Recent  []recent `json:"recent"`
	Version int64    `json:"version"`
}

type recent struct {
	OrderID string `json:"order_id"`
	Failed  bool   `json:"failed,omitempty"`
}

// EncodeState encodes s's state, without its uncommitted changes (it must
// have none), for a snapshot at s.Version().
func EncodeState(s *Stock) ([]byte, error) {
	if len(s.changes) > 0 {
		return nil, fmt.Errorf("inventory: snapshot of %s with %d changes not stored", s.sku, len(s.changes))
	}
	st := state{SKU: s.sku, OnHand: s.onHand, Reserved: s.reserved, Holds: s.holds, Version: s.version}
	for _, id := range s.recent {
		st.Recent = append(st.Recent, recent{OrderID: id, Failed: s.failed[id]})
	}
	return json.Marshal(st)
}

// DecodeState returns the stock EncodeState encoded.
func DecodeState(data []byte) (*Stock, error) {
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("inventory: decode snapshot: %w", err)
	}
	s := New(st.SKU)
	s.onHand, s.reserved, s.version = st.OnHand, st.Reserved, st.Version
	maps.Copy(s.holds, st.Holds)
	for _, r := range st.Recent {
		s.remember(r.OrderID, r.Failed)
	}
	return s, nil
}

// Clone returns a copy of s that shares nothing with it (the repository's
// cache of loaded stocks hands out clones). s must have no changes that are
// not stored.
func (s *Stock) Clone() *Stock {
	c := *s
	c.holds, c.settled, c.failed = maps.Clone(s.holds), maps.Clone(s.settled), maps.Clone(s.failed)
	c.recent = slices.Clone(s.recent)
	c.changes = nil
	return &c
}

// ApplyAll applies stored events after s's version, oldest first, and
// returns s.
func (s *Stock) ApplyAll(events []Event) *Stock {
	for _, e := range events {
		s.Apply(e)
	}
	return s
}

// remember marks orderID settled (or failed), forgetting the oldest
// remembered order beyond Remembered.
func (s *Stock) remember(orderID string, failed bool) {
	if !s.settled[orderID] && !s.failed[orderID] {
		s.recent = append(s.recent, orderID)
	}
	if failed {
		s.failed[orderID] = true
	} else {
		s.settled[orderID] = true
	}
	for len(s.recent) > Remembered {
		old := s.recent[0]
		s.recent = s.recent[1:]
		delete(s.settled, old)
		delete(s.failed, old)
	}
}
