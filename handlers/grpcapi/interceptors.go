package grpcapi

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/meta"
	"github.com/orderflow/orderflow/internal/apikeys"
)

// Metadata keys this API reads and sends (gRPC metadata keys are lower case).
const (
	mdCorrelationID  = "x-correlation-id"
	mdRequestID      = "x-request-id"
	mdAuthorization  = "authorization"
	mdAPIKey         = "x-api-key"
	mdIdempotencyKey = "idempotency-key"
	mdReplayed       = "idempotent-replayed"
)

// The interceptors run outermost first: the taking of a decoding error
// (decode.go), correlation ids, metrics, panic recovery, API keys, the
// mapping of errors to statuses, then the refusal of a request that could
// not be decoded, so that every refusal (a missing key included) carries the
// correlation id and counts in the metrics under its final code, and a
// missing key is refused before a bad request, as over HTTP.

// incoming is the value of a metadata key of the call, or "".
func incoming(ctx context.Context, key string) string {
	if vs := metadata.ValueFromIncomingContext(ctx, key); len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// correlate puts the call's correlation id (x-correlation-id, or a new
// UUIDv7) and request id (x-request-id, or new; the causation id of what the
// call causes) in ctx and sends both back as response headers. Ids that are
// not plausible (meta.ValidID) are replaced.
func correlate(ctx context.Context) context.Context {
	correlationID, requestID := idFrom(ctx, mdCorrelationID), idFrom(ctx, mdRequestID)
	_ = grpc.SetHeader(ctx, metadata.Pairs(mdCorrelationID, correlationID, mdRequestID, requestID))
	return meta.WithCausationID(meta.WithCorrelationID(ctx, correlationID), requestID)
}

func idFrom(ctx context.Context, key string) string {
	if v := incoming(ctx, key); meta.ValidID(v) {
		return v
	}
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

func correlateUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	return next(correlate(ctx), req)
}

func correlateStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, next grpc.StreamHandler) error {
	return next(srv, withContext{ss, correlate(ss.Context())})
}

// withContext is a stream whose handler sees ctx.
type withContext struct {
	grpc.ServerStream
	ctx context.Context
}

func (w withContext) Context() context.Context { return w.ctx }

// recover turns a panic into an internal error (its stack logged).
func (s *server) recoverUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (resp any, err error) {
	defer s.recovered(ctx, info.FullMethod, &err)
	return next(ctx, req)
}

func (s *server) recoverStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, next grpc.StreamHandler) (err error) {
	defer s.recovered(ss.Context(), info.FullMethod, &err)
	return next(srv, ss)
}

func (s *server) recovered(ctx context.Context, method string, err *error) {
	if p := recover(); p != nil {
		s.logger.ErrorContext(ctx, "grpc call panicked", "method", method, "panic", fmt.Sprint(p),
			"correlation_id", meta.CorrelationID(ctx), "stack", string(debug.Stack()))
		*err = toStatus(ctx, s.logger, method, fmt.Errorf("panic: %v", p))
	}
}

var errUnauthenticated = apperr.New(apperr.Unauthorized,
	"a valid API key is required (authorization: Bearer <key>, or x-api-key metadata)")

// writes are the methods that change something: they need an API key when
// the service has keys; the others (reads) only with KeyReads. Health and
// reflection are not in this package's services and stay open.
var writes = map[string]bool{
	"/orderflow.v1.OrderService/PlaceOrder":   true,
	"/orderflow.v1.OrderService/CancelOrder":  true,
	"/orderflow.v1.OrderService/ShipOrder":    true,
	"/orderflow.v1.OrderService/DeliverOrder": true,
	"/orderflow.v1.InventoryService/SetStock": true,
}

// authorize checks the call's API key as HTTP does (apikeys) and puts its
// scope in ctx (idempotency keys belong to the API key that sent them).
func (s *server) authorize(ctx context.Context, method string) (context.Context, error) {
	if s.apiKeys.Empty() {
		return ctx, nil
	}
	key := incoming(ctx, mdAPIKey)
	if key == "" {
		key = apikeys.Bearer(incoming(ctx, mdAuthorization))
	}
	if scope, ok := s.apiKeys.Scope(key); ok {
		return context.WithValue(ctx, keyScopeCtx{}, scope), nil
	}
	ours := strings.HasPrefix(method, "/orderflow.v1.")
	if !ours || (!writes[method] && !s.keyReads) {
		return ctx, nil
	}
	return ctx, errUnauthenticated
}

// keyScopeCtx carries the scope of the call's API key.
type keyScopeCtx struct{}

func keyScope(ctx context.Context) string {
	scope, _ := ctx.Value(keyScopeCtx{}).(string)
	return scope
}

func (s *server) authUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	ctx, err := s.authorize(ctx, info.FullMethod)
	if err != nil {
		return nil, toStatus(ctx, s.logger, info.FullMethod, err)
	}
	return next(ctx, req)
}

func (s *server) authStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, next grpc.StreamHandler) error {
	ctx, err := s.authorize(ss.Context(), info.FullMethod)
	if err != nil {
		return toStatus(ctx, s.logger, info.FullMethod, err)
	}
	return next(srv, withContext{ss, ctx})
}

// statusUnary and statusStream map what the services return to a status
// (toStatus): the services return the application's errors as they are.
func (s *server) statusUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	resp, err := next(ctx, req)
	return resp, toStatus(ctx, s.logger, info.FullMethod, err)
}

func (s *server) statusStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, next grpc.StreamHandler) error {
	return toStatus(ss.Context(), s.logger, info.FullMethod, next(srv, ss))
}
