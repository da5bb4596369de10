package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/order"
)

// maxBodyBytes bounds every request body (1 MiB).
const maxBodyBytes = 1 << 20

// decodeBody reads the request's JSON object into dst, a pointer to a struct
// whose fields are strings, int64s, slices and structs with json tags.
//
// A request body is never content-coded: a Content-Encoding other than
// identity is 415 (with Accept-Encoding: identity). A request carrying a body
// must say Content-Type: application/json (415), and the body must fit in
// maxBodyBytes (413). Then, all 400: an empty body when required, bytes that
// are not JSON, anything after the JSON value, a value that is not an object,
// a key given twice in one object, and fields dst does not have (each listed
// in the problem's errors; names match exactly, not case-insensitively as
// encoding/json would). A known field of the wrong JSON type (quantity "3")
// or a string that is not valid UTF-8 (encoding/json would quietly turn it
// into U+FFFD) is 422, like any other invalid field, with its JSON path
// (items[0].quantity). JSON null counts as absent. Without a body and
// required false, dst is left as it is.
func decodeBody(w http.ResponseWriter, r *http.Request, dst any, required bool) error {
	if err := checkContentEncoding(r.Header.Values("Content-Encoding")); err != nil {
		w.Header().Set("Accept-Encoding", "identity")
		return err
	}
	if r.ContentLength != 0 { // > 0, or -1: unknown length (chunked)
		if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
			return err
		}
	}
	if r.ContentLength > maxBodyBytes {
		return errTooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return errTooLarge
		}
		return newHTTPError(codeMalformed, "the request body could not be read")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if required {
			return newHTTPError(codeMalformed, "a JSON request body is required")
		}
		return nil
	}

	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return newHTTPError(codeMalformed, "the request body is not valid JSON: "+syntaxDetail(err))
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		return newHTTPError(codeMalformed, fmt.Sprintf("unexpected data after the JSON value, which ends at byte %d", end))
	}
	if _, ok := v.(map[string]any); !ok {
		return newHTTPError(codeMalformed, "the request body must be a JSON object")
	}
	ts := scanTokens(body)
	if len(ts.duplicates) > 0 {
		return newHTTPError(codeMalformed, "the request body names a key more than once in one object", ts.duplicates...)
	}
	var sc shapeCheck
	sc.check(v, reflect.TypeOf(dst).Elem(), "")
	if len(sc.unknown) > 0 {
		return newHTTPError(codeMalformed, "the request body has unknown fields", sc.unknown...)
	}
	if err := apperr.Validation("the request body has invalid fields", append(sc.wrongType, ts.badText...)); err != nil {
		return err
	}
	if err := json.Unmarshal(body, dst); err != nil { // the shape check makes this unreachable
		return newHTTPError(codeMalformed, "the request body could not be decoded")
	}
	return nil
}

var errTooLarge = newHTTPError(codePayloadTooLarge, fmt.Sprintf("the request body exceeds %d bytes", maxBodyBytes))

// checkContentEncoding accepts no Content-Encoding, or identity: this API
// decodes no compressed bodies, and a body labelled compressed but sent plain
// has a sender that is confused about what it sent.
func checkContentEncoding(values []string) error {
	for _, v := range values {
		for coding := range strings.SplitSeq(v, ",") {
			if coding = strings.TrimSpace(coding); coding != "" && !strings.EqualFold(coding, "identity") {
				return newHTTPError(codeUnsupportedMediaType, "Content-Encoding "+quoteShort(coding)+
					" is not supported; send the body uncompressed",
					apperr.FieldError{Field: "Content-Encoding", Message: "must be identity, or absent"})
			}
		}
	}
	return nil
}

// checkContentType accepts application/json, optionally with charset=utf-8.
func checkContentType(header string) error {
	mediaType, params, err := mime.ParseMediaType(header)
	if err == nil && mediaType == "application/json" {
		if cs, ok := params["charset"]; !ok || strings.EqualFold(cs, "utf-8") {
			return nil
		}
	}
	if header == "" {
		return newHTTPError(codeUnsupportedMediaType, "a request body needs Content-Type: application/json")
	}
	return newHTTPError(codeUnsupportedMediaType, fmt.Sprintf("Content-Type %q is not supported; send application/json", header))
}

func syntaxDetail(err error) string {
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "the JSON value ends early"
	}
	return err.Error()
}

// shapeCheck compares a decoded JSON value with the Go type it is meant to
// fill, collecting every unknown field and every value of the wrong JSON type
// with its JSON path. encoding/json reports only the first problem, without
// array indices and with case-insensitive field matching; clients deserve
// better.
type shapeCheck struct {
	unknown   []apperr.FieldError
	wrongType []apperr.FieldError
}

func (sc *shapeCheck) check(v any, t reflect.Type, path string) {
	if v == nil {
		return
	}
	wrong := func(msg string) {
		sc.wrongType = append(sc.wrongType, apperr.FieldError{Field: path, Message: msg})
	}
	switch t.Kind() {
	case reflect.Pointer: // an optional field whose absence matters
		sc.check(v, t.Elem(), path)
	case reflect.String:
		if _, ok := v.(string); !ok {
			wrong("must be a string")
		}
	case reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			wrong("must be an integer")
		} else if _, err := n.Int64(); err != nil {
			wrong("must be an integer between -9223372036854775808 and 9223372036854775807")
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			wrong("must be an array")
			return
		}
		for i, e := range arr {
			sc.check(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			wrong("must be an object")
			return
		}
		fields := jsonFields(t)
		for _, name := range slices.Sorted(maps.Keys(obj)) {
			p := name
			if path != "" {
				p = path + "." + name
			}
			ft, known := fields[name]
			if !known {
				sc.unknown = append(sc.unknown, apperr.FieldError{Field: p, Message: "is not a known field"})
				continue
			}
			sc.check(obj[name], ft, p)
		}
	default:
		panic(fmt.Sprintf("httpapi: request type %s has a field of unsupported kind %s", t, t.Kind()))
	}
}

// jsonFields maps the JSON names of a struct's fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := make(map[string]reflect.Type, t.NumField())
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			panic(fmt.Sprintf("httpapi: field %s.%s needs a json name", t, f.Name))
		}
		fields[name] = f.Type
	}
	return fields
}

// orderIDVar returns the {id} of the route in canonical UUID form
// (order.ParseID: 404 without asking the store when it is not a UUID).
func orderIDVar(r *http.Request) (string, error) { return order.ParseID(mux.Vars(r)["id"]) }

// quoteShort quotes s for a message (apperr.Quote).
func quoteShort(s string) string { return apperr.Quote(s) }

// etag is the entity tag of an order at a version: the version, quoted.
func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// ifMatch parses If-Match into the version the client expects: absent or *
// give 0 (no check); one strong entity tag holding a version ("3") gives
// that version. Anything else (a list, a weak tag, a tag this service never
// issues) is 400.
func ifMatch(r *http.Request) (int64, error) {
	values := r.Header.Values("If-Match")
	if len(values) == 0 {
		return 0, nil
	}
	v := strings.TrimSpace(values[0])
	if len(values) == 1 && v == "*" {
		return 0, nil
	}
	if len(values) == 1 && len(v) > 2 && v[0] == '"' && v[len(v)-1] == '"' {
		if n, err := strconv.ParseInt(v[1:len(v)-1], 10, 64); err == nil && n >= 1 {
			return n, nil
		}
	}
	return 0, newHTTPError(codeMalformed, `If-Match must be * or one entity tag holding an order version, such as "3"`,
		apperr.FieldError{Field: "If-Match", Message: `must be * or an order version in quotes, such as "3"`})
}

// noneMatch reports whether If-None-Match matches tag (weak comparison, as
// RFC 9110 asks for If-None-Match).
func noneMatch(r *http.Request, tag string) bool {
	for _, value := range r.Header.Values("If-None-Match") {
		for part := range strings.SplitSeq(value, ",") {
			part = strings.TrimSpace(part)
			if part == "*" || strings.TrimPrefix(part, "W/") == tag {
				return true
			}
		}
	}
	return false
}

// singleValued records in fields each of names given more than once in q:
// which one was meant is anyone's guess, so none is taken.
func singleValued(q url.Values, fields *[]apperr.FieldError, names ...string) {
	for _, name := range names {
		if len(q[name]) > 1 {
			*fields = append(*fields, apperr.FieldError{Field: name, Message: "must be given at most once"})
		}
	}
}

// queryInt parses an optional integer query parameter of at least min;
// absent gives 0. A bad value is recorded in fields under the parameter name.
func queryInt(q url.Values, name string, min int64, fields *[]apperr.FieldError) int64 {
	raw := q.Get(name)
	if raw == "" {
		return 0
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < min {
		*fields = append(*fields, apperr.FieldError{Field: name, Message: fmt.Sprintf("must be an integer of at least %d", min)})
		return 0
	}
	return n
}
