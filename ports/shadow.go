package ports

import "context"

// ShadowOrderSummary rebuilds the order_summary read model beside the live
// one, which keeps serving, and then puts the rebuilt one in its place.
//
// Shadow returns a store on the shadow table. fresh drops any shadow table
// and creates it empty, shaped like the live one; !fresh reopens the shadow
// table an interrupted rebuild left (an error if there is none).
//
// Swap atomically makes the shadow table the live one and drops the old
// one: every reader sees either the old rows or the new ones, never an
// empty or missing table. After Swap there is no shadow table.
type ShadowOrderSummary interface {
	Shadow(ctx context.Context, fresh bool) (OrderSummaryStore, error)
	Swap(ctx context.Context) error
}
