package grpcapi

import (
	"context"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
)

// statsHandler is the server span of every call (otelgrpc's stats handler,
// on the global tracer provider and propagator: a traceparent in the
// request metadata makes it a child). Health checks are not traced.
func statsHandler() stats.Handler {
	return otelgrpc.NewServerHandler(otelgrpc.WithFilter(func(info *stats.RPCTagInfo) bool {
		return info.FullMethodName != "/grpc.health.v1.Health/Check" && info.FullMethodName != "/grpc.health.v1.Health/Watch"
	}))
}

// traceHeader sends the call's traceparent in the response header metadata,
// as the HTTP API sends it in a response header, so the caller can open the
// call's trace.
func traceHeader(ctx context.Context) {
	md := metadata.MD{}
	propagation.TraceContext{}.Inject(ctx, metadataCarrier(md))
	if len(md) > 0 {
		_ = grpc.SetHeader(ctx, md) // fails only once headers were sent
	}
}

func traceUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	traceHeader(ctx)
	return next(ctx, req)
}

func traceStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, next grpc.StreamHandler) error {
	md := metadata.MD{}
	propagation.TraceContext{}.Inject(ss.Context(), metadataCarrier(md))
	if len(md) > 0 {
		_ = ss.SetHeader(md)
	}
	return next(srv, ss)
}

// metadataCarrier is gRPC metadata as the propagator's carrier.
type metadataCarrier metadata.MD

func (c metadataCarrier) Get(k string) string {
	if v := metadata.MD(c).Get(k); len(v) > 0 {
		return v[0]
	}
	return ""
}
func (c metadataCarrier) Set(k, v string) { metadata.MD(c).Set(k, v) }
func (c metadataCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}
