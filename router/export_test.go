package router

import (
	"context"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus"
)

// Middlewares exposes the chain of a route with an inbox (the router-wide
// chain and the deduplication middleware), as the router delivers to it,
// to the black-box tests.
func Middlewares(cfg Reliability, pub message.Publisher, reg prometheus.Registerer, logger watermill.LoggerAdapter) ([]message.HandlerMiddleware, error) {
	chain, _, err := Route(cfg, pub, reg, logger, "", "", nil)
	return chain, err
}

// Route is Middlewares and, when cfg has a retry queue, a function that
// runs its retrier for the route name (consuming topic, handled by h) until
// ctx ends.
func Route(cfg Reliability, pub message.Publisher, reg prometheus.Registerer, logger watermill.LoggerAdapter,
	name, topic string, h message.NoPublishHandlerFunc) ([]message.HandlerMiddleware, func(ctx context.Context), error) {
	m, err := newReliabilityMetrics(reg)
	if err != nil {
		return nil, nil, err
	}
	chain, err := m.routeMiddlewares(true, cfg, pub, logger, redeliver)
	if err != nil || cfg.Retries == nil {
		return chain, nil, err
	}
	r, err := newRetrier(cfg, []route{{name: name, topic: topic, handler: h, inbox: true}}, m, pub, reg, logger)
	if err != nil {
		return nil, nil, err
	}
	return chain, r.run, nil
}
