package command

import (
	"context"

	"github.com/orderflow/orderflow/app/domain/inventory"
	"github.com/orderflow/orderflow/app/repository"
	"github.com/orderflow/orderflow/ports"
)

// SetStock sets a SKU's on-hand units (a restock or a count).
type SetStock struct {
	SKU    string
	OnHand int64
}

// StockLevels is a SKU's stock after a command or as read.
type StockLevels struct {
	SKU       string
	OnHand    int64
	Reserved  int64
	Available int64
}

// LevelsOf reads the levels of a stock aggregate.
func LevelsOf(s *inventory.Stock) StockLevels {
	return StockLevels{SKU: s.SKU(), OnHand: s.OnHand(), Reserved: s.Reserved(), Available: s.Available()}
}

// SetStockHandler runs SetStock.
type SetStockHandler struct {
	stocks *repository.Stocks
	clock  ports.Clock
}

func NewSetStockHandler(stocks *repository.Stocks, clock ports.Clock) SetStockHandler {
	if stocks == nil || clock == nil {
		panic("command: nil stocks or clock")
	}
	return SetStockHandler{stocks: stocks, clock: clock}
}

// Handle sets the stock; a count below what is reserved is apperr.Conflict.
// Concurrent reservations are absorbed by re-running on the newer state.
func (h SetStockHandler) Handle(ctx context.Context, cmd SetStock) (StockLevels, error) {
	if err := inventory.ValidateSKU(cmd.SKU); err != nil {
		return StockLevels{}, err
	}
	s, err := h.stocks.Update(ctx, cmd.SKU, func(s *inventory.Stock) error {
		return s.SetOnHand(cmd.OnHand, h.clock.Now())
	})
	if err != nil {
		return StockLevels{}, err
	}
	return LevelsOf(s), nil
}
