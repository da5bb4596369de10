package router

import (
	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus"
)

// Middlewares exposes the chain of a route with an inbox (the router-wide
// chain and the deduplication middleware) to the black-box tests.
func Middlewares(cfg Reliability, pub message.Publisher, reg prometheus.Registerer, logger watermill.LoggerAdapter) ([]message.HandlerMiddleware, error) {
	return routeMiddlewares(true, cfg, pub, reg, logger)
}
