package prommetrics

import (
	"context"
	"errors"

	"github.com/orderflow/orderflow/ports"
	"github.com/prometheus/client_golang/prometheus"
)

var _ ports.OrderCache = (*OrderCache)(nil)

// OrderCache counts what a ports.OrderCache answers, for the hit ratio:
// orderflow_cache_requests_total{cache,result} with result hit, miss (no
// entry, or one older than the reader has seen) or error (the cache was
// unreachable and the read went to the read model), and
// orderflow_cache_write_errors_total{cache,op} for failed Put and Invalidate.
type OrderCache struct {
	inner         ports.OrderCache
	hit, miss     prometheus.Counter
	getErrors     prometheus.Counter
	putErrors     prometheus.Counter
	invalidErrors prometheus.Counter
}

// NewOrderCache wraps inner and registers its counters on reg, labelled
// cache=name.
func NewOrderCache(inner ports.OrderCache, name string, reg prometheus.Registerer) (*OrderCache, error) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "orderflow", Name: "cache_requests_total",
		Help: "Cache look-ups by result: hit, miss (absent or older than the reader has seen), error (cache unreachable).",
	}, []string{"cache", "result"})
	writeErrors := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "orderflow", Name: "cache_write_errors_total",
		Help: "Cache updates (put) and invalidations that failed.",
	}, []string{"cache", "op"})
	for _, c := range []prometheus.Collector{requests, writeErrors} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return &OrderCache{
		inner:         inner,
		hit:           requests.WithLabelValues(name, "hit"),
		miss:          requests.WithLabelValues(name, "miss"),
		getErrors:     requests.WithLabelValues(name, "error"),
		putErrors:     writeErrors.WithLabelValues(name, "put"),
		invalidErrors: writeErrors.WithLabelValues(name, "invalidate"),
	}, nil
}

func (c *OrderCache) Get(ctx context.Context, orderID string, atLeast int64) (ports.OrderSummary, error) {
	s, err := c.inner.Get(ctx, orderID, atLeast)
	switch {
	case err == nil:
		c.hit.Inc()
	case errors.Is(err, ports.ErrCacheMiss):
		c.miss.Inc()
	default:
		c.getErrors.Inc()
	}
	return s, err
}

func (c *OrderCache) Put(ctx context.Context, s ports.OrderSummary) error {
	err := c.inner.Put(ctx, s)
	if err != nil {
		c.putErrors.Inc()
	}
	return err
}

func (c *OrderCache) Invalidate(ctx context.Context, orderID string) error {
	err := c.inner.Invalidate(ctx, orderID)
	if err != nil {
		c.invalidErrors.Inc()
	}
	return err
}
