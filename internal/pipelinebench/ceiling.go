package pipelinebench

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/app/domain/order"
	"github.com/orderflow/orderflow/ports"
	"github.com/orderflow/orderflow/service"
)

// CeilingReport is the raw append ceiling: order-placed events appended to
// new streams through the store's own EventStore.Append (the statements
// POST /v1/orders issues, its outbox row included), with nothing else
// running on the store.
type CeilingReport struct {
	Workers       int     `json:"workers"`
	Seconds       float64 `json:"seconds"`
	Appends       int64   `json:"appends"`
	Errors        int64   `json:"errors"`
	AppendsPerSec float64 `json:"appends_per_second"`
}

// ceiling appends for d from workers goroutines to a store of its own (sc
// on a fresh schema or directory, its broker the store's default: the
// append does not depend on the broker). tick is called with the count so
// far, now and then.
func ceiling(ctx context.Context, sc service.Config, workers int, d time.Duration, logger *slog.Logger, tick func(int64)) (_ CeilingReport, err error) {
	sc.Broker, sc.Namespace = "", ""
	st, err := service.Open(ctx, sc, logger)
	if err != nil {
		return CeilingReport{}, fmt.Errorf("ceiling store: %w", err)
	}
	defer func() {
		if cerr := st.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("ceiling store: %w", cerr)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var appends, errs atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				id := uuid.Must(uuid.NewV7()).String()
				e, err := placedEvent(id, time.Now())
				if err != nil {
					errs.Add(1)
					return
				}
				if _, err := st.Events.Append(ctx, ports.Stream{Type: order.AggregateType, ID: id}, ports.NoStream, []ports.NewEvent{e}); err != nil {
					if ctx.Err() == nil {
						errs.Add(1)
					}
					continue
				}
				appends.Add(1)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			tick(appends.Load())
			continue
		case <-done:
		}
		break
	}
	secs := time.Since(start).Seconds()
	r := CeilingReport{Workers: workers, Seconds: secs, Appends: appends.Load(), Errors: errs.Load()}
	r.AppendsPerSec = float64(r.Appends) / secs
	if r.Appends == 0 {
		return r, fmt.Errorf("ceiling: no append succeeded (%d errors)", r.Errors)
	}
	return r, nil
}

// placedEvent is an order-placed event shaped like those the load places:
// one line, the same address and payment method.
func placedEvent(id string, now time.Time) (ports.NewEvent, error) {
	p := order.Placed{OrderID: id, CustomerID: "bench-ceiling", Currency: "EUR",
		Items:           []order.Item{{SKU: skuName(0), Quantity: 1, UnitPrice: unitPrice, LineTotal: unitPrice}},
		ShippingAddress: order.Address{Name: address.Name, Line1: address.Line1, City: address.City, PostalCode: address.PostalCode, Country: address.Country},
		PaymentMethod:   paymentMethod, Total: unitPrice, PlacedAt: now}
	data, err := order.EncodeEvent(p)
	if err != nil {
		return ports.NewEvent{}, err
	}
	return ports.NewEvent{Type: p.EventType(), Data: data, Metadata: ports.EventMetadata{
		EventID: uuid.Must(uuid.NewV7()).String(), CorrelationID: id, CausationID: id, OccurredAt: now}}, nil
}
