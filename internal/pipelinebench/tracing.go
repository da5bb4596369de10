package pipelinebench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/orderflow/orderflow/internal/telemetry"
)

// Tracing modes of a run (Config.Tracing): off, or on with this ratio of
// traces sampled (parent-based, as a deployment would run it).
const TracingOff = "off"

// tracingRatio parses Config.Tracing: "off" (or empty), or a ratio from 0
// to 1 ("1" is every trace, "0.01" one in a hundred).
func tracingRatio(s string) (ratio float64, on bool, err error) {
	if s == "" || s == TracingOff {
		return 0, false, nil
	}
	r, err := strconv.ParseFloat(s, 64)
	if err != nil || r < 0 || r > 1 {
		return 0, false, fmt.Errorf("--tracing must be off or a sampling ratio from 0 to 1, not %q", s)
	}
	return r, true, nil
}

// otlpSink is an OTLP/HTTP traces receiver on loopback that answers every
// export with success and keeps only counts: the cost the benchmark
// measures is the service's (spans, the batch processor, the protobuf
// encoding and the HTTP export), not a trace store's.
type otlpSink struct {
	srv             *http.Server
	ln              net.Listener
	requests, bytes atomic.Int64
}

func startSink() (*otlpSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &otlpSink{ln: ln}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		s.requests.Add(1)
		s.bytes.Add(n)
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK) // an empty ExportTraceServiceResponse
	})
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *otlpSink) endpoint() string { return "http://" + s.ln.Addr().String() }

func (s *otlpSink) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// tracingConfig is the service's tracing for cfg: off, or on at the ratio,
// exporting over OTLP/HTTP to cfg.TraceEndpoint or, without one, to an
// in-process sink (returned, to report what it received; nil otherwise).
func (e *env) tracingConfig(cfg Config) (telemetry.Config, *otlpSink, error) {
	ratio, on, err := tracingRatio(cfg.Tracing)
	if err != nil || !on {
		return telemetry.Config{}, nil, err
	}
	tc := telemetry.Config{Protocol: telemetry.ProtocolHTTP, ServiceName: "orderflow-bench",
		Sampler: "parentbased_traceidratio", SamplerArg: strconv.FormatFloat(ratio, 'f', -1, 64), Endpoint: cfg.TraceEndpoint}
	if tc.Endpoint != "" {
		return tc, nil, nil
	}
	sink, err := startSink()
	if err != nil {
		return tc, nil, err
	}
	e.defer_(sink.close)
	tc.Endpoint = sink.endpoint()
	return tc, sink, nil
}
