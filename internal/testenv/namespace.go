package testenv

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
)

// BrokerNamespace returns a broker namespace (topic and consumer-group
// prefix, see broker.Broker.WithNamespace) no other test uses, so tests
// sharing the machine's NATS, RabbitMQ and Redis never see each other's
// messages. When the test ends it deletes the JetStream streams (with their
// consumers) and Redis streams under the namespace. RabbitMQ exchanges and
// queues stay: AMQP cannot list them without the management plugin; they
// are empty once the test consumed its messages.
func BrokerNamespace(t testing.TB) string {
	t.Helper()
	ns := "test-" + strings.ToLower(rand.Text()[:10]) + "."
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		deleteNATSStreams(ctx, t, strings.ReplaceAll(ns, ".", "_"))
		deleteRedisKeys(ctx, t, ns)
	})
	return ns
}

func deleteNATSStreams(ctx context.Context, t testing.TB, prefix string) {
	nc, err := nats.Connect(NATSURL())
	if err != nil {
		t.Logf("testenv: NATS cleanup skipped: %v", err)
		return
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Logf("testenv: NATS cleanup skipped: %v", err)
		return
	}
	names := js.StreamNames(ctx)
	var doomed []string
	for name := range names.Name() {
		if strings.HasPrefix(name, prefix) {
			doomed = append(doomed, name)
		}
	}
	for _, name := range doomed {
		if err := js.DeleteStream(ctx, name); err != nil {
			t.Logf("testenv: delete NATS stream %s: %v", name, err)
		}
	}
}

func deleteRedisKeys(ctx context.Context, t testing.TB, prefix string) {
	opts, err := redis.ParseURL(RedisURL())
	if err != nil {
		t.Logf("testenv: Redis cleanup skipped: %v", err)
		return
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	iter := rdb.Scan(ctx, 0, prefix+"*", 100).Iterator()
	for iter.Next(ctx) {
		if err := rdb.Del(ctx, iter.Val()).Err(); err != nil {
			t.Logf("testenv: delete Redis key %s: %v", iter.Val(), err)
		}
	}
	if err := iter.Err(); err != nil {
		t.Logf("testenv: Redis cleanup: %v", err)
	}
}
