package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/orderflow/orderflow/handlers/grpcapi/orderflowv1"
	"github.com/orderflow/orderflow/service"
)

// BenchmarkGRPCvsHTTP places and reads orders over gRPC and over HTTP on one
// in-process service (the embedded store), in one run, 2 parallel clients
// per protocol, so the two protocols share the machine's state:
//
//	go test -run '^$' -bench GRPCvsHTTP -benchtime 5s ./e2e/
func BenchmarkGRPCvsHTTP(b *testing.B) {
	cfg := withoutSaga(service.Config{DataDir: b.TempDir(), GRPCAddr: "127.0.0.1:0"})
	m, base := startMain(b, cfg)
	conn, err := grpc.NewClient(m.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	orders := pb.NewOrderServiceClient(conn)
	place := &pb.PlaceOrderRequest{CustomerId: "bench", Currency: "EUR",
		Items:           []*pb.Item{{Sku: "SKU-1", Quantity: 1, UnitPrice: 1250}},
		ShippingAddress: &pb.Address{Name: "A", Line1: "B", City: "C", PostalCode: "1", Country: "DE"},
		PaymentMethod:   "tok_visa"}
	body, _ := json.Marshal(newOrder("bench"))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	first, err := orders.PlaceOrder(b.Context(), place)
	if err != nil {
		b.Fatal(err)
	}
	id := first.GetOrderId()
	if _, err := orders.GetOrder(b.Context(), &pb.GetOrderRequest{OrderId: id, MinVersion: 1}); err != nil {
		b.Fatal(err) // min_version waits for the projection
	}
	run := func(b *testing.B, op func() error) {
		b.ReportAllocs()
		b.SetParallelism(1) // GOMAXPROCS clients: 2 on the project's machines
		b.ResetTimer()
		b.RunParallel(func(p *testing.PB) {
			for p.Next() {
				if err := op(); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
	}
	httpDo := func(req *http.Request, want int) error {
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != want {
			return &statusError{res.StatusCode}
		}
		return nil
	}
	b.Run("place/grpc", func(b *testing.B) {
		run(b, func() error { _, err := orders.PlaceOrder(b.Context(), place); return err })
	})
	b.Run("place/http", func(b *testing.B) {
		run(b, func() error {
			req, _ := http.NewRequest(http.MethodPost, base+"/v1/orders", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			return httpDo(req, http.StatusCreated)
		})
	})
	b.Run("get/grpc", func(b *testing.B) {
		run(b, func() error {
			_, err := orders.GetOrder(b.Context(), &pb.GetOrderRequest{OrderId: id})
			return err
		})
	})
	b.Run("get/http", func(b *testing.B) {
		run(b, func() error {
			req, _ := http.NewRequest(http.MethodGet, base+"/v1/orders/"+id, nil)
			return httpDo(req, http.StatusOK)
		})
	})
}

type statusError struct{ status int }

func (e *statusError) Error() string { return http.StatusText(e.status) }
