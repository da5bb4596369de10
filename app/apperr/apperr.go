// Package apperr is the one error type the application speaks. Every layer
// returns it (wrapped with %w where context helps); inbound adapters map its
// Code to their own vocabulary in one table (HTTP status, poison vs retry).
package apperr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Code classifies an error by what the caller can do about it.
type Code string

const (
	// Invalid: the input breaks a rule; sending it again never helps.
	Invalid Code = "invalid"
	// NotFound: the addressed thing does not exist.
	NotFound Code = "not_found"
	// Conflict: the request is valid but the current state forbids it
	// (an illegal transition, a concurrent change that could not be merged).
	Conflict Code = "conflict"
	// PreconditionFailed: the caller's expected version does not match.
	PreconditionFailed Code = "precondition_failed"
	// Unauthorized: credentials are missing or wrong.
	Unauthorized Code = "unauthorized"
	// Unavailable: a dependency is down; the same request may succeed later.
	Unavailable Code = "unavailable"
	// Internal: a bug or an unexpected failure.
	Internal Code = "internal"
)

// FieldError names one bad input field. Field is a JSON path such as
// "items[2].quantity".
type FieldError struct {
	Field   string
	Message string
}

// Error is the application error. Message is safe to show to a client;
// Err, when set, is the underlying cause and is never shown to clients.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	Err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Code))
	b.WriteString(": ")
	b.WriteString(e.Message)
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with a code and a formatted client-safe message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error with a code and message that keeps cause for errors.Is/As.
func Wrap(code Code, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: cause}
}

// Detail returns cause with a client-safe message naming what was not
// found, invalid or in conflict; the code is cause's own (a port's sentinel
// error carries its code), so no layer restates it case by case.
func Detail(cause error, format string, args ...any) *Error {
	return &Error{Code: CodeOf(cause), Message: fmt.Sprintf(format, args...), Err: cause}
}

// Validation returns an Invalid error naming each bad field, or nil when
// fields is empty, so callers can collect problems and return the result.
func Validation(message string, fields []FieldError) error {
	if len(fields) == 0 {
		return nil
	}
	return &Error{Code: Invalid, Message: message, Fields: fields}
}

// CodeOf returns the Code of the first *Error in err's chain, Internal for any
// other non-nil error, and "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries the given code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }

// As returns the first *Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Dependency returns cause, the failure of a store or other dependency, as
// Unavailable (try again later), unless the dependency found the data itself
// invalid (cause carries Invalid: a database refusing a NUL in text, say):
// that stays Invalid, since no retry can succeed, and the router parks the
// message instead of retrying it forever.
func Dependency(cause error, format string, args ...any) *Error {
	code := Unavailable
	if Is(cause, Invalid) {
		code = Invalid
	}
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: cause}
}

// maxQuoted is how many characters of a client's string Quote keeps.
const maxQuoted = 64

// Quote quotes s for a client-facing message, cut to 64 characters with an
// ellipsis: an error never echoes a megabyte the client sent.
func Quote(s string) string {
	n := 0
	for i := range s {
		if n == maxQuoted {
			return strconv.Quote(s[:i] + "…")
		}
		n++
	}
	return strconv.Quote(s)
}
