package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	pb "github.com/orderflow/orderflow/handlers/grpcapi/orderflowv1"
	"github.com/orderflow/orderflow/service"
)

// grpcBinary is the real binary serving gRPC beside HTTP on the embedded
// store, with the API key "k1".
type grpcBinary struct {
	*storeBinary
	grpcAddr string
	proc     *process
}

func startGRPCBinary(t *testing.T) *grpcBinary {
	t.Helper()
	addr := freeAddr(t)
	b := newStoreBinary(t, mustBuildBinary(t), service.Config{DataDir: t.TempDir()},
		"ORDERFLOW_GRPC_ADDR="+addr, "ORDERFLOW_API_KEYS=k1")
	return &grpcBinary{storeBinary: b, grpcAddr: addr, proc: b.start(t)}
}

// grpcurlPath is grpcurl as pinned in tools/go.mod, built once (go tool -n
// builds it into the build cache and prints where).
var grpcurlPath = sync.OnceValues(func() (string, error) {
	cmd := exec.Command("go", "tool", "-modfile=tools/go.mod", "-n", "grpcurl")
	cmd.Dir = ".."
	out, err := cmd.Output()
	return strings.TrimSpace(string(out)), err
})

// grpcurl runs grpcurl against the binary (plaintext, through reflection)
// with args, and returns its output and whether it exited 0.
func (b *grpcBinary) grpcurl(t *testing.T, args ...string) (string, bool) {
	t.Helper()
	bin, err := grpcurlPath()
	if err != nil {
		t.Fatalf("grpcurl: %v", err)
	}
	args = append(append([]string{"-plaintext", "-format-error"}, args[:len(args)-1]...), b.grpcAddr, args[len(args)-1])
	var out bytes.Buffer
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	return out.String(), err == nil
}

const placeJSON = `{"customer_id":"cust-42","currency":"EUR",
 "items":[{"sku":"SKU-RED-MUG","quantity":2,"unit_price":1250}],
 "shipping_address":{"name":"Ada Lovelace","line1":"12 Analytical St","city":"London","postal_code":"N1 9GU","country":"GB"},
 "payment_method":"tok_visa"}`

// grpcurl, a client nobody here wrote, drives the API through reflection:
// stock, place, get, a validation error with its field violations, a call
// without its API key, health.
func TestGRPCWithGrpcurl(t *testing.T) {
	b := startGRPCBinary(t)
	auth := []string{"-H", "authorization: Bearer k1"}
	if out, ok := b.grpcurl(t, "list"); !ok || !strings.Contains(out, "orderflow.v1.OrderService") ||
		!strings.Contains(out, "grpc.health.v1.Health") {
		t.Fatalf("list: %s", out)
	}
	if out, ok := b.grpcurl(t, append(auth, "-d", `{"sku":"SKU-RED-MUG","on_hand":10}`, "orderflow.v1.InventoryService/SetStock")...); !ok {
		t.Fatalf("SetStock: %s", out)
	}
	out, ok := b.grpcurl(t, append(auth, "-d", placeJSON, "orderflow.v1.OrderService/PlaceOrder")...)
	var placed struct {
		OrderID string `json:"orderId"`
		Status  string `json:"status"`
		Total   struct {
			Amount string `json:"amount"`
		} `json:"total"`
	}
	if !ok || json.Unmarshal([]byte(out), &placed) != nil || placed.Status != "placed" || placed.Total.Amount != "2500" {
		t.Fatalf("PlaceOrder: %s", out)
	}
	out, ok = b.grpcurl(t, "-d", `{"order_id":"`+placed.OrderID+`","min_version":2}`, "orderflow.v1.OrderService/GetOrder")
	if !ok || !strings.Contains(out, `"status": "confirmed"`) {
		t.Fatalf("GetOrder: %s", out)
	}

	bad := strings.Replace(placeJSON, `"quantity":2`, `"quantity":0`, 1)
	out, ok = b.grpcurl(t, append(auth, "-d", bad, "orderflow.v1.OrderService/PlaceOrder")...)
	var st struct {
		Code    int `json:"code"`
		Details []struct {
			Type       string `json:"@type"`
			Violations []struct {
				Field string `json:"field"`
			} `json:"fieldViolations"`
			Metadata map[string]string `json:"metadata"`
		} `json:"details"`
	}
	if ok || json.Unmarshal([]byte(out), &st) != nil || st.Code != 3 {
		t.Fatalf("invalid PlaceOrder: %s", out)
	}
	var fields []string
	correlated := false
	for _, d := range st.Details {
		for _, v := range d.Violations {
			fields = append(fields, v.Field)
		}
		correlated = correlated || d.Metadata["correlation_id"] != ""
	}
	if strings.Join(fields, ",") != "items[0].quantity" || !correlated {
		t.Errorf("violations %v, correlation id %v: %s", fields, correlated, out)
	}

	out, ok = b.grpcurl(t, "-d", placeJSON, "orderflow.v1.OrderService/PlaceOrder")
	if ok || !strings.Contains(out, `"code": 16`) || !strings.Contains(out, "API key") {
		t.Errorf("PlaceOrder without a key: %s", out)
	}

	for _, service := range []string{"", "orderflow.v1.OrderService", "orderflow.role.saga"} {
		out, ok = b.grpcurl(t, "-d", `{"service":"`+service+`"}`, "grpc.health.v1.Health/Check")
		if !ok || !strings.Contains(out, "SERVING") || strings.Contains(out, "NOT_SERVING") {
			t.Errorf("health %q: %s", service, out)
		}
	}
}

// grpcClient is a generated Go client connected to the binary, with the API key.
func (b *grpcBinary) client(t *testing.T) (pb.OrderServiceClient, pb.InventoryServiceClient) {
	t.Helper()
	conn, err := grpc.NewClient(b.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return pb.NewOrderServiceClient(conn), pb.NewInventoryServiceClient(conn)
}

func authorized(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer k1")
}
