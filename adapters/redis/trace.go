package redis

import (
	"context"
	"errors"

	"github.com/orderflow/orderflow/internal/tracing"
	"github.com/orderflow/orderflow/ports"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// The cache's spans, one per call: hand-made, as go-redis's own
// OpenTelemetry instrumentation (redisotel) is not available here. A miss
// is an attribute (cache.hit false), not an error.

func (c *OrderCache) start(ctx context.Context, op, orderID string) (context.Context, trace.Span) {
	return tracing.Start(ctx, "cache."+op, trace.SpanKindClient,
		attribute.String("db.system.name", "redis"), attribute.String("db.operation.name", op),
		attribute.String("orderflow.order.id", orderID))
}

// Get implements ports.OrderCache.
func (c *OrderCache) Get(ctx context.Context, orderID string, atLeast int64) (s ports.OrderSummary, err error) {
	ctx, span := c.start(ctx, "get", orderID)
	defer func() {
		span.SetAttributes(attribute.Bool("cache.hit", err == nil))
		if errors.Is(err, ports.ErrCacheMiss) {
			span.End()
			return
		}
		tracing.End(span, err)
	}()
	return c.get(ctx, orderID, atLeast)
}

// Put implements ports.OrderCache.
func (c *OrderCache) Put(ctx context.Context, s ports.OrderSummary) (err error) {
	ctx, span := c.start(ctx, "put", s.OrderID)
	defer func() { tracing.End(span, err) }()
	return c.put(ctx, s)
}

// Invalidate implements ports.OrderCache.
func (c *OrderCache) Invalidate(ctx context.Context, orderID string) (err error) {
	ctx, span := c.start(ctx, "invalidate", orderID)
	defer func() { tracing.End(span, err) }()
	return c.invalidate(ctx, orderID)
}
