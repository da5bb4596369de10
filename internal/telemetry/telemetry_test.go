package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/internal/telemetry"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFromEnv(t *testing.T) {
	if c := telemetry.FromEnv(env(nil)); c.Enabled() {
		t.Fatalf("no endpoint: %+v is enabled", c)
	}
	c := telemetry.FromEnv(env(map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4317",
		"OTEL_TRACES_SAMPLER":                "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.01",
	}))
	if !c.Enabled() || c.Endpoint != "http://127.0.0.1:4317" || c.Protocol != telemetry.ProtocolGRPC || c.Validate() != nil {
		t.Fatalf("config %+v (validate: %v)", c, c.Validate())
	}
	if c := telemetry.FromEnv(env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4318", "OTEL_SDK_DISABLED": "true"})); c.Enabled() {
		t.Fatal("OTEL_SDK_DISABLED=true left tracing on")
	}
	for _, bad := range []map[string]string{
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "x:4318"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4318", "OTEL_TRACES_SAMPLER": "sometimes"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4318", "OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"},
	} {
		if err := telemetry.FromEnv(env(bad)).Validate(); err == nil {
			t.Errorf("%v: valid", bad)
		}
	}
}

// Variables lists exactly what FromEnv reads (the manifests' tests rely on
// it): every name asked for is listed, and every listed name is asked for.
func TestVariablesAreWhatFromEnvReads(t *testing.T) {
	asked := map[string]bool{}
	telemetry.FromEnv(func(k string) string {
		asked[k] = true
		return "" // every branch that reads on reads the next variable
	})
	for _, v := range telemetry.Variables {
		if !asked[v] {
			t.Errorf("Variables lists %s, which FromEnv does not read", v)
		}
		delete(asked, v)
	}
	for k := range asked {
		t.Errorf("FromEnv reads %s, which Variables does not list", k)
	}
}

func TestSetupOffInstallsNothing(t *testing.T) {
	flush, err := telemetry.Setup(context.Background(), telemetry.Config{})
	if err != nil || flush(context.Background()) != nil {
		t.Fatalf("setup off: %v", err)
	}
}

// Every line logged with a span's context carries its ids; others none.
func TestLogHandlerAddsTraceIDs(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(telemetry.LogHandler(slog.NewJSONHandler(&buf, nil))).With("component", "test")
	tp := sdktrace.NewTracerProvider()
	defer func() { _ = tp.Shutdown(context.Background()) }()
	ctx, span := tp.Tracer("test").Start(context.Background(), "work")
	logger.InfoContext(ctx, "inside")
	span.End()
	logger.Info("outside")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("log: %q", buf.String())
	}
	var in, out map[string]any
	if json.Unmarshal([]byte(lines[0]), &in) != nil || json.Unmarshal([]byte(lines[1]), &out) != nil {
		t.Fatalf("log: %q", buf.String())
	}
	sc := span.SpanContext()
	if in["trace_id"] != sc.TraceID().String() || in["span_id"] != sc.SpanID().String() || in["component"] != "test" {
		t.Fatalf("line inside the span: %v, want trace_id %s span_id %s", in, sc.TraceID(), sc.SpanID())
	}
	if _, ok := out["trace_id"]; ok {
		t.Fatalf("line outside any span: %v", out)
	}
}
