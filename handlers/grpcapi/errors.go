package grpcapi

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/meta"
)

// errorDomain is google.rpc.ErrorInfo's domain on every error this API sends.
const errorDomain = "orderflow"

// statusCodes is the one table from an application error code to a gRPC
// status code. A code missing from it is answered as internal.
//
// conflict (the order's state forbids the change: ship a cancelled order) is
// FAILED_PRECONDITION, which the client must fix before retrying;
// precondition_failed (expected_version is not the order's version: a failed
// test-and-set) is ABORTED, to be retried from a fresh read, as gRPC's status
// code guide puts them.
var statusCodes = map[apperr.Code]codes.Code{
	apperr.Invalid:            codes.InvalidArgument,
	apperr.NotFound:           codes.NotFound,
	apperr.Conflict:           codes.FailedPrecondition,
	apperr.PreconditionFailed: codes.Aborted,
	apperr.Unauthorized:       codes.Unauthenticated,
	apperr.Unavailable:        codes.Unavailable,
	apperr.Internal:           codes.Internal,
}

// internalMessage replaces the message of every internal error: its cause is
// logged with the correlation id, which the client gets instead.
const internalMessage = "An unexpected error occurred; quote the correlation id when reporting it."

// toStatus turns err into the status the client gets: an application error
// by the table above, with google.rpc.ErrorInfo (reason: the application's
// code in capitals; metadata correlation_id), google.rpc.RequestInfo (the
// correlation id as request_id) and, for invalid input, google.rpc.BadRequest
// naming each field as HTTP's problem details do. A status error this
// package made (a slow watcher, a drain) gets the same ErrorInfo and
// RequestInfo; a context's end is CANCELED or DEADLINE_EXCEEDED, with them too.
func toStatus(ctx context.Context, logger *slog.Logger, method string, err error) error {
	if err == nil {
		return nil
	}
	if st, ok := status.FromError(err); ok {
		if len(st.Details()) > 0 { // made here before, or replayed
			return err
		}
		return withDetails(st, statusReasons[st.Code()], nil, meta.CorrelationID(ctx)).Err()
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		st := status.FromContextError(err)
		return withDetails(st, statusReasons[st.Code()], nil, meta.CorrelationID(ctx)).Err()
	}
	ae, ok := apperr.As(err)
	if !ok {
		ae = &apperr.Error{Code: apperr.Internal}
	}
	code, known := statusCodes[ae.Code]
	message := ae.Message
	if !known || code == codes.Internal {
		ae = &apperr.Error{Code: apperr.Internal}
		code, message = codes.Internal, internalMessage
	}
	correlationID := meta.CorrelationID(ctx)
	if code == codes.Internal || code == codes.Unavailable {
		logger.ErrorContext(ctx, "grpc call failed", "method", method, "code", code.String(),
			"correlation_id", correlationID, "error", err)
	}
	return withDetails(status.New(code, message), strings.ToUpper(string(ae.Code)), ae.Fields, correlationID).Err()
}

// statusReasons are ErrorInfo's reasons for the errors this package makes
// as statuses itself, not from an application error.
var statusReasons = map[codes.Code]string{
	codes.ResourceExhausted: "RESOURCE_EXHAUSTED",
	codes.Unavailable:       "UNAVAILABLE",
	codes.Canceled:          "CANCELED",
	codes.DeadlineExceeded:  "DEADLINE_EXCEEDED",
}

// withDetails adds the details every error carries (see toStatus).
func withDetails(st *status.Status, reason string, fields []apperr.FieldError, correlationID string) *status.Status {
	if reason == "" {
		reason = strings.ToUpper(st.Code().String())
	}
	details := []protoadapt.MessageV1{
		&errdetails.ErrorInfo{Reason: reason, Domain: errorDomain,
			Metadata: map[string]string{"correlation_id": correlationID}},
		&errdetails.RequestInfo{RequestId: correlationID},
	}
	if len(fields) > 0 {
		br := &errdetails.BadRequest{}
		for _, f := range fields {
			br.FieldViolations = append(br.FieldViolations,
				&errdetails.BadRequest_FieldViolation{Field: f.Field, Description: f.Message})
		}
		details = append(details, br)
	}
	withD, err := st.WithDetails(details...)
	if err != nil { // only for details that cannot be marshalled: not these
		return st
	}
	return withD
}

// invalid is an invalid-argument error naming one field.
func invalid(message, field, problem string) error {
	return apperr.Validation(message, []apperr.FieldError{{Field: field, Message: problem}})
}
