package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/meta"
)

// code names a kind of problem. The application's codes (apperr.Code) are
// problem codes as they are; the HTTP layer adds the transport-level ones. A
// problem's type URI is problemTypePrefix + code, and is documented in
// openapi.yaml.
type code string

// Transport-level problem codes: the request was refused before any use case ran.
const (
	codeMalformed            code = "malformed_request"
	codeUnsupportedMediaType code = "unsupported_media_type"
	codePayloadTooLarge      code = "payload_too_large"
	codeMethodNotAllowed     code = "method_not_allowed"
)

const problemTypePrefix = "urn:orderflow:problem:"

// problemTypes is the one table from a problem code to its HTTP status and
// title. A code missing from it is answered as internal.
var problemTypes = map[code]struct {
	status int
	title  string
}{
	code(apperr.Invalid):            {http.StatusUnprocessableEntity, "The request is invalid"},
	code(apperr.NotFound):           {http.StatusNotFound, "Not found"},
	code(apperr.Conflict):           {http.StatusConflict, "The current state forbids this request"},
	code(apperr.PreconditionFailed): {http.StatusPreconditionFailed, "The version does not match"},
	code(apperr.Unauthorized):       {http.StatusUnauthorized, "Unauthorized"},
	code(apperr.Unavailable):        {http.StatusServiceUnavailable, "Service unavailable"},
	code(apperr.Internal):           {http.StatusInternalServerError, "Internal error"},
	codeMalformed:                   {http.StatusBadRequest, "Malformed request"},
	codeUnsupportedMediaType:        {http.StatusUnsupportedMediaType, "Unsupported media type"},
	codePayloadTooLarge:             {http.StatusRequestEntityTooLarge, "Request body too large"},
	codeMethodNotAllowed:            {http.StatusMethodNotAllowed, "Method not allowed"},
}

// httpError is a problem the HTTP layer finds itself (a body it cannot read,
// a header it cannot parse). Fields name the offending JSON paths, headers or
// query parameters.
type httpError struct {
	code   code
	detail string
	fields []apperr.FieldError
}

func (e *httpError) Error() string { return string(e.code) + ": " + e.detail }

func newHTTPError(c code, detail string, fields ...apperr.FieldError) *httpError {
	return &httpError{code: c, detail: detail, fields: fields}
}

// problem is an RFC 9457 problem details object. Errors is always present
// (empty when no single field is to blame), so clients need not test for it.
type problem struct {
	Type          string       `json:"type"`
	Title         string       `json:"title"`
	Status        int          `json:"status"`
	Detail        string       `json:"detail"`
	Instance      string       `json:"instance,omitempty"`
	CorrelationID string       `json:"correlation_id,omitempty"`
	Errors        []fieldError `json:"errors"`
}

type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// writeError answers err as application/problem+json. Messages of
// *apperr.Error and *httpError are client-safe and shown as the detail; the
// cause of an internal error never is: it is logged with the correlation id,
// which the client sees instead.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	c, detail, fields := code(apperr.Internal), "", []apperr.FieldError(nil)
	var he *httpError
	if errors.As(err, &he) {
		c, detail, fields = he.code, he.detail, he.fields
	} else if ae, ok := apperr.As(err); ok {
		c, detail, fields = code(ae.Code), ae.Message, ae.Fields
	}
	pt, known := problemTypes[c]
	if !known || c == code(apperr.Internal) {
		c, fields = code(apperr.Internal), nil
		pt = problemTypes[c]
		detail = "An unexpected error occurred; quote the correlation id when reporting it."
	}
	correlationID := meta.CorrelationID(r.Context())
	if pt.status >= http.StatusInternalServerError {
		s.logger.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path,
			"status", pt.status, "correlation_id", correlationID, "error", err)
	}
	instance := r.URL.Path
	if len(instance) > maxInstanceLength {
		instance = ""
	}
	p := problem{
		Type:          problemTypePrefix + string(c),
		Title:         pt.title,
		Status:        pt.status,
		Detail:        detail,
		Instance:      instance,
		CorrelationID: correlationID,
		Errors:        make([]fieldError, len(fields)),
	}
	for i, f := range fields {
		p.Errors[i] = fieldError{Field: f.Field, Message: f.Message}
	}
	body, mErr := json.Marshal(p)
	if mErr != nil { // a problem holds only strings and ints: this cannot happen
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	writeBody(w, pt.status, "application/problem+json", body)
}

// maxInstanceLength bounds the path a problem names as its instance; a
// longer one (no route has one) is left out rather than echoed.
const maxInstanceLength = 256
