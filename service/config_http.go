package service

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/orderflow/orderflow/internal/defaults"
)

// HTTPConfig holds the HTTP server's timeouts and its API keys.
type HTTPConfig struct {
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	// Auth is "auto" (keys required when listening on a non-loopback
	// address or when keys are given), "keys" or "open".
	Auth string
	// APIKeysFile holds one key per line (# starts a comment); APIKeys is a
	// comma-separated list (env ORDERFLOW_API_KEYS). Both may be used.
	APIKeysFile string
	APIKeys     string
	// AuthReads requires a key on reads as well.
	AuthReads bool
}

func (c *HTTPConfig) setDefaults() {
	defaults.Set(&c.ReadHeaderTimeout, 5*time.Second)
	defaults.Set(&c.ReadTimeout, 30*time.Second)
	defaults.Set(&c.WriteTimeout, 30*time.Second)
	defaults.Set(&c.IdleTimeout, 120*time.Second)
	defaults.Set(&c.Auth, "auto")
}

// keys reads the configured API keys.
func (c HTTPConfig) keys() ([]string, error) {
	var keys []string
	for _, k := range strings.Split(c.APIKeys, ",") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	if c.APIKeysFile != "" {
		b, err := os.ReadFile(c.APIKeysFile)
		if err != nil {
			return nil, fmt.Errorf("--api-keys-file: %w", err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				keys = append(keys, line)
			}
		}
	}
	return keys, nil
}

// requiredKeys returns the keys the API must require (none: open), or an
// error when keys are required but none is configured.
func (c HTTPConfig) requiredKeys(addr string) ([]string, error) {
	keys, err := c.keys()
	if err != nil {
		return nil, err
	}
	keyed := c.Auth == "keys" || (c.Auth == "auto" && (len(keys) > 0 || !isLoopback(addr)))
	if !keyed {
		return nil, nil
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("refusing to start: listening on %s requires API keys (--api-keys-file or ORDERFLOW_API_KEYS), or --auth=open", addr)
	}
	return keys, nil
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Validate reports every bad setting.
func (c HTTPConfig) Validate() error {
	var errs []error
	if c.Auth != "auto" && c.Auth != "keys" && c.Auth != "open" {
		errs = append(errs, fmt.Errorf("--auth must be auto, keys or open, not %q", c.Auth))
	}
	for _, d := range []time.Duration{c.ReadHeaderTimeout, c.ReadTimeout, c.WriteTimeout, c.IdleTimeout} {
		if d <= 0 {
			errs = append(errs, errors.New("HTTP timeouts must be positive"))
			break
		}
	}
	return errors.Join(errs...)
}
