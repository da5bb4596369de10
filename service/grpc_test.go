package service_test

import (
	"strings"
	"testing"

	"github.com/orderflow/orderflow/service"
)

// The gRPC API beyond loopback needs API keys, as the HTTP API does: the
// service refuses to start without them, before it opens anything.
func TestGRPCBeyondLoopbackNeedsAPIKeys(t *testing.T) {
	m := service.NewMain(service.Config{DataDir: t.TempDir(), GRPCAddr: "0.0.0.0:0"})
	defer func() { _ = m.Close() }()
	err := m.Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), "0.0.0.0:0 requires API keys") {
		t.Fatalf("Run: %v", err)
	}
	if m.Adapters() != nil {
		t.Error("stores opened before the refusal")
	}
}
