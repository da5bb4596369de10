// Package appendmany holds what every event store's Append and AppendMany
// share: the checks on their input and the order streams are written in.
package appendmany

import (
	"encoding/json"
	"sort"

	"github.com/google/uuid"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/ports"
)

// Prepare rejects an empty call, a stream named twice or a part Validate
// refuses (apperr.Invalid) and returns the parts sorted by stream type then
// id: writing streams in one order everywhere keeps concurrent multi-stream
// writers from deadlocking.
func Prepare(appends []ports.StreamAppend) ([]ports.StreamAppend, error) {
	if len(appends) == 0 {
		return nil, apperr.New(apperr.Invalid, "append many: no streams")
	}
	for _, a := range appends {
		if err := Validate(a.Stream, a.ExpectedVersion, a.Events); err != nil {
			return nil, err
		}
	}
	sorted := append([]ports.StreamAppend(nil), appends...)
	sort.Slice(sorted, func(i, j int) bool {
		a, b := sorted[i].Stream, sorted[j].Stream
		return a.Type < b.Type || (a.Type == b.Type && a.ID < b.ID)
	})
	for i := 1; i < len(sorted); i++ {
		if sorted[i].Stream == sorted[i-1].Stream {
			return nil, apperr.New(apperr.Invalid, "append many: stream %s named twice", sorted[i].Stream)
		}
	}
	return sorted, nil
}

// AnyVersionOnly reports whether no part expects a particular version, so a
// lost race may simply be retried.
func AnyVersionOnly(appends []ports.StreamAppend) bool {
	for _, a := range appends {
		if a.ExpectedVersion != ports.AnyVersion {
			return false
		}
	}
	return true
}

// Validate rejects, as apperr.Invalid, what no store would accept: a stream
// without type or id, no events, an impossible expected version, an event
// without a type, an event id that is not a UUID, data that is not JSON. A
// store checks it before it writes, so every store refuses the same input
// the same way (Postgres's jsonb and uuid columns would refuse it too, as a
// server error).
func Validate(stream ports.Stream, expected int64, events []ports.NewEvent) error {
	if stream.Type == "" || stream.ID == "" {
		return apperr.New(apperr.Invalid, "append: stream type and id are required, got %q", stream)
	}
	if len(events) == 0 {
		return apperr.New(apperr.Invalid, "append to %s: no events", stream)
	}
	if expected < ports.AnyVersion {
		return apperr.New(apperr.Invalid, "append to %s: expected version %d", stream, expected)
	}
	for i, e := range events {
		if e.Type == "" {
			return apperr.New(apperr.Invalid, "append to %s: event %d has no type", stream, i)
		}
		if _, err := uuid.Parse(e.Metadata.EventID); err != nil {
			return apperr.New(apperr.Invalid, "append to %s: event %d: id %q is not a UUID", stream, i, e.Metadata.EventID)
		}
		if !json.Valid(e.Data) {
			return apperr.New(apperr.Invalid, "append to %s: event %d: data is not valid JSON", stream, i)
		}
	}
	return nil
}
