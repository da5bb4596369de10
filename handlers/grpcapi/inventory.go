package grpcapi

import (
	"context"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/query"
	pb "github.com/orderflow/orderflow/handlers/grpcapi/orderflowv1"
)

// inventory is InventoryService.
type inventory struct {
	*server
	// Every method is implemented; this is what generated servers must embed.
	pb.UnimplementedInventoryServiceServer
}

var _ pb.InventoryServiceServer = inventory{}

// SetStock sets a SKU's on-hand stock and answers the levels after it.
func (s inventory) SetStock(ctx context.Context, req *pb.SetStockRequest) (*pb.SetStockResponse, error) {
	return idempotent(ctx, s.server, req, func() *pb.SetStockResponse { return &pb.SetStockResponse{} },
		func(ctx context.Context) (*pb.SetStockResponse, error) {
			if req.OnHand == nil {
				return nil, apperr.Validation("invalid stock", []apperr.FieldError{{Field: "on_hand", Message: "is required"}})
			}
			levels, err := s.app.Commands.SetStock.Handle(ctx, command.SetStock{SKU: req.GetSku(), OnHand: req.GetOnHand()})
			if err != nil {
				return nil, err
			}
			return &pb.SetStockResponse{Stock: stockOf(levels)}, nil
		})
}

// GetStock answers a SKU's levels (all zero for a SKU never stocked).
func (s inventory) GetStock(ctx context.Context, req *pb.GetStockRequest) (*pb.GetStockResponse, error) {
	levels, err := s.app.Queries.GetStock.Handle(ctx, query.GetStock{SKU: req.GetSku()})
	if err != nil {
		return nil, err
	}
	return &pb.GetStockResponse{Stock: stockOf(levels)}, nil
}
