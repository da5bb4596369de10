package main

import (
	"strings"
	"testing"
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
