package grpcapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/meta"
	"github.com/orderflow/orderflow/ports"
)

// idempotencyLock is how long a call holds its key against concurrent
// retries; a process that dies mid-call frees its keys after it.
const idempotencyLock = time.Minute

// idempotent runs a write at most once per idempotency-key, with HTTP's
// semantics: the first call's answer (its response, or its error unless the
// error is the server's: internal, unavailable, a deadline, a cancel, which
// release the key for a retry) is kept with a fingerprint of the call (method
// and request, expected_version included); a later call with the same key
// and fingerprint gets that answer again, with idempotent-replayed: true in
// its headers, and runs nothing; a key still in flight is FAILED_PRECONDITION
// (conflict); the key reused for another call is INVALID_ARGUMENT naming
// idempotency-key. Keys are scoped to the API key that sent them. run gets
// the scoped key ("" without idempotency-key metadata).
func idempotent[Resp proto.Message](ctx context.Context, s *server, req proto.Message, newResp func() Resp,
	run func(scopedKey string) (Resp, error)) (Resp, error) {
	var zero Resp
	key := incoming(ctx, mdIdempotencyKey)
	if key == "" || s.idempotency == nil {
		return run("")
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
	rec, reserved, err := s.idempotency.Reserve(ctx, key, fp, idempotencyLock, s.idempotencyTTL)
	if err != nil {
		return zero, err
	}
	if !reserved {
		return replay(ctx, rec, fp, newResp)
	}
	resp, runErr := run(key)
	// The client may be gone; the bookkeeping must still happen.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	stored, keep := storedAnswer(ctx, s, method, resp, runErr)
	if keep {
		err = s.idempotency.Complete(sctx, key, stored)
	} else {
		err = s.idempotency.Release(sctx, key)
	}
	if err != nil {
		s.logger.ErrorContext(sctx, "idempotency key not stored", "key", key, "error", err)
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

// replay answers a call whose key is known.
func replay[Resp proto.Message](ctx context.Context, rec ports.IdempotencyRecord, fp string, newResp func() Resp) (Resp, error) {
	var zero Resp
	switch {
	case rec.Response == nil:
		return zero, apperr.New(apperr.Conflict, "a call with this idempotency-key is still in progress; retry later")
	case rec.Fingerprint != fp:
		return zero, invalid("this idempotency-key was used for a different call", mdIdempotencyKey, "reused with a different call")
	}
	_ = grpc.SetHeader(ctx, metadata.Pairs(mdReplayed, "true"))
	if rec.Response.Status != 0 {
		var sp spb.Status
		if err := proto.Unmarshal(rec.Response.Body, &sp); err != nil {
			return zero, apperr.Wrap(apperr.Internal, err, "stored answer unreadable")
		}
		return zero, status.FromProto(&sp).Err()
	}
	resp := newResp()
	if err := proto.Unmarshal(rec.Response.Body, resp); err != nil {
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
