package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"

	"github.com/orderflow/orderflow/adapters/broker"
	"github.com/orderflow/orderflow/adapters/prommetrics"
	"github.com/orderflow/orderflow/app"
	"github.com/orderflow/orderflow/app/projection"
	"github.com/orderflow/orderflow/handlers/eventhandler"
	"github.com/orderflow/orderflow/handlers/httpapi"
	"github.com/orderflow/orderflow/outbox"
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

	stack      *stack
	router     *router.Router
	routerDone chan error
	failed     chan error
	server     *http.Server
	listener   net.Listener
	closeCache func() error
	// stopScanner stops the checkout deadline scanner (nil before Run).
	stopScanner func()
	// stopCleanup stops the outbox cleaner (outbox.go).
	stopCleanup func()

	// The outbox forwarder running beside the router (outbox.go).
	fwdMu      sync.Mutex
	fwdStopped bool
	fwdCancel  context.CancelFunc
	fwdDone    chan struct{}
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
	st, err := openStack(ctx, m.Config, m.Logger)
	if err != nil {
		return err
	}
	m.stack = st
	if st.broker.Name == broker.Memory {
		m.Logger.Warn("the memory broker is for development only: one process, and messages the outbox already handed over exist only in this process")
	}

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	useCases, err := prommetrics.NewUseCases(registry)
	if err != nil {
		return err
	}
	cache, closeCache, err := openCache(m.Config, registry, m.Logger)
	if err != nil {
		return err
	}
	m.closeCache = closeCache
	if _, err := prommetrics.NewProjectionLag(registry, st.cps, projection.OrderSummaryName); err != nil {
		return err
	}
	checkoutMetrics, err := prommetrics.NewCheckouts(registry)
	if err != nil {
		return err
	}
	gateway, err := paymentGateway(m.Config, st, registry)
	if err != nil {
		return err
	}
	sinks, err := notifiers(m.Config)
	if err != nil {
		return err
	}
	application := app.New(app.Deps{Events: st.events, Orders: st.orders, Cache: cache, Logger: m.Logger, Metrics: useCases,
		Snapshots: st.snaps, SnapshotEvery: m.Config.SnapshotEvery,
		Checkouts: st.checkouts, Gateway: gateway, Saga: sagaConfig(m.Config, m.Logger),
		SagaMetrics: checkoutMetrics, Notifications: st.notifications, Notifiers: sinks})

	roles := m.Config.roles()
	rel, closeRel, err := routerReliability(m.Config, st)
	if err != nil {
		return err
	}
	st.close = joinClose(closeRel, st.close)
	m.router, err = router.New(router.Config{
		Broker:        st.broker,
		OrderSummary:  orderSummaryProjection(st).WithCache(cache),
		Registry:      registry,
		Logger:        m.Logger,
		CloseTimeout:  m.Config.ShutdownTimeout,
		Roles:         roles,
		Reliability:   rel,
		Checkout:      application.Checkout,
		Notifications: application.Notifications,

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
	m.routerDone = make(chan error, 1)
	go func() {
		// The router gets its own context: shutdown is Close's job, so that
		// HTTP requests drain before handlers stop.
		err := m.router.Run(context.Background())
		// A router that stopped takes the forwarder with it.
		err = errors.Join(err, m.stopForwarding())
		m.routerDone <- err
		if err != nil {
			m.fail(err)
		}
	}()
	select {
	case <-m.router.Running():
	case err := <-m.routerDone:
		m.routerDone <- err
		return fmt.Errorf("router did not start: %w", err)
	case <-ctx.Done():
		return ctx.Err()
	}
	if forwarder != nil {
		m.startForwarding(forwarder)
	}

	m.runScanner(func(ctx context.Context) {
		eventhandler.ScanDeadlines(ctx, application.Checkout, m.Config.DeadlineScanInterval, m.Logger)
	})
	if err := m.startOutboxCleanup(); err != nil {
		return err
	}

	m.listener, err = net.Listen("tcp", m.Config.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", m.Config.HTTPAddr, err)
	}
	m.server = &http.Server{
		Handler: httpapi.NewHandler(application, httpapi.Config{
			Ready:          m.ready,
			Metrics:        promhttp.HandlerFor(registry, promhttp.HandlerOpts{Registry: registry}),
			Logger:         m.Logger,
			ReadWait:       m.Config.ReadWait,
			OpsOnly:        !roles.Has(router.RoleAPI),
			Idempotency:    st.idempotency,
			IdempotencyTTL: m.Config.Reliability.IdempotencyTTL,
			Admin:          st.admin(m.Logger, useCases),
			APIKeys:        apiKeys,
			KeyReads:       m.Config.HTTP.AuthReads,
			Store:          storeName(m.Config),
			Broker:         st.broker.Name,
		}),
		ReadHeaderTimeout: m.Config.HTTP.ReadHeaderTimeout,
		ReadTimeout:       m.Config.HTTP.ReadTimeout,
		WriteTimeout:      m.Config.HTTP.WriteTimeout,
		IdleTimeout:       m.Config.HTTP.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := m.server.Serve(m.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.fail(fmt.Errorf("http server: %w", err))
		}
	}()
	m.Logger.Info("orderflow is serving", "http_addr", m.Addr(), "store", storeName(m.Config), "broker", st.broker.Name, "roles", roles.String())
	return nil
}

// Addr is the address the HTTP server listens on (useful with port 0).
func (m *Main) Addr() string {
	if m.listener == nil {
		return ""
	}
	return m.listener.Addr().String()
}

// Failed delivers an error if the router or the HTTP server stops on its own.
func (m *Main) Failed() <-chan error { return m.failed }

// fail reports the first failure; later ones are only logged.
func (m *Main) fail(err error) {
	select {
	case m.failed <- err:
	default:
		m.Logger.Error("another failure", "error", err)
	}
}

// ready is the readiness check of the roles this process runs: the store
// answers (every role uses it); with the forwarder or projections, the
// broker answers and the router runs. The read cache is not checked: the
// service works without it.
func (m *Main) ready(ctx context.Context) error {
	var errs []error
	if err := m.stack.ping(ctx); err != nil {
		errs = append(errs, fmt.Errorf("store: %w", err))
	}
	roles := m.Config.roles()
	if roles.Has(router.RoleForwarder) || roles.Has(router.RoleProjections) {
		if err := m.stack.broker.Ping(ctx); err != nil {
			errs = append(errs, fmt.Errorf("broker %s: %w", m.stack.broker.Name, err))
		}
		if !m.router.IsRunning() {
			errs = append(errs, fmt.Errorf("router (roles %s): not running", roles))
		}
	}
	return errors.Join(errs...)
}

// Close drains: the HTTP server stops accepting and lets requests in flight
// finish, then the outbox forwarder stops (after the batch in hand), then
// the router stops its handlers (after the message in hand), then the
// cleaner and the scanner stop and the stores close. Everything is bounded
// by Config.ShutdownTimeout.
func (m *Main) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
	defer cancel()
	var errs []error
	if m.server != nil {
		if err := m.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
	}
	if err := m.stopForwarding(); err != nil {
		errs = append(errs, fmt.Errorf("outbox forwarder: %w", err))
	}
	if m.router != nil {
		if err := m.router.Close(); err != nil {
			errs = append(errs, fmt.Errorf("router close: %w", err))
		}
		if m.routerDone != nil {
			select {
			case <-m.routerDone:
			case <-ctx.Done():
				errs = append(errs, errors.New("router did not stop in time"))
			}
		}
	}
	if m.stopCleanup != nil {
		m.stopCleanup()
	}
	if m.stopScanner != nil {
		m.stopScanner()
	}
	if m.closeCache != nil {
		if err := m.closeCache(); err != nil {
			errs = append(errs, fmt.Errorf("cache close: %w", err))
		}
	}
	if m.stack != nil {
		if err := m.stack.close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
