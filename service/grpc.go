package service

import (
	"context"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/orderflow/orderflow/app"
	"github.com/orderflow/orderflow/handlers/grpcapi"
	"github.com/orderflow/orderflow/internal/tick"
	"github.com/orderflow/orderflow/router"
)

// healthInterval is how often the gRPC health service's statuses are
// refreshed from the readiness check.
const healthInterval = 2 * time.Second

// startGRPC serves the gRPC API on Config.GRPCAddr, when set, beside the
// HTTP server and stopped with it (stageHTTP). Without the api role it serves
// only the health service and reflection, as HTTP then serves only its
// operational endpoints.
func (m *Main) startGRPC(application app.Application, registry *prometheus.Registry, apiKeys []string) error {
	if m.Config.GRPCAddr == "" {
		return nil
	}
	roles := m.Config.roles()
	srv, err := grpcapi.New(application, grpcapi.Config{
		Logger:      m.Logger,
		ReadWait:    m.Config.ReadWait,
		Idempotency: m.idempotencyGuard(),
		APIKeys:     apiKeys,
		KeyReads:    m.Config.HTTP.AuthReads,
		Registerer:  registry,
		OpsOnly:     !roles.Has(router.RoleAPI),
		Tracing:     m.Config.Tracing.Enabled(),
	})
	if err != nil {
		return fmt.Errorf("grpc: %w", err)
	}
	m.grpcLn, err = net.Listen("tcp", m.Config.GRPCAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", m.Config.GRPCAddr, err)
	}
	m.refreshHealth(context.Background(), srv, roles)
	m.start(stageHTTP, &grpcServer{server: srv, listener: m.grpcLn, drain: m.Config.ShutdownTimeout,
		refresh: func(ctx context.Context) bool { m.refreshHealth(ctx, srv, roles); return true }})
	return nil
}

// refreshHealth sets the health service's statuses from one round of
// readiness checks: "" is the process's readiness (/readyz's), each
// "orderflow.role.<role>" the process runs is that role's own (readiness.role:
// api needs the store; forwarder, projections and saga need the store, the
// broker and the router), and the two API services, with the api role,
// follow the api role.
func (m *Main) refreshHealth(ctx context.Context, srv *grpcapi.Server, roles router.Roles) {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	checked := m.checkReadiness(ctx, slices.ContainsFunc(roles, func(r router.Role) bool { return r != router.RoleAPI }))
	srv.SetServing("", checked.process(roles) == nil)
	for _, r := range roles {
		srv.SetServing(roleHealthService(r), checked.role(r) == nil)
	}
	if roles.Has(router.RoleAPI) {
		api := checked.role(router.RoleAPI) == nil
		srv.SetServing(grpcapi.OrderService, api)
		srv.SetServing(grpcapi.InventoryService, api)
	}
}

// roleHealthService is the gRPC health service's name for a role's readiness.
func roleHealthService(r router.Role) string { return "orderflow.role." + string(r) }

// readyTimeout bounds one readiness check of the health service.
const readyTimeout = 5 * time.Second

// GRPCAddr is the address the gRPC server listens on ("" without one).
func (m *Main) GRPCAddr() string {
	if m.grpcLn == nil {
		return ""
	}
	return m.grpcLn.Addr().String()
}

// grpcServer serves the gRPC API until its stage stops, then drains like
// the HTTP server: health NOT_SERVING, every watch ended (clients resume
// elsewhere), the unary calls in flight finished, all within drain.
type grpcServer struct {
	server   *grpcapi.Server
	listener net.Listener
	drain    time.Duration
	refresh  func(ctx context.Context) bool
}

func (s *grpcServer) Run(ctx context.Context) error {
	served := make(chan error, 1)
	go func() { served <- s.server.GRPC.Serve(s.listener) }()
	go tick.Every(ctx, healthInterval, s.refresh)
	select {
	case err := <-served:
		return fmt.Errorf("grpc server: %w", err)
	case <-ctx.Done():
	}
	s.server.Drain()
	stopped := make(chan struct{})
	go func() {
		s.server.GRPC.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(s.drain):
		s.server.GRPC.Stop()
		<-stopped
	}
	if err := <-served; err != nil {
		return fmt.Errorf("grpc server: %w", err)
	}
	return nil
}
