package repository

import "github.com/orderflow/orderflow/ports"

// stateCache keeps the last state Load built for each of a few streams, so
// that the next Load of a hot stream (a popular SKU, written by every
// checkout) decodes no snapshot: it clones the cached state and applies the
// events after it. An entry is trusted only while the stream still holds
// the event it was built from: Load reads from the entry's own version and
// compares that event's id. A state built inside a unit of work that then
// rolled back names an event that was never committed, so it is never used
// (ids are never reused: every save makes new ones). Entries are immutable
// once stored; the map is bounded by evicting an arbitrary entry.
type stateCache[A any] struct {
	clone   func(A) A
	entries *Bounded[cachedState[A]]
}

type cachedState[A any] struct {
	state   A
	version int64
	eventID string // the id of the stream's event at version
	// snapshot is the version of the stream's latest snapshot, for
	// maybeSnapshot.
	snapshot int64
}

func newStateCache[A any](clone func(A) A, maxEntries int) *stateCache[A] {
	return &stateCache[A]{clone: clone, entries: NewBounded[cachedState[A]](maxEntries)}
}

func (c *stateCache[A]) get(id string) (cachedState[A], bool) { return c.entries.Get(id) }

// put stores a clone of a, built up to last (the stream's event at a's
// version), with the version of the stream's latest snapshot.
func (c *stateCache[A]) put(id string, a A, last ports.RecordedEvent, snapshot int64) {
	c.entries.Put(id, cachedState[A]{state: c.clone(a), version: last.Version, eventID: last.Metadata.EventID, snapshot: snapshot})
}

func (c *stateCache[A]) drop(id string) { c.entries.Drop(id) }
