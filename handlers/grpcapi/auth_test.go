package grpcapi_test

import (
	"testing"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/orderflow/orderflow/handlers/grpcapi"
	pb "github.com/orderflow/orderflow/handlers/grpcapi/orderflowv1"
)

// API keys follow HTTP's rules: writes need one when the service has keys,
// reads only with KeyReads; authorization: Bearer and x-api-key both carry
// it; health stays open.
func TestAPIKeys(t *testing.T) {
	keyed := func(c *grpcapi.Config) { c.APIKeys = []string{"k1", " k2 "} }
	e := newEnv(t, keyed)
	bearer := func(key string) metadata.MD { return metadata.Pairs("authorization", "Bearer "+key) }
	for _, c := range []struct {
		name  string
		md    metadata.MD
		write codes.Code
	}{
		{"no key", nil, codes.Unauthenticated},
		{"wrong key", bearer("nope"), codes.Unauthenticated},
		{"bearer", bearer("k2"), codes.OK},
		{"bearer, any case", metadata.Pairs("authorization", "bEaReR k1"), codes.OK},
		{"x-api-key", metadata.Pairs("x-api-key", "k1"), codes.OK},
	} {
		call := metadata.NewOutgoingContext(ctx(t), c.md)
		_, err := e.stock.SetStock(call, &pb.SetStockRequest{Sku: "S", OnHand: new(int64(1))})
		if got := status.Code(err); got != c.write {
			t.Errorf("%s: write %s, want %s", c.name, got, c.write)
		}
		if _, err := e.stock.GetStock(call, &pb.GetStockRequest{Sku: "S"}); err != nil {
			t.Errorf("%s: read %v", c.name, err)
		}
	}
	_, err := e.stock.SetStock(ctx(t), &pb.SetStockRequest{Sku: "S", OnHand: new(int64(1))})
	info, _, _ := details(wantCode(t, err, codes.Unauthenticated))
	if info.GetReason() != "UNAUTHORIZED" || info.GetMetadata()["correlation_id"] == "" {
		t.Errorf("ErrorInfo %v", info)
	}

	reads := newEnv(t, keyed, func(c *grpcapi.Config) { c.KeyReads = true })
	_, err = reads.stock.GetStock(ctx(t), &pb.GetStockRequest{Sku: "S"})
	wantCode(t, err, codes.Unauthenticated)
	stream, err := reads.orders.WatchOrder(ctx(t), &pb.WatchOrderRequest{OrderId: orderID})
	if err == nil {
		_, err = stream.Recv()
	}
	wantCode(t, err, codes.Unauthenticated)
	reads.server.SetServing("", true)
	h, err := healthpb.NewHealthClient(reads.conn).Check(ctx(t), &healthpb.HealthCheckRequest{})
	if err != nil || h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health without a key: %v, %v", h, err)
	}
}

// The health service reports what SetServing says, each service on its own,
// and NOT_SERVING for all once draining.
func TestHealth(t *testing.T) {
	e := newEnv(t)
	health := healthpb.NewHealthClient(e.conn)
	status := func(service string) healthpb.HealthCheckResponse_ServingStatus {
		res, err := health.Check(ctx(t), &healthpb.HealthCheckRequest{Service: service})
		if err != nil {
			return healthpb.HealthCheckResponse_UNKNOWN
		}
		return res.GetStatus()
	}
	if s := status(grpcapi.OrderService); s != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("before SetServing: %s", s)
	}
	e.server.SetServing(grpcapi.OrderService, true)
	e.server.SetServing("orderflow.role.api", true)
	if s := status(grpcapi.OrderService); s != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("after SetServing: %s", s)
	}
	if s := status("orderflow.role.saga"); s != healthpb.HealthCheckResponse_UNKNOWN {
		t.Errorf("a role not run: %s", s)
	}
	e.server.Drain()
	if s := status("orderflow.role.api"); s != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("draining: %s", s)
	}
}

// Without the api role only health and reflection are served.
func TestOpsOnly(t *testing.T) {
	e := newEnv(t, func(c *grpcapi.Config) { c.OpsOnly = true })
	_, err := e.stock.GetStock(ctx(t), &pb.GetStockRequest{Sku: "S"})
	wantCode(t, err, codes.Unimplemented)
}
