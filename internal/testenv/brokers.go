package testenv

import "os"

// The brokers running on every machine of this project, on loopback.
// Each can be redirected with its variable. Tests sharing them isolate
// themselves with a namespace of their own (topics, streams, groups).
const (
	EnvNATSURL  = "ORDERFLOW_TEST_NATS_URL"
	EnvAMQPURL  = "ORDERFLOW_TEST_AMQP_URL"
	EnvRedisURL = "ORDERFLOW_TEST_REDIS_URL"
)

// NATSURL is the NATS server (JetStream enabled) for tests.
func NATSURL() string { return envOr(EnvNATSURL, "nats://127.0.0.1:4222") }

// AMQPURL is the RabbitMQ server for tests.
func AMQPURL() string { return envOr(EnvAMQPURL, "amqp://guest:guest@127.0.0.1:5672/") }

// RedisURL is the Redis server for tests.
func RedisURL() string { return envOr(EnvRedisURL, "redis://127.0.0.1:6379/0") }

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
