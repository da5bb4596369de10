package repository

import "sync"

// Bounded is a map of at most max entries, safe for concurrent use: adding
// a new key when it is full forgets an arbitrary other one. The
// repositories' and the projection's in-memory caches use it, where a
// forgotten entry only costs one more read from the store. A nil *Bounded
// holds nothing.
type Bounded[V any] struct {
	mu  sync.Mutex
	max int
	m   map[string]V
}

// NewBounded returns an empty map of at most maxEntries entries.
func NewBounded[V any](maxEntries int) *Bounded[V] {
	return &Bounded[V]{max: maxEntries, m: map[string]V{}}
}

// Get returns the value of key, if it is there.
func (b *Bounded[V]) Get(key string) (v V, ok bool) {
	if b == nil {
		return v, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok = b.m[key]
	return v, ok
}

// Put sets key to v, forgetting an arbitrary other key when full.
func (b *Bounded[V]) Put(key string, v V) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.m[key]; !ok && len(b.m) >= b.max {
		for k := range b.m {
			delete(b.m, k)
			break
		}
	}
	b.m[key] = v
}

// Drop forgets key.
func (b *Bounded[V]) Drop(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.m, key)
}
