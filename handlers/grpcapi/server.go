// Package grpcapi is the inbound gRPC adapter: orderflow.v1's OrderService and
// InventoryService (proto/orderflow/v1, generated into orderflowv1) over the
// application's use cases, the same ones the HTTP API calls, with nothing of
// its own but the mapping; plus the standard health service and server
// reflection. Every call gets a correlation id (x-correlation-id metadata, or
// a new one, echoed in the response headers), API keys are checked as over
// HTTP, idempotency-key metadata makes writes safe to retry, and errors map
// from the application's codes in one table (errors.go).
package grpcapi

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"

	"github.com/orderflow/orderflow/app"
	"github.com/orderflow/orderflow/app/idempotency"
	"github.com/orderflow/orderflow/handlers/grpcapi/orderflowv1"
	"github.com/orderflow/orderflow/internal/apikeys"
)

// MaxRecvBytes bounds a request message, as HTTP bounds a request body (1 MiB).
const MaxRecvBytes = 1 << 20

// MaxSendBytes bounds a response message (a listing of 100 orders, the
// events of a long order).
const MaxSendBytes = 16 << 20

// Config configures the gRPC server.
type Config struct {
	// Logger receives every internal or unavailable error with its cause.
	// Default slog.Default().
	Logger *slog.Logger
	// ReadWait is how long GetOrder with min_version waits for the read model
	// (never past the call's deadline). Default 2s, as over HTTP.
	ReadWait time.Duration
	// Idempotency runs writes made with idempotency-key metadata at most
	// once (HTTP's Guard). Nil: the metadata is ignored.
	Idempotency *idempotency.Guard
	// APIKeys, when not empty, are required on writes, and on reads too with
	// KeyReads. Health and reflection stay open.
	APIKeys  []string
	KeyReads bool
	// Registerer receives the grpc_server_* metrics. Nil: none.
	Registerer prometheus.Registerer
	// OpsOnly serves only the health service and reflection: for a process
	// that runs no API role but is still probed.
	OpsOnly bool
	// WatchBuffer is how many changes WatchOrder holds for a client that has
	// not read them yet before it drops the client (RESOURCE_EXHAUSTED).
	// Default 16.
	WatchBuffer int
	// Tracing puts every call in a server span (otelgrpc) on the global
	// tracer provider, and its traceparent in the response header metadata.
	Tracing bool
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.ReadWait <= 0 {
		c.ReadWait = 2 * time.Second
	}
	if c.WatchBuffer <= 0 {
		c.WatchBuffer = 16
	}
}

// Service names for the health service, besides "" (the whole process).
const (
	OrderService     = "orderflow.v1.OrderService"
	InventoryService = "orderflow.v1.InventoryService"
)

// Server is the gRPC server with its health service. Serve it with
// GRPC.Serve; Drain before GracefulStop.
type Server struct {
	GRPC   *grpc.Server
	health *health.Server
	// stopWatches ends every WatchOrder, which would otherwise hold a
	// graceful stop until its order is terminal.
	stopWatches context.CancelFunc
	codec       *requestCodec
}

// server holds what the services need.
type server struct {
	app         app.Application
	logger      *slog.Logger
	readWait    time.Duration
	idempotency *idempotency.Guard
	apiKeys     apikeys.Set
	keyReads    bool
	watchBuffer int
	// watches ends with Drain.
	watches context.Context
}

// New returns the gRPC API of application. Every service reports NOT_SERVING
// on the health service until SetServing says otherwise.
func New(application app.Application, cfg Config) (*Server, error) {
	cfg.setDefaults()
	watches, stopWatches := context.WithCancel(context.Background())
	s := &server{app: application, logger: cfg.Logger, readWait: cfg.ReadWait,
		idempotency: cfg.Idempotency,
		apiKeys:     apikeys.New(cfg.APIKeys), keyReads: cfg.KeyReads, watchBuffer: cfg.WatchBuffer,
		watches: watches}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		stopWatches()
		return nil, err
	}
	codec := newRequestCodec()
	unary := []grpc.UnaryServerInterceptor{codec.takeUnary, correlateUnary, m.unary, s.recoverUnary, s.authUnary,
		s.statusUnary, refuseUnary}
	streams := []grpc.StreamServerInterceptor{correlateStream, m.stream, s.recoverStream, s.authStream, s.statusStream, codec.refuseStream}
	opts := []grpc.ServerOption{
		grpc.ForceServerCodecV2(codec),
		grpc.MaxRecvMsgSize(MaxRecvBytes),
		grpc.MaxSendMsgSize(MaxSendBytes),
		// Clients may ping to keep a quiet WatchOrder alive through proxies.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	}
	if cfg.Tracing {
		opts = append(opts, grpc.StatsHandler(statsHandler()))
		unary = append([]grpc.UnaryServerInterceptor{traceUnary}, unary...)
		streams = append([]grpc.StreamServerInterceptor{traceStream}, streams...)
	}
	opts = append(opts, grpc.ChainUnaryInterceptor(unary...), grpc.ChainStreamInterceptor(streams...))
	g := grpc.NewServer(opts...)
	h := health.NewServer()
	h.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	if !cfg.OpsOnly {
		orderflowv1.RegisterOrderServiceServer(g, orders{server: s})
		orderflowv1.RegisterInventoryServiceServer(g, inventory{server: s})
		h.SetServingStatus(OrderService, healthpb.HealthCheckResponse_NOT_SERVING)
		h.SetServingStatus(InventoryService, healthpb.HealthCheckResponse_NOT_SERVING)
	}
	healthpb.RegisterHealthServer(g, h)
	reflection.Register(g)
	m.initialize(g)
	return &Server{GRPC: g, health: h, stopWatches: stopWatches, codec: codec}, nil
}

// SetServing reports a service (or "" for the whole process, or a name of
// the caller's such as a role) as serving or not on the health service.
func (s *Server) SetServing(service string, serving bool) {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if serving {
		st = healthpb.HealthCheckResponse_SERVING
	}
	s.health.SetServingStatus(service, st)
}

// Drain starts a graceful stop: every service reports NOT_SERVING from now
// on, and every WatchOrder ends with UNAVAILABLE (the client resumes
// elsewhere from the last version it got). Unary calls in flight go on; call
// GRPC.GracefulStop next.
func (s *Server) Drain() {
	s.health.Shutdown()
	s.stopWatches()
}
