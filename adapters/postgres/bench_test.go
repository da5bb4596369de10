package postgres_test

import (
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/ports"
)

// BenchmarkAppend measures appends that start a new stream: the events
// insert and their outbox rows, in one transaction. Building the events
// (UUIDs, JSON) is included; it is small next to the round trips.
func BenchmarkAppend(b *testing.B) {
	for _, size := range []int{1, 10} {
		b.Run(fmt.Sprintf("events=%d", size), func(b *testing.B) {
			store, _ := newEventStore(b)
			for b.Loop() {
				stream := ports.Stream{Type: "order", ID: uuid.NewString()}
				if _, err := store.Append(b.Context(), stream, ports.NoStream, newEvents(size)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
