package redisinbox_test

import (
	"context"
	"os"
	"testing"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/adapters/redisinbox"
	"github.com/orderflow/orderflow/ports"
	"github.com/orderflow/orderflow/ports/porttest"
	goredis "github.com/redis/go-redis/v9"
)

// redisAddr is the Redis every machine of the project runs.
func redisAddr() string {
	if a := os.Getenv("ORDERFLOW_TEST_REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

func TestInboxContract(t *testing.T) {
	porttest.RunDedupStore(t, func(t *testing.T) ports.DedupStore {
		client := goredis.NewClient(&goredis.Options{Addr: redisAddr()})
		prefix := "orderflow-test:" + uuid.NewString() + ":"
		t.Cleanup(func() {
			ctx := context.Background() // t.Context() is already cancelled in cleanups
			iter := client.Scan(ctx, 0, prefix+"*", 100).Iterator()
			for iter.Next(ctx) {
				client.Del(ctx, iter.Val())
			}
			if err := client.Close(); err != nil {
				t.Error(err)
			}
		})
		if err := client.Ping(t.Context()).Err(); err != nil {
			t.Fatalf("Redis is unreachable at %s: %v", redisAddr(), err)
		}
		return redisinbox.New(client, prefix)
	})
}
