package grpcapi

import (
	"context"
	"fmt"
	"sync"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	protov2 "google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/orderflow/orderflow/app/apperr"
)

// requestCodec is the server's protobuf codec, except for a request it cannot
// decode. grpc-go answers a codec's error itself, as INTERNAL, before any
// interceptor runs (so without the correlation id, the metrics or the API
// key check), while HTTP answers a body it cannot decode as the client's
// error, naming each string that is not valid UTF-8. So Unmarshal keeps the
// error with the request message and succeeds, and the interceptors take it
// back: for a unary call, the outermost takes it (grpc-go decodes a unary
// request before the interceptors, and they may refuse the call for
// something else) and the innermost ends the call with it; a stream's
// handler reads its request through the stream the interceptors wrap, whose
// RecvMsg takes it. The call then ends as with any invalid input.
type requestCodec struct {
	encoding.CodecV2
	mu        sync.Mutex
	undecoded map[any]error // by request message (a pointer)
}

func newRequestCodec() *requestCodec {
	return &requestCodec{CodecV2: encoding.GetCodecV2(proto.Name), undecoded: map[any]error{}}
}

func (c *requestCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.CodecV2.Unmarshal(data, v)
	m, ok := v.(protov2.Message)
	if err == nil || !ok {
		return err
	}
	err = undecodable(data.Materialize(), m.ProtoReflect().Descriptor())
	c.mu.Lock()
	defer c.mu.Unlock()
	c.undecoded[v] = err
	return nil
}

// take returns the error Unmarshal kept for the request req, if any, and
// forgets it.
func (c *requestCodec) take(req any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err, ok := c.undecoded[req]
	if !ok {
		return nil
	}
	delete(c.undecoded, req)
	return err
}

// undecodable is the error for a request that protobuf-go refused: invalid
// naming each string field that is not valid UTF-8 (all of them, with their
// paths as HTTP names them: items[1].sku, shipping_address.city; protobuf-go
// names none), or else invalid for bytes that are no such message.
func undecodable(b []byte, md protoreflect.MessageDescriptor) error {
	var fields []apperr.FieldError
	badUTF8(b, md, "", &fields)
	if len(fields) > 0 {
		return apperr.Validation("the request has invalid fields", fields)
	}
	return apperr.New(apperr.Invalid, "the request is not a valid %s message", md.FullName())
}

// badUTF8 appends to out each string field of b, a message md encoded, that
// is not valid UTF-8, walking embedded messages. It stops where b stops
// being a valid encoding.
func badUTF8(b []byte, md protoreflect.MessageDescriptor, path string, out *[]apperr.FieldError) {
	seen := map[protowire.Number]int{} // elements of each repeated field so far
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return
		}
		b = b[n:]
		fd := md.Fields().ByNumber(num)
		if fd == nil || typ != protowire.BytesType || (fd.Kind() != protoreflect.StringKind && fd.Message() == nil) {
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				return
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return
		}
		b = b[n:]
		name := string(fd.Name())
		if path != "" {
			name = path + "." + name
		}
		if fd.IsList() {
			name = fmt.Sprintf("%s[%d]", name, seen[num])
			seen[num]++
		}
		switch {
		case fd.Kind() == protoreflect.StringKind && !utf8.Valid(v):
			*out = append(*out, apperr.FieldError{Field: name, Message: "must be valid UTF-8"})
		case fd.Message() != nil && !fd.IsMap():
			badUTF8(v, fd.Message(), name, out)
		}
	}
}

// takeUnary, the outermost unary interceptor, takes the error kept for the
// request, whatever the interceptors after it decide (a call refused for its
// API key leaves nothing behind), and refuseUnary, the innermost, ends the
// call with it.
func (c *requestCodec) takeUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	if err := c.take(req); err != nil {
		ctx = context.WithValue(ctx, undecodedCtx{}, err)
	}
	return next(ctx, req)
}

func refuseUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	if err, ok := ctx.Value(undecodedCtx{}).(error); ok {
		return nil, err
	}
	return next(ctx, req)
}

// undecodedCtx carries the error of a unary request that could not be
// decoded.
type undecodedCtx struct{}

// refuseStream makes the stream's RecvMsg fail for a request that could not
// be decoded. A stream's handler reads its request itself, after every other
// interceptor let the call through.
func (c *requestCodec) refuseStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, next grpc.StreamHandler) error {
	return next(srv, refusingStream{ss, c})
}

// refusingStream is a stream whose RecvMsg fails for a request that could
// not be decoded.
type refusingStream struct {
	grpc.ServerStream
	codec *requestCodec
}

func (s refusingStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return s.codec.take(m)
}
