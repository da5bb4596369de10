package query

import (
	"context"
	"github.com/orderflow/orderflow/app/wire"

	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/domain/inventory"
	"github.com/orderflow/orderflow/app/repository"
)

// GetStock reads a SKU's stock from its event stream (always current). A
// SKU never stocked has zero everywhere.
type GetStock struct{ SKU string }

// GetStockHandler answers GetStock.
type GetStockHandler struct{ stocks *repository.Stocks }

func NewGetStockHandler(stocks *repository.Stocks) GetStockHandler {
	return GetStockHandler{stocks: wire.Need(stocks, "query: nil stocks")}
}

func (h GetStockHandler) Handle(ctx context.Context, q GetStock) (command.StockLevels, error) {
	if err := inventory.ValidateSKU(q.SKU); err != nil {
		return command.StockLevels{}, err
	}
	s, err := h.stocks.Load(ctx, q.SKU)
	if err != nil {
		return command.StockLevels{}, err
	}
	return command.LevelsOf(s), nil
}
