// Package loadtest sizes a deployment: it drives a running orderflow service
// through its public API only (`orderflow loadtest`), at a constant arrival
// rate or in steps of rising rates (an open model, coordinated omission
// corrected: every latency counts from the request's intended send time), or
// from a fixed number of clients (a closed model), with a realistic mix of
// orders, and says which rates the service sustains.
//
// What it measures: accept latency (POST /v1/orders to its 201) and
// place→confirmed latency (the intended send time to the moment a read of the
// order shows it confirmed), accepted and confirmed rates, errors by status,
// and the backlog (accepted, not yet confirmed or cancelled) once a second.
// It writes a text summary and a self-contained HTML report.
package loadtest

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/orderflow/orderflow/internal/defaults"
	"github.com/orderflow/orderflow/internal/loadgen"
)

// Config is one loadtest run. Zero fields take setDefaults' values; the
// binary binds each to a flag of `orderflow loadtest`.
type Config struct {
	// Target is the service's base URL (http://127.0.0.1:8080). Only
	// loopback addresses are accepted unless AllowRemote is set: a load test
	// aimed at the wrong host is an outage.
	Target      string
	AllowRemote bool
	APIKey      string // sent as Authorization: Bearer, when set

	// The open model: Rate orders/s for Duration, or Steps (each at its rate
	// for StepDuration) when Steps is set. Count, when > 0, stops after that
	// many orders whatever the schedule says.
	Rate         float64
	Duration     time.Duration
	Steps        []float64
	StepDuration time.Duration
	Count        int
	MaxInFlight  int // the most POSTs in flight; due orders beyond it wait, and count the wait
	// Concurrency > 0 selects the closed model instead: that many clients
	// each placing orders back to back for Duration.
	Concurrency int

	Mix Mix

	Pollers      int           // the most confirmation reads in flight
	DrainTimeout time.Duration // how long to wait for confirmations after the load
	Criteria     Criteria
	Seed         uint64 // the mix's random source; 0 picks one
	RunID        string // names this run's SKUs and customers; empty picks one
}

func (c *Config) setDefaults() {
	defaults.Set(&c.Target, "http://127.0.0.1:8080")
	defaults.Set(&c.Rate, 50)
	defaults.Set(&c.Duration, 30*time.Second)
	defaults.Set(&c.StepDuration, 20*time.Second)
	defaults.Set(&c.MaxInFlight, 256)
	defaults.Set(&c.Pollers, 64)
	defaults.Set(&c.DrainTimeout, time.Minute)
	c.Mix.setDefaults()
	c.Criteria.setDefaults()
}

// WithDefaults returns c with every unset field at its default.
func (c Config) WithDefaults() Config {
	c.setDefaults()
	return c
}

// Validate names the flag of each bad setting.
func (c Config) Validate() error {
	var errs []error
	if err := checkTarget(c.Target, c.AllowRemote); err != nil {
		errs = append(errs, err)
	}
	if c.Rate <= 0 {
		errs = append(errs, errors.New("--rate must be positive"))
	}
	// The backlog's growth is fitted to the samples (one a second) of a
	// step's second half: a step needs two there.
	if c.Duration < minStep {
		errs = append(errs, fmt.Errorf("--duration must be at least %s", minStep))
	}
	if c.StepDuration < minStep {
		errs = append(errs, fmt.Errorf("--step-duration must be at least %s", minStep))
	}
	for _, r := range c.Steps {
		if r <= 0 {
			errs = append(errs, fmt.Errorf("--steps: rate %g must be positive", r))
		}
	}
	if c.Count < 0 {
		errs = append(errs, errors.New("--count must not be negative"))
	}
	if c.Concurrency < 0 {
		errs = append(errs, errors.New("--concurrency must not be negative"))
	}
	if c.Concurrency > 0 && len(c.Steps) > 0 {
		errs = append(errs, errors.New("--steps is the open model; --concurrency the closed one: give one"))
	}
	if c.MaxInFlight < 1 || c.Pollers < 1 {
		errs = append(errs, errors.New("--max-in-flight and --pollers must be at least 1"))
	}
	if c.DrainTimeout < 0 {
		errs = append(errs, errors.New("--drain-timeout must not be negative"))
	}
	return errors.Join(append(errs, c.Mix.validate(), c.Criteria.validate())...)
}

// minStep is the shortest step (or --duration) the verdict can judge.
const minStep = 2 * time.Second

// checkTarget accepts an http(s) URL whose host is a loopback address (an
// IP, or a name that resolves to loopback addresses only), any host with
// allowRemote.
func checkTarget(target string, allowRemote bool) error {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--target %q: want an http(s) URL such as http://127.0.0.1:8080", target)
	}
	if allowRemote {
		return nil
	}
	host := u.Hostname()
	ips := []net.IP{net.ParseIP(host)}
	if ips[0] == nil {
		addrs, err := net.LookupIP(host)
		if err != nil {
			return fmt.Errorf("--target %q: %w", target, err)
		}
		ips = addrs
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("--target %q is not a loopback address: give --allow-remote to load another host", target)
		}
	}
	return nil
}

// ParseSteps reads --steps: rates per second separated by commas.
func ParseSteps(s string) ([]float64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []float64
	for part := range strings.SplitSeq(s, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil {
			return nil, fmt.Errorf("--steps: %q is not a rate", part)
		}
		out = append(out, r)
	}
	return out, nil
}

// steps is the open model's schedule of rates.
func (c Config) steps() []loadgen.Step {
	if len(c.Steps) == 0 {
		return []loadgen.Step{{Rate: c.Rate, Duration: c.Duration}}
	}
	out := make([]loadgen.Step, len(c.Steps))
	for i, r := range c.Steps {
		out[i] = loadgen.Step{Rate: r, Duration: c.StepDuration}
	}
	return out
}

// planned is how many orders the run places at most (the closed model's
// figure assumes it reaches the first step's rate; it sizes stock only).
func (c Config) planned() int {
	n := 0
	for _, s := range c.steps() {
		n += int(s.Rate*s.Duration.Seconds()) + 1
	}
	if c.Count > 0 {
		n = min(n, c.Count)
		if c.Concurrency > 0 {
			n = c.Count
		}
	}
	return n
}

// Flags declares flags, each with its environment variable (the binary's
// flag set).
type Flags interface {
	Str(p *string, name, value, usage string)
	Dur(p *time.Duration, name string, value time.Duration, usage string)
	Int(p *int, name string, value int, usage string)
	Bool(p *bool, name string, value bool, usage string)
	Float(p *float64, name string, value float64, usage string)
}

// Bind declares the loadtest's flags on f; steps receives --steps as
// written, for ParseSteps.
func (c *Config) Bind(f Flags, steps *string) {
	def := Config{}.WithDefaults()
	def.Mix, def.Criteria = DefaultMix(), DefaultCriteria()
	f.Str(&c.Target, "target", def.Target, "base URL of the running service; only loopback unless --allow-remote")
	f.Bool(&c.AllowRemote, "allow-remote", false, "allow a --target that is not a loopback address")
	f.Str(&c.APIKey, "api-key", "", "API key, sent as Authorization: Bearer, for a service that has keys")
	f.Float(&c.Rate, "rate", def.Rate, "orders per second, constant arrival (open model; latency counts from each order's intended send time)")
	f.Dur(&c.Duration, "duration", def.Duration, "how long the load runs at --rate (closed model: how long the clients run)")
	f.Str(steps, "steps", "", "rates per second, one step each (e.g. 50,100,200), instead of --rate: finds the highest sustainable rate")
	f.Dur(&c.StepDuration, "step-duration", def.StepDuration, "how long each of --steps runs")
	f.Int(&c.Count, "count", 0, "stop after this many orders (0: when the schedule ends)")
	f.Int(&c.MaxInFlight, "max-in-flight", def.MaxInFlight, "the most POSTs in flight; due orders beyond it wait, and the wait counts")
	f.Int(&c.Concurrency, "concurrency", 0, "closed model: this many clients placing orders back to back for --duration, instead of a rate")
	f.Int(&c.Pollers, "pollers", def.Pollers, "the most confirmation reads (GET ?min_version=2) in flight")
	f.Dur(&c.DrainTimeout, "drain-timeout", def.DrainTimeout, "how long to wait after the load for accepted orders to be confirmed or cancelled (timed-out payments settle at the service's --checkout-deadline, 30 s by default)")
	f.Int(&c.Mix.SKUs, "skus", def.Mix.SKUs, "distinct SKUs, named with a prefix unique to the run; stock is set for each first")
	f.Float(&c.Mix.ZipfS, "zipf-s", def.Mix.ZipfS, "skew of SKU popularity (Zipf exponent, > 1; larger is more skewed)")
	f.Int(&c.Mix.MaxItems, "max-items", def.Mix.MaxItems, "the most order lines (distinct SKUs) in an order; each order has 1 to this many")
	f.Float(&c.Mix.Declined, "declined", def.Mix.Declined, "share of orders paid with a card the sandbox declines (tok_chargeDeclined)")
	f.Float(&c.Mix.TimedOut, "timed-out", def.Mix.TimedOut, "share of orders paid with a card the sandbox answers too late (tok_timeout: cancelled at the checkout deadline)")
	f.Float(&c.Mix.Cancel, "cancel", def.Mix.Cancel, "share of confirmed orders the loadtest then cancels")
	f.Float(&c.Mix.Ship, "ship", def.Mix.Ship, "share of confirmed orders the loadtest then ships and delivers")
	f.Float(&c.Criteria.MinConfirmedShare, "min-confirmed-share", def.Criteria.MinConfirmedShare, "sustainable: orders settled in a step at least this share of those offered")
	f.Dur(&c.Criteria.MaxP99, "max-p99", def.Criteria.MaxP99, "sustainable: place→confirmed p99 of a step's orders at most this")
	f.Float(&c.Criteria.MaxErrorShare, "max-error-share", def.Criteria.MaxErrorShare, "sustainable: failed POSTs at most this share of a step's")
	f.Float(&c.Criteria.MaxBacklogGrowth, "max-backlog-growth", def.Criteria.MaxBacklogGrowth, "sustainable: backlog growth over a step's second half at most this share of the offered rate")
}
