package service

import (
	"strings"
	"testing"
)

func TestBrokerConfigValidation(t *testing.T) {
	pg := "postgres://root@127.0.0.1:5432/test"
	for _, tc := range []struct {
		name    string
		cfg     Config
		want    string // "" = valid; else a substring of the error
		resolve string // the broker after defaults
	}{
		{"embedded default", Config{}, "", "sqlite"},
		{"postgres default", Config{PostgresURL: pg}, "", "postgres"},
		{"sqlite needs the embedded store", Config{PostgresURL: pg, BrokerConfig: BrokerConfig{Broker: "sqlite"}}, "--broker sqlite needs the embedded store", "sqlite"},
		{"postgres needs a URL", Config{BrokerConfig: BrokerConfig{Broker: "postgres"}}, "--broker postgres needs --postgres-url", "postgres"},
		{"unknown", Config{BrokerConfig: BrokerConfig{Broker: "kinesis"}}, "--broker must be one of", "kinesis"},
		{"memory on sqlite", Config{BrokerConfig: BrokerConfig{Broker: "memory"}}, "", "memory"},
		{"kafka on postgres", Config{PostgresURL: pg, BrokerConfig: BrokerConfig{Broker: "kafka"}}, "", "kafka"},
		{"bad nats url", Config{BrokerConfig: BrokerConfig{Broker: "nats", NATSURL: "http://x"}}, "--nats-url must be a URL with scheme nats or tls", "nats"},
		{"bad namespace", Config{BrokerConfig: BrokerConfig{Namespace: "a/b"}}, "--broker-namespace may contain only", "sqlite"},
		{"bad amqp url", Config{BrokerConfig: BrokerConfig{Broker: "amqp", AMQPURL: "redis://x"}}, "--amqp-url must be a URL with scheme amqp or amqps", "amqp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.setDefaults()
			if cfg.Broker != tc.resolve {
				t.Errorf("broker %q, want %q", cfg.Broker, tc.resolve)
			}
			err := cfg.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// --saga-partitions defaults by the broker it resolves to: 2 where a
// consumer group takes its messages one at a time (postgres, sqlite), 1
// elsewhere; a value given is kept.
func TestSagaPartitionsDefaultByBroker(t *testing.T) {
	pg := "postgres://root@127.0.0.1:5432/test"
	for _, tc := range []struct {
		cfg  Config
		want int
	}{
		{Config{}, 2},
		{Config{PostgresURL: pg}, 2},
		{Config{PostgresURL: pg, BrokerConfig: BrokerConfig{Broker: "kafka"}}, 1},
		{Config{BrokerConfig: BrokerConfig{Broker: "nats"}}, 1},
		{Config{PostgresURL: pg, SagaPartitions: 1}, 1},
		{Config{BrokerConfig: BrokerConfig{Broker: "kafka"}, SagaPartitions: 4}, 4},
	} {
		cfg := tc.cfg
		cfg.setDefaults()
		if cfg.SagaPartitions != tc.want {
			t.Errorf("%s broker, --saga-partitions %d: resolved %d, want %d", cfg.Broker, tc.cfg.SagaPartitions, cfg.SagaPartitions, tc.want)
		}
	}
}
