package ports

import (
	"context"
	"github.com/orderflow/orderflow/app/apperr"
)

// ErrCacheMiss is returned by OrderCache.Get when it has no entry for the
// order at the version asked for.
var ErrCacheMiss = apperr.New(apperr.NotFound, "cache miss")

// OrderCache is a look-aside cache of order summaries, shared by every
// process of a deployment. It is never the source of truth: a caller treats
// any error as a miss and reads the read model instead.
//
// Get returns the cached summary of orderID when the cache holds it at
// version atLeast or newer, and ErrCacheMiss otherwise (no entry, or an entry
// older than atLeast). A caller passes the newest version its client has
// already seen, so an older entry is never served to it.
//
// Put stores s unless the cache already holds the order at s.Version or
// newer: versions only move forward, whatever order concurrent writers (a
// projection and a query filling a miss) arrive in.
//
// Invalidate drops the entry of orderID; a later Get misses until a Put.
type OrderCache interface {
	Get(ctx context.Context, orderID string, atLeast int64) (OrderSummary, error)
	Put(ctx context.Context, s OrderSummary) error
	Invalidate(ctx context.Context, orderID string) error
}
