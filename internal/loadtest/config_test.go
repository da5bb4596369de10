package loadtest

import (
	"strings"
	"testing"
	"time"
)

func TestTargetMustBeLoopbackUnlessAllowed(t *testing.T) {
	for _, c := range []struct {
		target string
		remote bool
		want   string // empty: accepted
	}{
		{"http://127.0.0.1:8080", false, ""},
		{"http://[::1]:8080", false, ""},
		{"http://localhost:8080", false, ""},
		{"https://127.0.0.2", false, ""},
		{"http://10.1.2.3:8080", false, "not a loopback address"},
		{"http://10.1.2.3:8080", true, ""},
		{"http://orders.invalid:8080", false, "orders.invalid"}, // does not resolve
		{"ftp://127.0.0.1", false, "want an http(s) URL"},
		{"127.0.0.1:8080", false, "want an http(s) URL"},
		{"http://", true, "want an http(s) URL"},
		{"http://[::1", false, "want an http(s) URL"},
	} {
		err := checkTarget(c.target, c.remote)
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("checkTarget(%q, allowRemote %v) = %v, want %q", c.target, c.remote, err, c.want)
		}
	}
}

func TestParseSteps(t *testing.T) {
	got, err := ParseSteps(" 50, 100,200.5 ")
	if err != nil || len(got) != 3 || got[0] != 50 || got[1] != 100 || got[2] != 200.5 {
		t.Errorf("ParseSteps = %v, %v", got, err)
	}
	if got, err := ParseSteps(""); got != nil || err != nil {
		t.Errorf("empty: %v, %v", got, err)
	}
	if _, err := ParseSteps("50,,100"); err == nil || !strings.Contains(err.Error(), "--steps") {
		t.Errorf("an empty step: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{}.WithDefaults()
	if err := ok.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, c := range []struct {
		change func(*Config)
		want   string
	}{
		{func(c *Config) { c.Target = "http://192.0.2.1" }, "--target"},
		{func(c *Config) { c.Rate = -1 }, "--rate"},
		{func(c *Config) { c.Duration = -time.Second }, "--duration"},
		{func(c *Config) { c.StepDuration = -time.Second }, "--step-duration"},
		{func(c *Config) { c.Steps = []float64{10, 0} }, "--steps: rate 0"},
		{func(c *Config) { c.Count = -1 }, "--count"},
		{func(c *Config) { c.Concurrency = -1 }, "--concurrency must not"},
		{func(c *Config) { c.Concurrency, c.Steps = 2, []float64{10} }, "give one"},
		{func(c *Config) { c.Pollers = 0 }, "--pollers"},
		{func(c *Config) { c.DrainTimeout = -1 }, "--drain-timeout"},
		{func(c *Config) { c.Mix.SKUs = 0 }, "--skus"},
		{func(c *Config) { c.Criteria.MaxP99 = -1 }, "--max-p99"},
	} {
		cfg := ok
		c.change(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want an error naming %s, got %v", c.want, err)
		}
	}
}

func TestPlanned(t *testing.T) {
	c := Config{Steps: []float64{10, 20}, StepDuration: 2 * time.Second}.WithDefaults()
	if got := c.planned(); got != 62 {
		t.Errorf("10/s and 20/s for 2 s each: planned %d, want 62", got)
	}
	c.Count = 5
	if got := c.planned(); got != 5 {
		t.Errorf("--count 5: planned %d", got)
	}
	c = Config{Concurrency: 4, Count: 500}.WithDefaults()
	if got := c.planned(); got != 500 {
		t.Errorf("closed, --count 500: planned %d", got)
	}
}
