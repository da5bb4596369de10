package grpcapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/idempotency"
	"github.com/orderflow/orderflow/app/meta"
	"github.com/orderflow/orderflow/ports"
)

// errNotStored ends the unit of a call whose answer must not be kept (the
// server's own errors): the unit rolls back and the key is freed.
var errNotStored = errors.New("answer not stored")

// idempotent runs a write at most once per idempotency-key, by HTTP's
// protocol (app/idempotency): the first call's answer (its response, or its
// error unless the error is the server's: internal, unavailable, a deadline,
// a cancel, which free the key for a retry) is kept with a fingerprint of
// the call (method and request, expected_version included), in the same
// transaction as the call's effects: run gets that unit's context and must
// pass it to the use case. A later call with the same key and fingerprint
// gets that answer again, with idempotent-replayed: true in its headers,
// and runs nothing; the same call still in flight is FAILED_PRECONDITION
// (conflict); the key used for another call, in flight or done, is
// INVALID_ARGUMENT naming idempotency-key. Keys are scoped to the API key
// that sent them.
func idempotent[Resp proto.Message](ctx context.Context, s *server, req proto.Message, newResp func() Resp,
	run func(ctx context.Context) (Resp, error)) (Resp, error) {
	var zero Resp
	key := incoming(ctx, mdIdempotencyKey)
	if key == "" || s.idempotency == nil {
		return run(ctx)
	}
	if !meta.ValidID(key) {
		return zero, invalid("idempotency-key must be 1 to 128 letters, digits or . _ : -", mdIdempotencyKey, "not a valid key")
	}
	if scope := keyScope(ctx); scope != "" {
		key = scope + ":" + key
	}
	method, _ := grpc.Method(ctx)
	fp, err := fingerprint(method, req)
	if err != nil {
		return zero, err
	}
	var (
		resp   Resp
		runErr error
	)
	out, err := s.idempotency.Do(ctx, key, fp, func(ctx context.Context) (ports.StoredResponse, error) {
		resp, runErr = run(ctx)
		stored, keep := storedAnswer(ctx, s, method, resp, runErr)
		if !keep {
			return stored, errNotStored
		}
		return stored, nil
	})
	switch {
	case errors.Is(err, idempotency.ErrReused):
		return zero, invalid("this idempotency-key was used for a different call", mdIdempotencyKey, "reused with a different call")
	case errors.Is(err, errNotStored):
		return resp, runErr
	case err != nil:
		return zero, err
	case out.Replayed:
		return replay(ctx, out.Response, newResp)
	}
	return resp, runErr
}

// storedAnswer is the answer as kept: Status 0 and the response, or the gRPC
// code and the google.rpc.Status. keep is false for the server's own errors.
func storedAnswer(ctx context.Context, s *server, method string, resp proto.Message, runErr error) (ports.StoredResponse, bool) {
	if runErr == nil {
		body, err := proto.Marshal(resp)
		return ports.StoredResponse{Body: body}, err == nil
	}
	st := status.Convert(toStatus(ctx, s.logger, method, runErr))
	switch st.Code() {
	case codes.Internal, codes.Unavailable, codes.Unknown, codes.DeadlineExceeded, codes.Canceled, codes.ResourceExhausted:
		return ports.StoredResponse{}, false
	}
	body, err := proto.Marshal(st.Proto())
	return ports.StoredResponse{Status: int(st.Code()), Body: body}, err == nil
}

// replay answers a call with the answer kept for its key.
func replay[Resp proto.Message](ctx context.Context, stored ports.StoredResponse, newResp func() Resp) (Resp, error) {
	var zero Resp
	_ = grpc.SetHeader(ctx, metadata.Pairs(mdReplayed, "true"))
	if stored.Status != 0 {
		var sp spb.Status
		if err := proto.Unmarshal(stored.Body, &sp); err != nil {
			return zero, apperr.Wrap(apperr.Internal, err, "stored answer unreadable")
		}
		return zero, status.FromProto(&sp).Err()
	}
	resp := newResp()
	if err := proto.Unmarshal(stored.Body, resp); err != nil {
		return zero, apperr.Wrap(apperr.Internal, err, "stored answer unreadable")
	}
	return resp, nil
}

// fingerprint identifies what a call asks for: its method and its request,
// marshalled deterministically.
func fingerprint(method string, req proto.Message) (string, error) {
	body, err := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	if err != nil {
		return "", apperr.Wrap(apperr.Internal, err, "fingerprint")
	}
	h := sha256.New()
	h.Write([]byte(method))
	h.Write([]byte{0})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil)), nil
}
