package service

import (
	"log/slog"

	"github.com/orderflow/orderflow/app"
	"github.com/orderflow/orderflow/app/decorator"
	"github.com/orderflow/orderflow/router"
	"github.com/prometheus/client_golang/prometheus"
)

// Admin builds the admin use cases on the adapters: the poison queue
// (requeue through the broker's publisher), the projection rebuild and the
// topic replay.
func (st *Adapters) Admin(logger *slog.Logger, metrics decorator.MetricsClient) app.Admin {
	return app.NewAdmin(app.AdminDeps{Poison: st.Poison, Republisher: router.PoisonRepublisher{Publisher: st.Broker.Publisher},
		Events: st.Events, Orders: st.Orders, Shadow: st.Shadow, Checkpoints: st.Checkpoints,
		Replayer: st.TopicReplayer(logger), Checkouts: st.Checkouts, Logger: logger, Metrics: metrics})
}

// TopicReplayer feeds the broker's topics through one handler's route and
// middleware (the ports.TopicReplayer of the ReplayTopic use case). Its
// middleware parks permanent failures in the same poison queue as the live
// router, and deduplicates nothing: re-handling what was handled is the
// point, and every handler is idempotent.
func (st *Adapters) TopicReplayer(logger *slog.Logger) router.TopicReplayer {
	cfg := router.Config{Broker: st.Broker, OrderSummary: st.OrderSummaryProjection(), Logger: logger,
		Registry: prometheus.NewRegistry(), Reliability: router.Reliability{Poison: st.Poison}}
	return router.TopicReplayer{Config: cfg, Source: st.Broker.Replay}
}
