package service

import (
	"fmt"
	"log/slog"
	"os"
	"syscall"
	"time"

	"github.com/orderflow/orderflow/adapters/paymentbreaker"
	"github.com/orderflow/orderflow/adapters/paymentsandbox"
	"github.com/orderflow/orderflow/adapters/webhook"
	"github.com/orderflow/orderflow/app/saga"
	"github.com/orderflow/orderflow/ports"
	"github.com/prometheus/client_golang/prometheus"
)

// FaultKillAtEnv names the TEST-ONLY crash injection: when set to a saga
// step name (e.g. "reserve_inventory", "authorize_payment", "void_payment"),
// the process sends itself SIGKILL right after that step's state is saved.
// The crash tests use it to prove that every checkout completes or
// compensates after a restart. Never set it in production.
const FaultKillAtEnv = "ORDERFLOW_FAULT_KILL_AT"

func (c *Config) setCheckoutDefaults() {
	if c.CheckoutDeadline == 0 {
		c.CheckoutDeadline = 30 * time.Second
	}
	if c.DeadlineScanInterval == 0 {
		c.DeadlineScanInterval = time.Second
	}
	if c.CheckoutMaxAttempts == 0 {
		c.CheckoutMaxAttempts = 10
	}
	if c.CheckoutRetryBackoff == 0 {
		c.CheckoutRetryBackoff = time.Second
	}
	if c.CheckoutMaxRetryBackoff == 0 {
		c.CheckoutMaxRetryBackoff = 5 * time.Minute
	}
	if c.CheckoutBatchSize == 0 {
		c.CheckoutBatchSize = saga.DefaultBatchSize
	}
	if c.PaymentGateway == "" {
		c.PaymentGateway = "sandbox"
	}
	if c.PaymentBreakerFailures == 0 {
		c.PaymentBreakerFailures = 5
	}
	if c.PaymentBreakerOpenFor == 0 {
		c.PaymentBreakerOpenFor = 30 * time.Second
	}
}

func (c Config) validateCheckout() error {
	switch {
	case c.PaymentGateway != "sandbox":
		return fmt.Errorf("--payment-gateway must be sandbox, not %q", c.PaymentGateway)
	case c.CheckoutDeadline <= 0 || c.DeadlineScanInterval <= 0 || c.CheckoutMaxAttempts <= 0:
		return fmt.Errorf("--checkout-deadline, --deadline-scan-interval and --checkout-max-attempts must be positive")
	case c.CheckoutRetryBackoff <= 0 || c.CheckoutMaxRetryBackoff < c.CheckoutRetryBackoff:
		return fmt.Errorf("--checkout-retry-backoff must be positive and --checkout-max-retry-backoff at least as long")
	case c.CheckoutBatchSize < 1 || c.CheckoutBatchSize > 1024:
		return fmt.Errorf("--checkout-batch-size must be from 1 to 1024, not %d", c.CheckoutBatchSize)
	case c.SagaPartitions < 1 || c.SagaPartitions > 64:
		return fmt.Errorf("--saga-partitions must be from 1 to 64, not %d", c.SagaPartitions)
	case c.SandboxLatency < 0 || c.SandboxLateAfter < 0:
		return fmt.Errorf("--payment-sandbox-latency and --payment-sandbox-late-after must not be negative")
	case c.PaymentBreakerFailures < 1 || c.PaymentBreakerOpenFor <= 0:
		return fmt.Errorf("--payment-breaker-failures must be at least 1 and --payment-breaker-open-for positive")
	case c.WebhookURL != "" && c.WebhookSecret == "":
		return fmt.Errorf("--webhook-secret is required with --webhook-url")
	}
	return nil
}

// notifiers returns the configured notification senders (the webhook).
func notifiers(c Config) ([]ports.Notifier, error) {
	if c.WebhookURL == "" {
		return nil, nil
	}
	n, err := webhook.New(webhook.Config{URL: c.WebhookURL, Secret: c.WebhookSecret})
	if err != nil {
		return nil, err
	}
	return []ports.Notifier{n}, nil
}

// paymentGateway returns the configured provider behind its circuit
// breaker, whose metrics go to reg. The sandbox keeps its state in st's
// database.
func paymentGateway(c Config, st *Adapters, reg prometheus.Registerer) (ports.PaymentGateway, error) {
	late := c.SandboxLateAfter
	if late == 0 {
		late = 2 * c.CheckoutDeadline
	}
	provider := st.paymentSandbox(paymentsandbox.Config{Latency: c.SandboxLatency, LateAfter: late})
	return paymentbreaker.New(paymentbreaker.Config{Name: c.PaymentGateway, Failures: c.PaymentBreakerFailures,
		OpenFor: c.PaymentBreakerOpenFor, Registerer: reg}, provider)
}

// readyInterval is how often a saga process looks for started checkouts
// besides those it starts itself: those another process started, or left
// unfinished when it died.
const readyInterval = 250 * time.Millisecond

// sagaConfig is the saga's configuration, with the test-only crash
// injection of FaultKillAtEnv when it is set.
func sagaConfig(c Config, logger *slog.Logger) saga.Config {
	cfg := saga.Config{Deadline: c.CheckoutDeadline, MaxAttempts: c.CheckoutMaxAttempts,
		RetryBackoff: c.CheckoutRetryBackoff, MaxRetryBackoff: c.CheckoutMaxRetryBackoff, BatchSize: c.CheckoutBatchSize}
	if step := os.Getenv(FaultKillAtEnv); step != "" {
		logger.Warn("TEST-ONLY crash injection is on", "env", FaultKillAtEnv, "step", step)
		cfg.AfterStep = func(done string) {
			if done == step {
				_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
		}
	}
	return cfg
}
