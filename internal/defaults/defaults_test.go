package defaults_test

import (
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/defaults"
)

func TestSetFillsOnlyZeroValues(t *testing.T) {
	var cfg struct {
		Addr    string
		Timeout time.Duration
		Size    int
	}
	cfg.Size = 7
	defaults.Set(&cfg.Addr, "127.0.0.1:8080")
	defaults.Set(&cfg.Timeout, 5*time.Second)
	defaults.Set(&cfg.Size, 100)
	if cfg.Addr != "127.0.0.1:8080" || cfg.Timeout != 5*time.Second || cfg.Size != 7 {
		t.Fatalf("got %+v", cfg)
	}
}
