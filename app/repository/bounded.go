package repository

import "sync"

// bounded is a map of at most max entries, safe for concurrent use: adding
// a new key when it is full forgets an arbitrary other one. The
// repositories' in-memory caches use it, where a forgotten entry only costs
// one more read from the store. A nil *bounded holds nothing.
type bounded[V any] struct {
	mu  sync.Mutex
	max int
	m   map[string]V
}

func newBounded[V any](maxEntries int) *bounded[V] {
	return &bounded[V]{max: maxEntries, m: map[string]V{}}
}

func (b *bounded[V]) get(key string) (v V, ok bool) {
	if b == nil {
		return v, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok = b.m[key]
	return v, ok
}

func (b *bounded[V]) put(key string, v V) {
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

func (b *bounded[V]) drop(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.m, key)
}
