package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/orderflow/orderflow/adapters/broker"
	"github.com/orderflow/orderflow/adapters/prommetrics"
	"github.com/orderflow/orderflow/app"
	"github.com/orderflow/orderflow/app/idempotency"
	"github.com/orderflow/orderflow/app/projection"
	"github.com/orderflow/orderflow/app/saga"
	"github.com/orderflow/orderflow/handlers/eventhandler"
	"github.com/orderflow/orderflow/handlers/httpapi"
	"github.com/orderflow/orderflow/outbox"
	"github.com/orderflow/orderflow/ports"
	"github.com/orderflow/orderflow/router"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Main is the whole service in one value: Run starts it, Close drains and
// stops it. The end-to-end tests run the real thing through it.
type Main struct {
	Config Config
	Logger *slog.Logger

	stack      *Adapters
	router     *router.Router
	listener   net.Listener
	grpcLn     net.Listener
	pprofLn    net.Listener
	closeCache func() error
	// flushTraces flushes and stops the tracer provider (a no-op with
	// tracing off).
	flushTraces func(context.Context) error
	// stages run the long-running components, stopped by Close in the
	// order components.go documents.
	stages [numStages]*stage
	failed chan error
}

// NewMain returns a Main with cfg's defaults applied.
func NewMain(cfg Config) *Main {
	cfg.setDefaults()
	return &Main{Config: cfg, Logger: slog.Default(), failed: make(chan error, 1)}
}

// Run opens the stores, starts the router and the HTTP server, and returns
// once both accept work. Call Close even when Run fails.
func (m *Main) Run(ctx context.Context) error {
	if err := m.Config.Validate(); err != nil {
		return err
	}
	apiKeys, err := m.Config.HTTP.requiredKeys(m.Config.HTTPAddr)
	if err != nil {
		return err
	}
	if m.Config.GRPCAddr != "" && len(apiKeys) == 0 {
		// Beyond loopback the gRPC API needs keys as the HTTP API does.
		if apiKeys, err = m.Config.HTTP.requiredKeys(m.Config.GRPCAddr); err != nil {
			return err
		}
	}
	if m.flushTraces, err = setupTracing(ctx, m.Config, m.Logger); err != nil {
		return err
	}
	st, err := Open(ctx, m.Config, m.Logger)
	if err != nil {
		return err
	}
	m.stack = st
	if st.Broker.Name == broker.Memory {
		m.Logger.Warn("the memory broker is for development only: one process, and messages the outbox already handed over exist only in this process")
	}

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	useCases, err := prommetrics.NewUseCases(registry)
	if err != nil {
		return err
	}
	application, cache, err := m.application(st, registry, useCases)
	if err != nil {
		return err
	}

	roles := m.Config.roles()
	rel, closeRel, err := routerReliability(m.Config, st)
	if err != nil {
		return err
	}
	st.close = joinClose(closeRel, st.close)
	m.router, err = router.New(router.Config{
		Broker:         st.Broker,
		OrderSummary:   st.OrderSummaryProjection().WithCache(cache),
		Registry:       registry,
		Logger:         m.Logger,
		CloseTimeout:   m.Config.ShutdownTimeout,
		Roles:          roles,
		Reliability:    rel,
		Checkout:       application.Checkout,
		SagaPartitions: m.Config.SagaPartitions,
		Notifications:  application.Notifications,

		DuplicateForTests: m.Config.DuplicateMessagesForTests,
	})
	if err != nil {
		return err
	}
	var forwarder *outbox.Forwarder
	if roles.Has(router.RoleForwarder) {
		if forwarder, err = m.newForwarder(registry); err != nil {
			return fmt.Errorf("router: %w", err)
		}
	}
	routerStopped := make(chan struct{})
	m.start(stageRouter, routerRunner{router: m.router, stopped: routerStopped})
	select {
	case <-m.router.Running():
	case err := <-m.failed:
		return fmt.Errorf("router did not start: %w", err)
	case <-ctx.Done():
		return ctx.Err()
	}
	if forwarder != nil {
		// Once the router runs: its handlers have subscribed by then, and a
		// broker without persistence (memory) drops what nobody listens to.
		m.start(stageForwarder, forwarderRunner{forwarder: forwarder, routerStopped: routerStopped})
	}

	m.start(stageLoops, loop(func(ctx context.Context) {
		eventhandler.ScanDeadlines(ctx, application.Checkout, m.Config.DeadlineScanInterval, m.Logger)
	}))
	if roles.Has(router.RoleSaga) && application.Checkout != nil {
		// The checkouts the saga's handler started (and those a process
		// that died left unfinished) run here, as many at a time as a
		// batch holds.
		m.start(stageLoops, loop(func(ctx context.Context) {
			eventhandler.RunCheckouts(ctx, application.Checkout, m.Config.CheckoutBatchSize, readyInterval, m.Logger)
		}))
	}
	cleaner, err := outboxCleaner(m.Config, st, m.Logger)
	if err != nil {
		return err
	}
	m.start(stageLoops, cleaner)
	trimmer, err := brokerTrimmer(m.Config, st, m.Logger, registry)
	if err != nil {
		return err
	}
	if trimmer != nil {
		m.start(stageLoops, trimmer)
	}

	m.listener, err = net.Listen("tcp", m.Config.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", m.Config.HTTPAddr, err)
	}
	server, err := m.httpServer(application, st.Admin(m.Logger, useCases), registry, apiKeys)
	if err != nil {
		return err
	}
	m.start(stageHTTP, &httpServer{server: server, listener: m.listener, drain: m.Config.ShutdownTimeout})
	if err := m.startGRPC(application, registry, apiKeys); err != nil {
		return err
	}
	if err := m.startPprof(); err != nil {
		return err
	}
	m.Logger.Info("orderflow is serving", "http_addr", m.Addr(), "grpc_addr", m.GRPCAddr(), "store", m.Config.StoreName(), "broker", st.Broker.Name, "roles", roles.String())
	return nil
}

// application assembles the use cases on st, with their metrics (useCases,
// and the others in registry) and the read cache the configuration asks for (nil: none).
func (m *Main) application(st *Adapters, registry *prometheus.Registry, useCases *prommetrics.UseCases) (app.Application, ports.OrderCache, error) {
	cache, closeCache, err := openCache(m.Config, registry, m.Logger)
	if err != nil {
		return app.Application{}, nil, err
	}
	m.closeCache = closeCache
	if _, err := prommetrics.NewProjectionLag(registry, st.Checkpoints, projection.OrderSummaryName); err != nil {
		return app.Application{}, nil, err
	}
	if _, err := prommetrics.NewCheckoutsPastDeadline(registry, st.Checkouts, saga.DueStates); err != nil {
		return app.Application{}, nil, err
	}
	if _, err := prommetrics.NewOutboxBacklog(registry, st.outboxBacklog); err != nil {
		return app.Application{}, nil, err
	}
	checkoutMetrics, err := prommetrics.NewCheckouts(registry)
	if err != nil {
		return app.Application{}, nil, err
	}
	events, err := prommetrics.NewEventStore(st.Events, registry)
	if err != nil {
		return app.Application{}, nil, err
	}
	gateway, err := paymentGateway(m.Config, st, registry)
	if err != nil {
		return app.Application{}, nil, err
	}
	sinks, err := notifiers(m.Config)
	if err != nil {
		return app.Application{}, nil, err
	}
	return app.New(app.Deps{Events: events, Orders: st.Orders, Cache: cache, Logger: m.Logger, Metrics: useCases,
		Snapshots: st.Snapshots, SnapshotEvery: m.Config.SnapshotEvery,
		Tx: st.Tx, Checkouts: st.Checkouts, Gateway: gateway, Saga: sagaConfig(m.Config, m.Logger),
		SagaMetrics: checkoutMetrics, Notifications: st.Notifications, Notifiers: sinks}), cache, nil
}

// httpServer is the HTTP API of application and admin (only the operations
// endpoints without the api role), with /metrics from registry.
func (m *Main) httpServer(application app.Application, admin app.Admin, registry *prometheus.Registry, apiKeys []string) (*http.Server, error) {
	roles, st := m.Config.roles(), m.stack
	requests, err := prommetrics.NewHTTPRequests(registry)
	if err != nil {
		return nil, err
	}
	return &http.Server{
		Handler: httpapi.NewHandler(application, httpapi.Config{
			Ready:       m.ready,
			Metrics:     MetricsHandler(registry),
			Requests:    requests,
			Logger:      m.Logger,
			ReadWait:    m.Config.ReadWait,
			OpsOnly:     !roles.Has(router.RoleAPI),
			Idempotency: m.idempotencyGuard(),
			Admin:       admin,
			APIKeys:     apiKeys,
			KeyReads:    m.Config.HTTP.AuthReads,
			Store:       m.Config.StoreName(),
			Broker:      st.Broker.Name,
			Tracing:     m.Config.Tracing.Enabled(),
		}),
		ReadHeaderTimeout: m.Config.HTTP.ReadHeaderTimeout,
		ReadTimeout:       m.Config.HTTP.ReadTimeout,
		WriteTimeout:      m.Config.HTTP.WriteTimeout,
		IdleTimeout:       m.Config.HTTP.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}, nil
}

// MetricsHandler serves registry's metrics at /metrics: OpenMetrics to a
// scraper that asks for it (Accept: application/openmetrics-text, as
// Prometheus does), the only format that carries the latency histograms'
// exemplars (their trace ids); the classic text format otherwise.
func MetricsHandler(registry *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(registry, promhttp.HandlerOpts{Registry: registry, EnableOpenMetrics: true})
}

// Addr is the address the HTTP server listens on (useful with port 0).
func (m *Main) Addr() string {
	if m.listener == nil {
		return ""
	}
	return m.listener.Addr().String()
}

// Adapters are the stores and the broker the service runs on (nil before
// Run opened them): for tests, to look behind the API.
func (m *Main) Adapters() *Adapters { return m.stack }

// Failed delivers an error if a component (the router, the HTTP server...)
// fails on its own.
func (m *Main) Failed() <-chan error { return m.failed }

// fail reports the first failure; later ones are only logged.
func (m *Main) fail(err error) {
	select {
	case m.failed <- err:
	default:
		m.Logger.Error("another failure", "error", err)
	}
}

// Close drains and stops every component in the shutdown order of
// components.go (HTTP requests, then the forwarder, then the handlers, then
// the background loops), then closes the cache and the stores. Everything is
// bounded by Config.ShutdownTimeout.
func (m *Main) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
	defer cancel()
	errs := []error{m.stop(ctx)}
	if m.closeCache != nil {
		if err := m.closeCache(); err != nil {
			errs = append(errs, fmt.Errorf("cache close: %w", err))
		}
	}
	if m.stack != nil {
		if err := m.stack.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if m.flushTraces != nil {
		// Last: the spans of the drain above are exported too.
		if err := m.flushTraces(ctx); err != nil {
			errs = append(errs, fmt.Errorf("tracing: flush: %w", err))
		}
	}
	return errors.Join(errs...)
}

// idempotencyGuard is the Idempotency-Key protocol both APIs run writes
// under, on the store's keys and units of work.
func (m *Main) idempotencyGuard() *idempotency.Guard {
	return idempotency.New(idempotency.Config{Store: m.stack.Idempotency, Tx: m.stack.Tx,
		TTL: m.Config.Reliability.IdempotencyTTL, Logger: m.Logger})
}
