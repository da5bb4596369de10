// Package decorator wraps every use case once with logging and metrics, so
// handlers stay free of cross-cutting code.
package decorator

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/meta"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Handler is the shape of every command and query handler.
type Handler[C any, R any] interface {
	Handle(ctx context.Context, cmd C) (R, error)
}

// MetricsClient records one use-case execution. outcome is "ok" or the
// apperr code of the error; ctx is the use case's (an implementation may
// take the trace it carries as the observation's exemplar).
type MetricsClient interface {
	ObserveUseCase(ctx context.Context, name, outcome string, elapsed time.Duration)
}

// NopMetrics records nothing.
type NopMetrics struct{}

func (NopMetrics) ObserveUseCase(context.Context, string, string, time.Duration) {}

// Apply wraps h with its span (outermost, so the log line carries its trace
// and span ids), logging and metrics.
func Apply[C any, R any](h Handler[C, R], logger *slog.Logger, metrics MetricsClient) Handler[C, R] {
	if h == nil || logger == nil || metrics == nil {
		panic("decorator: nil handler, logger or metrics")
	}
	name := handlerName(h)
	return tracing[C, R]{base: logging[C, R]{base: metricsDecorator[C, R]{base: h, name: name, client: metrics}, name: name, logger: logger},
		name: "usecase " + name, useCase: name}
}

// tracing runs the use case in a span of its own ("usecase place_order"),
// on OpenTelemetry's global provider: a no-op one unless the process turned
// tracing on. A refusal (an apperr code other than internal or unavailable)
// is the caller's error, not the service's: it is an attribute, and only
// failures set the span's status to Error.
type tracing[C any, R any] struct {
	base          Handler[C, R]
	name, useCase string
}

func (d tracing[C, R]) Handle(ctx context.Context, cmd C) (R, error) {
	ctx, span := otel.Tracer("github.com/orderflow/orderflow/app/decorator").Start(ctx, d.name,
		trace.WithAttributes(attribute.String("orderflow.use_case", d.useCase)))
	defer span.End()
	r, err := d.base.Handle(ctx, cmd)
	switch code := apperr.CodeOf(err); code {
	case "":
	case apperr.Internal, apperr.Unavailable:
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		span.SetAttributes(attribute.String("orderflow.error.code", string(code)))
	default:
		span.SetAttributes(attribute.String("orderflow.error.code", string(code)))
	}
	return r, err
}

type logging[C any, R any] struct {
	base   Handler[C, R]
	name   string
	logger *slog.Logger
}

func (d logging[C, R]) Handle(ctx context.Context, cmd C) (R, error) {
	start := time.Now()
	r, err := d.base.Handle(ctx, cmd)
	attrs := []any{"use_case", d.name, "correlation_id", meta.CorrelationID(ctx), "elapsed", time.Since(start)}
	switch code := apperr.CodeOf(err); code {
	case "":
		d.logger.DebugContext(ctx, "use case done", attrs...)
	case apperr.Internal, apperr.Unavailable:
		d.logger.ErrorContext(ctx, "use case failed", append(attrs, "error", err)...)
	default:
		d.logger.InfoContext(ctx, "use case refused", append(attrs, "code", code, "error", err)...)
	}
	return r, err
}

type metricsDecorator[C any, R any] struct {
	base   Handler[C, R]
	name   string
	client MetricsClient
}

func (d metricsDecorator[C, R]) Handle(ctx context.Context, cmd C) (R, error) {
	start := time.Now()
	r, err := d.base.Handle(ctx, cmd)
	outcome := "ok"
	if err != nil {
		outcome = string(apperr.CodeOf(err))
	}
	d.client.ObserveUseCase(ctx, d.name, outcome, time.Since(start))
	return r, err
}

// handlerName turns "command.placeOrderHandler" into "place_order".
func handlerName(h any) string {
	n := fmt.Sprintf("%T", h)
	n = n[strings.LastIndex(n, ".")+1:]
	n = strings.TrimSuffix(strings.TrimPrefix(n, "*"), "Handler")
	var b strings.Builder
	for i, r := range n {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
