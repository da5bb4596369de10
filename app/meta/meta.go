// Package meta carries the correlation and causation ids of the work in
// progress through a context, from the inbound adapter (an HTTP request, a
// message) to the events the work records.
package meta

import "context"

type key int

const (
	correlationKey key = iota
	causationKey
)

// WithCorrelationID returns ctx carrying the id of the request or process.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey, id)
}

// CorrelationID returns the correlation id carried by ctx, or "".
func CorrelationID(ctx context.Context) string {
	id, _ := ctx.Value(correlationKey).(string)
	return id
}

// WithCausationID returns ctx carrying the id of the command or event that
// causes the work (a request id, or the id of the event a handler reacts to).
func WithCausationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, causationKey, id)
}

// CausationID returns the causation id carried by ctx, or "".
func CausationID(ctx context.Context) string {
	id, _ := ctx.Value(causationKey).(string)
	return id
}

// ValidID reports whether s is plausible as an id a client sends (a
// correlation id, a request id, an idempotency key): 1 to 128 ASCII letters,
// digits and . _ : - (UUIDs, ULIDs, W3C trace ids and the like). Inbound
// adapters replace or refuse anything else, so junk never reaches logs or
// stored metadata.
func ValidID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, c := range []byte(s) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == ':' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}
