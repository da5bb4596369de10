package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/orderflow/orderflow/service"
)

// BenchmarkPlaceOrder measures POST /v1/orders end to end on the real
// service: HTTP decoding, validation, the event append and its outbox row in
// one transaction, on each store. Run with: make bench.
func BenchmarkPlaceOrder(b *testing.B) {
	eachStore(b, func(b *testing.B, cfg service.Config) {
		_, base := startMain(b, cfg)
		body, _ := json.Marshal(newOrder("bench"))
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				res, err := client.Post(base+"/v1/orders", "application/json", bytes.NewReader(body))
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusCreated {
					b.Errorf("status %d", res.StatusCode)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
	})
}
