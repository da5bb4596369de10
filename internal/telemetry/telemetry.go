// Package telemetry sets up OpenTelemetry tracing for a process in one place:
// the SDK's tracer provider with an OTLP exporter (gRPC or HTTP/protobuf),
// the sampler, the W3C tracecontext and baggage propagators, all configured
// by the standard OTEL_* environment variables (FromEnv), and the slog
// handler that puts trace_id and span_id on every log line written inside a
// span (LogHandler).
//
// Without an endpoint tracing is off: no provider and no propagator are
// installed, so the global ones stay OpenTelemetry's no-op defaults and every
// span the code starts is a non-recording one, at about the cost of a
// context lookup.
//
// The rest of the code uses the OpenTelemetry API only (otel.Tracer,
// otel.GetTextMapPropagator), never this package: which provider is behind
// the global one is decided here and by tests.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// Protocols of the OTLP exporter (OTEL_EXPORTER_OTLP_PROTOCOL).
const (
	ProtocolGRPC = "grpc"
	ProtocolHTTP = "http/protobuf"
)

// Config is the tracing of one process. The zero value is tracing off.
type Config struct {
	// Endpoint is the OTLP receiver's URL (http://host:4317 for gRPC,
	// http://host:4318 for HTTP/protobuf; a traces endpoint of the HTTP
	// protocol is used as is, with its path). Empty: tracing off.
	Endpoint string
	// Protocol is ProtocolGRPC or ProtocolHTTP (the default, as the OTLP
	// specification has it).
	Protocol string
	// ServiceName is service.name; empty: DefaultServiceName.
	ServiceName string
	// Sampler is OTEL_TRACES_SAMPLER's value; empty: parentbased_always_on.
	Sampler string
	// SamplerArg is the ratio of the traceidratio samplers, 0 to 1.
	// Default 1.
	SamplerArg string
	// Attributes are extra resource attributes (OTEL_RESOURCE_ATTRIBUTES is
	// read by the SDK as well).
	Attributes map[string]string

	// tracesPath: the endpoint came from OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
	// whose path is used as is; the general endpoint gets /v1/traces.
	tracesPath bool
}

// DefaultServiceName is service.name when OTEL_SERVICE_NAME is not set.
const DefaultServiceName = "orderflow"

// Enabled reports whether c exports spans.
func (c Config) Enabled() bool { return c.Endpoint != "" }

// Variables are the standard variables FromEnv reads: the deployment
// manifests' tests accept these beside the binary's own ORDERFLOW_* ones.
var Variables = []string{
	"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER",
	"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT",
	"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL",
	"OTEL_SERVICE_NAME", "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG",
}

// FromEnv reads the standard variables through getenv (os.Getenv):
// OTEL_SDK_DISABLED, OTEL_TRACES_EXPORTER (otlp or none),
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT,
// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or OTEL_EXPORTER_OTLP_PROTOCOL,
// OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG. The
// exporter reads the others it knows itself (headers, timeout, TLS
// certificates, compression), and the batch span processor OTEL_BSP_*.
func FromEnv(getenv func(string) string) Config {
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") || strings.EqualFold(getenv("OTEL_TRACES_EXPORTER"), "none") {
		return Config{}
	}
	c := Config{
		Endpoint:    getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
		Protocol:    getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"),
		ServiceName: getenv("OTEL_SERVICE_NAME"),
		Sampler:     getenv("OTEL_TRACES_SAMPLER"),
		SamplerArg:  getenv("OTEL_TRACES_SAMPLER_ARG"),
	}
	c.tracesPath = c.Endpoint != ""
	if c.Endpoint == "" {
		c.Endpoint = getenv("OTEL_EXPORTER_OTLP_ENDPOINT")
	}
	if c.Protocol == "" {
		c.Protocol = getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	return c
}

// Validate reports settings Setup would refuse.
func (c Config) Validate() error {
	if !c.Enabled() {
		return nil
	}
	var errs []error
	switch c.Protocol {
	case "", ProtocolGRPC, ProtocolHTTP:
	default:
		errs = append(errs, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL must be %s or %s, not %q", ProtocolGRPC, ProtocolHTTP, c.Protocol))
	}
	if !strings.HasPrefix(c.Endpoint, "http://") && !strings.HasPrefix(c.Endpoint, "https://") {
		errs = append(errs, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL, not %q", c.Endpoint))
	}
	if _, err := c.sampler(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// sampler is OTEL_TRACES_SAMPLER's sampler. The parent-based ones (the
// default) follow the caller's decision, carried in the traceparent of a
// request or an event, so one order's trace is kept or dropped whole.
func (c Config) sampler() (sdktrace.Sampler, error) {
	ratio := 1.0
	if c.SamplerArg != "" {
		r, err := strconv.ParseFloat(c.SamplerArg, 64)
		if err != nil || r < 0 || r > 1 {
			return nil, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1, not %q", c.SamplerArg)
		}
		ratio = r
	}
	switch c.Sampler {
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio)), nil
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "traceidratio":
		return sdktrace.TraceIDRatioBased(ratio), nil
	}
	return nil, fmt.Errorf("OTEL_TRACES_SAMPLER must be one of always_on, always_off, traceidratio, "+
		"parentbased_always_on, parentbased_always_off, parentbased_traceidratio; not %q", c.Sampler)
}

// Propagator is the W3C tracecontext and baggage propagator Setup installs.
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// Setup installs c's tracer provider and propagator as OpenTelemetry's
// globals, and returns the function that flushes the spans still buffered
// and stops the exporter (call it at shutdown, with a deadline). With
// tracing off it installs nothing and returns a no-op.
func Setup(ctx context.Context, c Config) (shutdown func(context.Context) error, err error) {
	if !c.Enabled() {
		return func(context.Context) error { return nil }, nil
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	tp, err := NewProvider(ctx, c)
	if err != nil {
		return nil, err
	}
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(Propagator())
	return tp.Shutdown, nil
}

// NewProvider is c's tracer provider, exporting in batches over OTLP. Setup
// installs it; tests and benchmarks may use it directly.
func NewProvider(ctx context.Context, c Config) (*sdktrace.TracerProvider, error) {
	sampler, err := c.sampler()
	if err != nil {
		return nil, err
	}
	exp, err := c.exporter(ctx)
	if err != nil {
		return nil, err
	}
	name := c.ServiceName
	if name == "" {
		name = DefaultServiceName
	}
	kvs := []attribute.KeyValue{semconv.ServiceName(name)}
	for k, v := range c.Attributes {
		kvs = append(kvs, attribute.String(k, v))
	}
	// OTEL_SERVICE_NAME, read by WithFromEnv too, was name's source.
	res, err := resource.New(ctx, resource.WithTelemetrySDK(), resource.WithHost(), resource.WithFromEnv(),
		resource.WithAttributes(kvs...))
	if err != nil && res == nil {
		return nil, fmt.Errorf("tracing resource: %w", err)
	}
	return sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithSampler(sampler),
		sdktrace.WithResource(res),
	), nil
}

func (c Config) exporter(ctx context.Context) (sdktrace.SpanExporter, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	endpoint := c.Endpoint
	if c.Protocol == ProtocolGRPC {
		exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(endpoint))
		if err != nil {
			return nil, fmt.Errorf("OTLP gRPC exporter to %s: %w", endpoint, err)
		}
		return exp, nil
	}
	if !c.tracesPath {
		endpoint = strings.TrimSuffix(endpoint, "/") + "/v1/traces"
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, fmt.Errorf("OTLP HTTP exporter to %s: %w", endpoint, err)
	}
	return exp, nil
}
