// Package pipelinebench is the end-to-end benchmark of the whole pipeline
// (`orderflow bench`): it runs the service in-process on a fresh store,
// measures the raw append ceiling of that store, then places orders at a
// constant arrival rate over loopback HTTP and measures how many are
// accepted, how many the checkout saga confirms, and the latency from each
// order's intended start to its acceptance and to its confirmation.
//
// The load is an open model: order i is due at start + i/rate whether or not
// earlier requests have finished, and every latency is measured from the
// due time, so a stalled server is charged for the requests it delayed
// (coordinated omission corrected).
package pipelinebench

import (
	"errors"
	"time"

	"github.com/orderflow/orderflow/internal/defaults"
	"github.com/orderflow/orderflow/service"
)

// Config is one run of the benchmark. Zero fields take the defaults of
// setDefaults; the binary binds each to a flag of `orderflow bench`.
type Config struct {
	// Service is the service's configuration: the store (PostgresURL; empty
	// is embedded SQLite), the broker and any other setting. The run
	// replaces the store's location with a fresh one (a new schema in
	// PostgresURL's database, dropped afterwards, or a temporary directory),
	// listens on a free loopback port and gives shared brokers a namespace
	// of their own.
	Service service.Config
	// DevKafka starts an in-process Kafka-protocol broker (kfake) for the
	// run, as cmd/devkafka does, and points the service at it (whatever
	// Service.Broker said).
	DevKafka bool

	SKUs int  // distinct SKUs, each order takes one, round robin
	Hot  bool // every order takes the same SKU (one contended stock stream)

	Rate        int           // orders per second, constant arrival
	Duration    time.Duration // the measured load window
	Warmup      time.Duration // load at the same rate before the window, not measured
	Concurrency int           // the most POSTs in flight

	CeilingDuration time.Duration // the raw append phase (0 with SkipCeiling: none)
	CeilingWorkers  int           // goroutines appending in the ceiling phase
	SkipCeiling     bool

	DrainTimeout time.Duration // how long to wait for the backlog after the load
	PollInterval time.Duration // how often the watcher reads new events

	// Tracing is the service's tracing: "off" (the default), or on with
	// this ratio of traces sampled ("1", "0.01"), exported over OTLP/HTTP
	// to TraceEndpoint or, when it is empty, to an in-process receiver
	// that only counts what it gets.
	Tracing       string
	TraceEndpoint string
}

func (c *Config) setDefaults() {
	defaults.Set(&c.SKUs, 1000)
	defaults.Set(&c.Rate, 50)
	defaults.Set(&c.Duration, 60*time.Second)
	defaults.Set(&c.Concurrency, 64)
	defaults.Set(&c.CeilingDuration, 10*time.Second)
	defaults.Set(&c.CeilingWorkers, 16)
	defaults.Set(&c.DrainTimeout, 3*time.Minute)
	defaults.Set(&c.PollInterval, 20*time.Millisecond)
	if c.DevKafka {
		c.Service.Broker = "kafka"
	}
}

// WithDefaults returns c with every unset field at its default.
func (c Config) WithDefaults() Config {
	c.setDefaults()
	return c
}

// Validate names the flag of each bad setting.
func (c Config) Validate() error {
	var errs []error
	if c.Rate <= 0 {
		errs = append(errs, errors.New("--rate must be positive"))
	}
	if c.Duration <= 0 {
		errs = append(errs, errors.New("--duration must be positive"))
	}
	if c.Warmup < 0 {
		errs = append(errs, errors.New("--warmup must not be negative"))
	}
	if c.SKUs < 1 {
		errs = append(errs, errors.New("--skus must be at least 1"))
	}
	if c.Concurrency < 1 {
		errs = append(errs, errors.New("--concurrency must be at least 1"))
	}
	if _, _, err := tracingRatio(c.Tracing); err != nil {
		errs = append(errs, err)
	}
	if c.CeilingWorkers < 1 {
		errs = append(errs, errors.New("--ceiling-workers must be at least 1"))
	}
	if !c.SkipCeiling && c.CeilingDuration <= 0 {
		errs = append(errs, errors.New("--ceiling-duration must be positive"))
	}
	return errors.Join(errs...)
}

// orders is how many orders the run places (warmup included).
func (c Config) orders() int {
	return int(float64(c.Rate) * (c.Warmup + c.Duration).Seconds())
}

// Flags declares flags, each with its environment variable (the binary's
// flag set).
type Flags interface {
	Str(p *string, name, value, usage string)
	Dur(p *time.Duration, name string, value time.Duration, usage string)
	Int(p *int, name string, value int, usage string)
	Bool(p *bool, name string, value bool, usage string)
}

// Bind declares the benchmark's own flags on f (the service's, store and
// broker, are the binary's).
func (c *Config) Bind(f Flags) {
	def := Config{}.WithDefaults()
	f.Bool(&c.DevKafka, "devkafka", false, "run an in-process Kafka-protocol broker (kfake) for the run and use it (--broker kafka)")
	f.Int(&c.SKUs, "skus", def.SKUs, "distinct SKUs; orders take them round robin, one unit each")
	f.Bool(&c.Hot, "hot", false, "every order takes the same SKU: one contended stock stream")
	f.Int(&c.Rate, "rate", def.Rate, "orders per second, constant arrival (open model: latency counts from each order's due time)")
	f.Dur(&c.Duration, "duration", def.Duration, "the measured load window")
	f.Dur(&c.Warmup, "warmup", 0, "load at the same rate before the measured window, not measured")
	f.Int(&c.Concurrency, "concurrency", def.Concurrency, "the most POSTs in flight; due orders beyond it wait (and count the wait)")
	f.Dur(&c.CeilingDuration, "ceiling-duration", def.CeilingDuration, "how long the raw append ceiling phase appends")
	f.Int(&c.CeilingWorkers, "ceiling-workers", def.CeilingWorkers, "goroutines appending in the ceiling phase")
	f.Bool(&c.SkipCeiling, "skip-ceiling", false, "skip the raw append ceiling phase")
	f.Dur(&c.DrainTimeout, "drain-timeout", def.DrainTimeout, "how long to wait after the load for every accepted order to be confirmed or cancelled")
	f.Dur(&c.PollInterval, "watch-interval", def.PollInterval, "how often the benchmark reads new events to see confirmations")
	f.Str(&c.Tracing, "tracing", TracingOff, "the service's tracing: off, or the ratio of traces sampled (1, 0.01), exported over OTLP/HTTP")
	f.Str(&c.TraceEndpoint, "trace-endpoint", "", "with --tracing: the OTLP/HTTP receiver (e.g. Jaeger's http://127.0.0.1:4318); empty: an in-process receiver that only counts")
}
