package grpcapi

import (
	"context"
	"strings"
	"time"

	"github.com/orderflow/orderflow/internal/exemplar"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// metrics are the conventional gRPC server metrics (the names
// go-grpc-middleware's Prometheus provider uses, so existing dashboards
// apply): calls started, calls handled by status code, and handling time.
type metrics struct {
	started *prometheus.CounterVec
	handled *prometheus.CounterVec
	seconds *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	labels := []string{"grpc_type", "grpc_service", "grpc_method"}
	m := &metrics{
		started: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "grpc_server_started_total",
			Help: "Total number of RPCs started on the server."}, labels),
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "grpc_server_handled_total",
			Help: "Total number of RPCs completed on the server, regardless of success or failure."},
			append(labels, "grpc_code")),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "grpc_server_handling_seconds",
			Help:    "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
			Buckets: prometheus.DefBuckets}, labels),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.started, m.handled, m.seconds} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// initialize creates every method's series at zero, so that a rate over a
// method never called yet is 0, not absent.
func (m *metrics) initialize(g *grpc.Server) {
	for service, info := range g.GetServiceInfo() {
		for _, method := range info.Methods {
			typ := callType(method.IsClientStream, method.IsServerStream)
			m.started.WithLabelValues(typ, service, method.Name)
			m.seconds.WithLabelValues(typ, service, method.Name)
		}
	}
}

func callType(clientStream, serverStream bool) string {
	switch {
	case clientStream && serverStream:
		return "bidi_stream"
	case clientStream:
		return "client_stream"
	case serverStream:
		return "server_stream"
	}
	return "unary"
}

// observe counts a call of fullMethod ("/pkg.Service/Method") and returns the
// function that records its end.
// The handling time's exemplar is the trace of the call's context, if
// sampled.
func (m *metrics) observe(ctx context.Context, typ, fullMethod string) func(error) {
	service, method, _ := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	m.started.WithLabelValues(typ, service, method).Inc()
	start := time.Now()
	return func(err error) {
		m.handled.WithLabelValues(typ, service, method, status.Code(err).String()).Inc()
		exemplar.Observe(ctx, m.seconds.WithLabelValues(typ, service, method), time.Since(start).Seconds())
	}
}

func (m *metrics) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	done := m.observe(ctx, "unary", info.FullMethod)
	resp, err := next(ctx, req)
	done(err)
	return resp, err
}

func (m *metrics) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, next grpc.StreamHandler) error {
	done := m.observe(ss.Context(), callType(info.IsClientStream, info.IsServerStream), info.FullMethod)
	err := next(srv, ss)
	done(err)
	return err
}
