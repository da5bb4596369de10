package main

import (
	"strings"
	"testing"
	"time"
)

func TestBrokerFlagsAndEnvironment(t *testing.T) {
	t.Setenv("ORDERFLOW_BROKER", "nats")
	t.Setenv("ORDERFLOW_KAFKA_PARTITIONS", "12")
	cfg, err := parseConfig("serve", []string{"--nats-url", "nats://10.0.0.1:4222", "--broker-namespace", "staging."}, true, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Broker != "nats" || cfg.NATSURL != "nats://10.0.0.1:4222" || cfg.KafkaPartitions != 12 || cfg.Namespace != "staging." {
		t.Fatalf("parsed %+v", cfg.BrokerConfig)
	}
}

func TestCheckoutBackoffFlagsAndEnvironment(t *testing.T) {
	t.Setenv("ORDERFLOW_CHECKOUT_RETRY_BACKOFF", "3s")
	cfg, err := parseConfig("serve", []string{"--checkout-max-retry-backoff", "2m"}, true, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CheckoutRetryBackoff != 3*time.Second || cfg.CheckoutMaxRetryBackoff != 2*time.Minute {
		t.Fatalf("parsed backoff %v to %v, want 3s to 2m", cfg.CheckoutRetryBackoff, cfg.CheckoutMaxRetryBackoff)
	}
	if _, err := parseConfig("serve", []string{"--checkout-retry-backoff", "1m", "--checkout-max-retry-backoff", "1s"}, true, &strings.Builder{}); err == nil {
		t.Fatal("a maximum backoff shorter than the first was accepted")
	}
}
