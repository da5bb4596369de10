package service_test

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/service"
)

// --pprof-addr serves the runtime profiles on a listener of its own; the
// API's address does not serve them.
func TestProfilesAreServedOnTheirOwnAddress(t *testing.T) {
	m := service.NewMain(service.Config{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", PprofAddr: "127.0.0.1:0"})
	m.Logger = slog.New(slog.DiscardHandler)
	if err := m.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(body)
	}
	if code, body := get("http://" + m.PprofAddr() + "/debug/pprof/heap?debug=1"); code != http.StatusOK || !strings.Contains(body, "heap profile") {
		t.Fatalf("heap profile: %d %.200s", code, body)
	}
	if code, body := get("http://" + m.PprofAddr() + "/debug/pprof/goroutine?debug=1"); code != http.StatusOK || !strings.Contains(body, "goroutine profile") {
		t.Fatalf("goroutine profile: %d %.200s", code, body)
	}
	if code, _ := get("http://" + m.Addr() + "/debug/pprof/heap?debug=1"); code != http.StatusNotFound {
		t.Fatalf("the API address answered %d for a profile, want 404", code)
	}
}
