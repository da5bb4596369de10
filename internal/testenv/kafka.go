package testenv

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

// KafkaPartitions is the partition count of topics the test cluster creates
// on its own (auto-creation); orderflow creates its topics with its own
// --kafka-partitions.
const KafkaPartitions = 3

// Kafka starts an in-process Kafka-protocol broker (franz-go's kfake) on a
// free loopback port and returns its bootstrap addresses. Topics are created
// on first use. It stops when the test ends; register cleanups that use it
// (closing clients) after calling Kafka, so they run first.
func Kafka(t testing.TB) []string {
	t.Helper()
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(KafkaPartitions),
	)
	if err != nil {
		t.Fatalf("testenv: start kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}
