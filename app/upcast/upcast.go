// Package upcast turns stored events of older shapes into the newest shape
// before anything reads them: loading an aggregate, projecting, replaying and
// consuming from a broker all see one version per event type, so the domain
// only ever decodes the newest.
//
// An event type is "<name>.v<N>", e.g. order.placed.v1. A Registry maps each
// (name, N) to a function producing (name, N+1) and knows the newest N of
// every name it was told about; Upcast applies the steps in order. A version
// newer than the newest known one is data written by a later release: it is
// an apperr.Invalid error, never skipped, so a consumer parks it instead of
// silently losing it.
package upcast

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/ports"
)

// Func rewrites the payload of one version into the payload of the next.
// It must be pure and deterministic: replays must give the same result.
type Func func(data []byte) ([]byte, error)

// Registry holds the upcasting steps. Build it once at start (Register,
// Current) and only read it afterwards; reads are safe concurrently.
type Registry struct {
	steps  map[string]Func // "<name>.v<N>" → step to N+1
	latest map[string]int  // name → newest version
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{steps: map[string]Func{}, latest: map[string]int{}}
}

// Current declares event types that are at their newest version. It panics
// on a malformed name: registries are built from constants at start.
func (r *Registry) Current(eventTypes ...string) *Registry {
	for _, t := range eventTypes {
		name, v := mustSplit(t)
		r.latest[name] = max(r.latest[name], v)
	}
	return r
}

// Register adds the step from eventType (version N) to version N+1, and
// makes N+1 at least the newest known version of the name. It panics on a
// malformed or duplicate step.
func (r *Registry) Register(eventType string, fn Func) *Registry {
	name, v := mustSplit(eventType)
	if _, dup := r.steps[eventType]; dup || fn == nil {
		panic("upcast: duplicate or nil step for " + eventType)
	}
	r.steps[eventType] = fn
	r.latest[name] = max(r.latest[name], v+1)
	return r
}

// Latest returns the newest known type of eventType's name, and false if the
// registry does not know the name.
func (r *Registry) Latest(eventType string) (string, bool) {
	name, _, err := split(eventType)
	if err != nil {
		return "", false
	}
	v, ok := r.latest[name]
	return typeName(name, v), ok
}

// Upcast returns the newest type and payload of an event. Types whose name
// the registry does not know pass through unchanged (they belong to someone
// else, and their decoder judges them). A version newer than the newest
// known, a gap in the steps, or a failing step is an apperr.Invalid error.
func (r *Registry) Upcast(eventType string, data []byte) (string, []byte, error) {
	name, v, err := split(eventType)
	if err != nil {
		return eventType, data, nil //nolint:nilerr // a type without a .vN suffix is not one of ours: it passes through, as documented
	}
	newest, known := r.latest[name]
	switch {
	case !known:
		return eventType, data, nil
	case v > newest:
		return eventType, data, apperr.New(apperr.Invalid,
			"event type %s is newer than this release understands (newest is %s): upgrade the service",
			eventType, typeName(name, newest))
	}
	for ; v < newest; v++ {
		from := typeName(name, v)
		step, ok := r.steps[from]
		if !ok {
			return eventType, data, apperr.New(apperr.Invalid, "no upcaster from %s to v%d", from, v+1)
		}
		if data, err = step(data); err != nil {
			return eventType, data, apperr.Wrap(apperr.Invalid, err, "cannot upcast %s to v%d", from, v+1)
		}
	}
	return typeName(name, newest), data, nil
}

// Event upcasts a recorded event; everything but Type and Data is kept.
func (r *Registry) Event(e ports.RecordedEvent) (ports.RecordedEvent, error) {
	t, data, err := r.Upcast(e.Type, e.Data)
	if err != nil {
		return e, fmt.Errorf("%s version %d: %w", e.Stream, e.Version, err)
	}
	e.Type, e.Data = t, data
	return e, nil
}

// Events upcasts each event of a slice, in a new slice.
func (r *Registry) Events(events []ports.RecordedEvent) ([]ports.RecordedEvent, error) {
	out := make([]ports.RecordedEvent, len(events))
	for i, e := range events {
		var err error
		if out[i], err = r.Event(e); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// split parses "<name>.v<N>" with N >= 1.
func split(eventType string) (string, int, error) {
	i := strings.LastIndex(eventType, ".v")
	if i <= 0 {
		return "", 0, fmt.Errorf("event type %q has no .v<N> suffix", eventType)
	}
	v, err := strconv.Atoi(eventType[i+2:])
	if err != nil || v < 1 {
		return "", 0, fmt.Errorf("event type %q has a bad version", eventType)
	}
	return eventType[:i], v, nil
}

func mustSplit(eventType string) (string, int) {
	name, v, err := split(eventType)
	if err != nil {
		panic("upcast: " + err.Error())
	}
	return name, v
}

func typeName(name string, v int) string { return name + ".v" + strconv.Itoa(v) }
