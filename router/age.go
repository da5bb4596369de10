package router

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/orderflow/orderflow/internal/eventwire"
	"github.com/prometheus/client_golang/prometheus"
)

// handlerAge is orderflow_router_oldest_unhandled_age_seconds{handler}: per
// handler, how old (since its event was stored) the oldest message it has
// taken and not finished is, read at scrape time, so it grows while a
// handler is stuck on a message or behind; between messages, the age the
// last one had when it finished (small for a handler that keeps up). A
// message without a stored time (not an event) is not counted.
type handlerAge struct {
	mu       sync.Mutex
	inFlight map[string]map[string]time.Time // handler → message uuid → stored at
	last     map[string]float64              // handler → age of its last finished message
	now      func() time.Time
	desc     *prometheus.Desc
}

func newHandlerAge(reg prometheus.Registerer) (*handlerAge, error) {
	a := &handlerAge{inFlight: map[string]map[string]time.Time{}, last: map[string]float64{}, now: time.Now,
		desc: prometheus.NewDesc("orderflow_router_oldest_unhandled_age_seconds",
			"Per handler, the age (since its event was stored) of the oldest message taken and not finished; between messages, the age the last one had when it finished. Grows while a handler is stuck or behind.",
			[]string{"handler"}, nil)}
	if err := reg.Register(a); err != nil {
		// Another router on the same registry: share its collector.
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(*handlerAge); ok {
				return existing, nil
			}
		}
		return nil, fmt.Errorf("router: %w", err)
	}
	return a, nil
}

// Describe implements prometheus.Collector.
func (a *handlerAge) Describe(ch chan<- *prometheus.Desc) { ch <- a.desc }

// Collect implements prometheus.Collector.
func (a *handlerAge) Collect(ch chan<- prometheus.Metric) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	for h, age := range a.ages(now) {
		ch <- prometheus.MustNewConstMetric(a.desc, prometheus.GaugeValue, age, h)
	}
}

// ages is the metric's value per handler at now; a.mu is held.
func (a *handlerAge) ages(now time.Time) map[string]float64 {
	out := make(map[string]float64, len(a.last)+len(a.inFlight))
	for h, v := range a.last {
		out[h] = v
	}
	for h, msgs := range a.inFlight {
		var oldest time.Time
		for _, at := range msgs {
			if oldest.IsZero() || at.Before(oldest) {
				oldest = at
			}
		}
		if !oldest.IsZero() {
			out[h] = max(0, now.Sub(oldest).Seconds())
		}
	}
	return out
}

// middleware tracks every message of every handler.
func (a *handlerAge) middleware(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		handler := handlerName(msg.Context())
		at, err := time.Parse(time.RFC3339Nano, msg.Metadata.Get(eventwire.KeyRecordedAt))
		if handler == "" || err != nil {
			return h(msg)
		}
		a.mu.Lock()
		if a.inFlight[handler] == nil {
			a.inFlight[handler] = map[string]time.Time{}
		}
		a.inFlight[handler][msg.UUID] = at
		a.mu.Unlock()
		defer func() {
			a.mu.Lock()
			defer a.mu.Unlock()
			delete(a.inFlight[handler], msg.UUID)
			a.last[handler] = max(0, a.now().Sub(at).Seconds())
		}()
		return h(msg)
	}
}
