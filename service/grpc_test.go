package service_test

import (
	"log/slog"
	"net"
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

// An address already in use fails the start, naming it.
func TestGRPCAddressInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	m := service.NewMain(service.Config{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", GRPCAddr: busy.Addr().String()})
	m.Logger = slog.New(slog.DiscardHandler)
	err = m.Run(t.Context())
	if closeErr := m.Close(); closeErr != nil {
		t.Errorf("close: %v", closeErr)
	}
	if err == nil || !strings.Contains(err.Error(), "listen on "+busy.Addr().String()) {
		t.Fatalf("Run: %v", err)
	}
}
