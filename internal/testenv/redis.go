package testenv

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// RedisKeyPrefix returns a key prefix no other test uses, after checking
// that the test Redis answers (an unreachable server fails the test). Every
// key under the prefix is deleted when the test ends.
func RedisKeyPrefix(t testing.TB) string {
	t.Helper()
	prefix := "test:" + strings.ToLower(rand.Text()[:13]) + ":"
	opt, err := goredis.ParseURL(RedisURL())
	if err != nil {
		t.Fatalf("testenv: %s: %v", EnvRedisURL, err)
	}
	client := goredis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), postgresTimeout)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		t.Fatalf("testenv: Redis is unreachable at %s (set %s to another server): %v", RedisURL(), EnvRedisURL, err)
	}
	t.Cleanup(func() {
		defer client.Close()
		ctx, cancel := context.WithTimeout(context.Background(), postgresTimeout)
		defer cancel()
		iter := client.Scan(ctx, 0, prefix+"*", 500).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("testenv: scan redis keys %s*: %v", prefix, err)
			return
		}
		if len(keys) > 0 {
			if err := client.Del(ctx, keys...).Err(); err != nil {
				t.Errorf("testenv: delete redis keys %s*: %v", prefix, err)
			}
		}
	})
	return prefix
}
