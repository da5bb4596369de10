package inventory

import (
	"sort"
	"time"
)

// Line is what an order needs of one SKU.
type Line struct {
	SKU      string
	Quantity int64
}

// Needs sums an order's lines per SKU (an order may name a SKU twice).
func Needs(lines []Line) map[string]int64 {
	needs := make(map[string]int64, len(lines))
	for _, l := range lines {
		needs[l.SKU] += l.Quantity
	}
	return needs
}

// ReserveOrder reserves every line of orderID, or none: stocks must hold the
// loaded stock of every SKU in lines. If every SKU has enough, each records
// Reserved (or nothing, if already reserved: idempotent) and ReserveOrder
// returns no short SKUs. Otherwise nothing is reserved anywhere, each short
// SKU records ReservationFailed naming all short SKUs, and they are returned
// sorted. The caller appends every stream's changes atomically, so a
// concurrent change to any of them makes the whole decision retry.
func ReserveOrder(stocks map[string]*Stock, orderID string, lines []Line, now time.Time) (short []string) {
	needs := Needs(lines)
	for sku, q := range needs {
		if !stocks[sku].CanReserve(orderID, q) {
			short = append(short, sku)
		}
	}
	sort.Strings(short)
	if len(short) > 0 {
		for _, sku := range short {
			stocks[sku].Fail(orderID, needs[sku], short, now)
		}
		return short
	}
	for sku, q := range needs {
		// Cannot fail: CanReserve said yes and quantities are positive.
		_ = stocks[sku].Reserve(orderID, q, now)
	}
	return nil
}
