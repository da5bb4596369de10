package grpcapi_test

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/orderflow/orderflow/handlers/grpcapi"
)

// rawCodec sends a request's bytes as they are and receives the response's
// as they are: protobuf-go's Marshal refuses a string that is not valid
// UTF-8, so the requests that carry one are written by hand with protowire.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *v.(*[]byte), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*v.(*[]byte) = slices.Clone(data)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// str is a string field, msg an embedded message field, both on the wire.
func str(num protowire.Number, s string) []byte {
	return protowire.AppendString(protowire.AppendTag(nil, num, protowire.BytesType), s)
}

func msg(num protowire.Number, fields ...[]byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), slices.Concat(fields...))
}

// invoke sends raw as the request of a unary method.
func (e *env) invoke(t *testing.T, md metadata.MD, method string, raw []byte) error {
	var resp []byte
	call := metadata.NewOutgoingContext(ctx(t), md)
	return e.conn.Invoke(call, method, &raw, &resp, grpc.ForceCodec(rawCodec{}))
}

// A request whose strings are not valid UTF-8 is refused as HTTP refuses
// such a body: INVALID_ARGUMENT naming every such field by its path, with the
// details every error carries, counted in the metrics, after the API key
// check, and without running a use case. Bytes that are no protobuf message
// are INVALID_ARGUMENT too. The size limit still comes first.
func TestUndecodableRequests(t *testing.T) {
	const place = "/orderflow.v1.OrderService/PlaceOrder"
	bad := "\xffbad"
	e := newEnv(t)
	for _, c := range []struct {
		name   string
		method string
		raw    []byte
		fields []string
	}{
		{"customer_id", place, slices.Concat(str(1, bad), str(2, "EUR")), []string{"customer_id"}},
		{"nested and repeated", place, slices.Concat(str(1, "c"),
			msg(3, str(1, "S1")), msg(3, str(1, bad)), msg(4, str(1, "A"), str(4, bad)), str(5, bad)),
			[]string{"items[1].sku", "shipping_address.city", "payment_method"}},
		{"not protobuf", place, []byte{0xff, 0xff, 0xff}, nil},
		{"a read", "/orderflow.v1.InventoryService/GetStock", str(1, bad), []string{"sku"}},
	} {
		err := e.invoke(t, metadata.Pairs("x-correlation-id", "corr-1"), c.method, c.raw)
		st := wantCode(t, err, codes.InvalidArgument)
		info, req, br := details(st)
		if info.GetReason() != "INVALID" || info.GetMetadata()["correlation_id"] != "corr-1" || req.GetRequestId() != "corr-1" {
			t.Errorf("%s: details %v, %v", c.name, info, req)
		}
		var fields []string
		for _, v := range br.GetFieldViolations() {
			fields = append(fields, v.GetField())
			if v.GetDescription() != "must be valid UTF-8" {
				t.Errorf("%s: violation %v", c.name, v)
			}
		}
		if !slices.Equal(fields, c.fields) {
			t.Errorf("%s: fields %v, want %v (%s)", c.name, fields, c.fields, st.Message())
		}
	}
	if n := len(e.app.place.Calls()) + len(e.app.getStock.Calls()); n != 0 {
		t.Errorf("%d use case calls", n)
	}
	if n := handled(t, e, "PlaceOrder", "InvalidArgument"); n != 3 {
		t.Errorf("PlaceOrder InvalidArgument handled %v times, want 3", n)
	}

	// A server stream: the request is read inside the stream's handler.
	stream, err := e.conn.NewStream(ctx(t), &grpc.StreamDesc{ServerStreams: true},
		"/orderflow.v1.OrderService/WatchOrder", grpc.ForceCodec(rawCodec{}))
	if err != nil {
		t.Fatal(err)
	}
	raw := str(1, bad)
	if err := stream.SendMsg(&raw); err != nil {
		t.Fatal(err)
	}
	_ = stream.CloseSend()
	var resp []byte
	_, _, br := details(wantCode(t, stream.RecvMsg(&resp), codes.InvalidArgument))
	if v := br.GetFieldViolations(); len(v) != 1 || v[0].GetField() != "order_id" {
		t.Errorf("WatchOrder violations %v", v)
	}
	if n := len(e.app.watch.Calls()); n != 0 {
		t.Errorf("%d watches", n)
	}

	// Over the size limit: RESOURCE_EXHAUSTED, whatever the bytes hold.
	err = e.invoke(t, nil, place, str(1, bad+strings.Repeat("x", grpcapi.MaxRecvBytes)))
	wantCode(t, err, codes.ResourceExhausted)

	// A write without its API key is refused for that first, as over HTTP.
	keyed := newEnv(t, func(c *grpcapi.Config) { c.APIKeys = []string{"k1"} })
	wantCode(t, keyed.invoke(t, nil, place, str(1, bad)), codes.Unauthenticated)
	wantCode(t, keyed.invoke(t, metadata.Pairs("x-api-key", "k1"), place, str(1, bad)), codes.InvalidArgument)
	if n := grpcapi.Undecoded(e.server) + grpcapi.Undecoded(keyed.server); n != 0 {
		t.Errorf("%d refused requests still held", n)
	}
}
