package ports

import "context"

// ShadowOrderSummary rebuilds the order_summary read model beside the live
// one, which keeps serving, and then puts the rebuilt one in its place.
//
// Shadow returns a store on the shadow table. fresh drops any shadow table
// and creates it empty, shaped like the live one (an adapter may leave out
// the indexes a lookup by order id does not need, until Swap); !fresh
// reopens the shadow table an interrupted rebuild left (an error if there
// is none).
//
// Swap gives the shadow table every index of the live one, then atomically
// makes it the live one and drops the old one: every reader sees either the
// old rows or the new ones, never an empty or missing table. After Swap
// there is no shadow table.
type ShadowOrderSummary interface {
	Shadow(ctx context.Context, fresh bool) (ShadowOrderSummaryStore, error)
	Swap(ctx context.Context) error
}

// ShadowOrderSummaryStore is the shadow table: the read model's store, and
// the bulk reads and writes of a rebuild that folds events in memory.
//
// GetMany returns the stored rows of those of ids that have one, in no
// particular order.
//
// PutMany writes the rows of added and changed in one transaction: each is
// inserted, or replaces the stored row of its order if that one is at a
// lower version; a stored row at the same or a higher version is kept.
// Unlike Save it never fails on a version: the shadow table has one writer,
// the rebuild, and the version guard makes writing a row twice (a resumed
// rebuild) harmless. added are rows whose orders the caller knows have no
// stored row (the rebuild knows it of the orders it has neither written nor
// read back): an adapter may insert them the cheapest way it has (Postgres:
// COPY), with the same outcome if one is stored after all. All rows must
// name distinct orders.
type ShadowOrderSummaryStore interface {
	OrderSummaryStore
	GetMany(ctx context.Context, ids []string) ([]OrderSummary, error)
	PutMany(ctx context.Context, added, changed []OrderSummary) error
}
