package repository

import (
	"github.com/orderflow/orderflow/app/domain/inventory"
	"github.com/orderflow/orderflow/app/domain/payment"
	"github.com/orderflow/orderflow/ports"
)

// Stocks stores the stock of each SKU (stream "inventory-<sku>").
type Stocks = Aggregates[*inventory.Stock, inventory.Event]

// Payments stores each order's payment (stream "payment-<order id>").
type Payments = Aggregates[*payment.Payment, payment.Event]

// StockCacheEntries is how many SKUs' stock the application keeps in
// memory (Aggregates.EnableCache): the hot ones stay, since every checkout
// of them loads them again.
const StockCacheEntries = 256

// NewStocks returns the inventory repository.
func NewStocks(store ports.EventStore, clock ports.Clock) *Stocks {
	return NewAggregates(store, clock, Codec[*inventory.Stock, inventory.Event]{
		StreamType: inventory.AggregateType,
		Fold:       inventory.FromHistory,
		Encode:     inventory.EncodeEvent,
		Decode:     inventory.DecodeEvent,
		// Every checkout of a popular SKU writes its stream.
		LockBeforeLoad: true,
		State: &StateCodec[*inventory.Stock, inventory.Event]{
			SchemaVersion: inventory.StateSchemaVersion,
			Encode:        inventory.EncodeState,
			Decode:        inventory.DecodeState,
			Apply:         (*inventory.Stock).ApplyAll,
			Version:       (*inventory.Stock).Version,
			Clone:         (*inventory.Stock).Clone,
		},
	})
}

// NewPayments returns the payment repository.
func NewPayments(store ports.EventStore, clock ports.Clock) *Payments {
	return NewAggregates(store, clock, Codec[*payment.Payment, payment.Event]{
		StreamType: payment.AggregateType,
		Fold:       payment.FromHistory,
		Encode:     payment.EncodeEvent,
		Decode:     payment.DecodeEvent,
	})
}
