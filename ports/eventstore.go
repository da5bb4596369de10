// Package ports holds the interfaces the application core needs from the
// outside world, and the plain types they carry. Adapters implement them;
// the core never imports an adapter.
package ports

import (
	"context"
	"fmt"
	"github.com/orderflow/orderflow/app/apperr"
	"strconv"
	"strings"
	"time"
)

// Expected-version sentinels for EventStore.Append.
const (
	// NoStream: the stream must not exist yet (the first append).
	NoStream int64 = 0
	// AnyVersion: append whatever the current version is. Use only for
	// streams whose events are commutative; orders always pass a version.
	AnyVersion int64 = -1
)

// Stream names one aggregate's event stream.
type Stream struct {
	Type string // aggregate type, e.g. "order"
	ID   string // aggregate id, a UUID
}

func (s Stream) String() string { return s.Type + "-" + s.ID }

// EventMetadata travels with every event, in the store and on the broker.
type EventMetadata struct {
	EventID       string    // UUIDv7, unique across the store
	CorrelationID string    // the request or process this event belongs to
	CausationID   string    // the command or event that caused this one
	OccurredAt    time.Time // domain time, from the clock port
	// The W3C trace context of the append (traceparent, tracestate and
	// baggage headers), empty when tracing is off: set by the event store
	// at append time and carried by the outbox and every broker, so that
	// consumers continue the trace. Not kept in the events table: it is
	// for the delivery of the event, not part of its history.
	TraceParent, TraceState, Baggage string
}

// NewEvent is an event to append. Data is the encoded payload (JSON).
type NewEvent struct {
	Type     string
	Data     []byte
	Metadata EventMetadata
}

// Position is a place in the store-wide order of events, shaped like
// EventStoreDB's $all position. Commit orders events by the moment their
// transaction became visible; Prepare orders events within one commit and is
// the store-wide sequence number shown to users. Positions compare
// lexicographically; the zero Position is before every event.
type Position struct {
	Commit  uint64
	Prepare uint64
}

// Less reports whether p comes before o.
func (p Position) Less(o Position) bool {
	return p.Commit < o.Commit || (p.Commit == o.Commit && p.Prepare < o.Prepare)
}

func (p Position) String() string { return fmt.Sprintf("%d/%d", p.Commit, p.Prepare) }

// Compact is p as ParsePosition reads it: "N" where Commit and Prepare are
// one sequence (SQLite), "COMMIT/PREPARE" otherwise.
func (p Position) Compact() string {
	if p.Commit == p.Prepare {
		return strconv.FormatUint(p.Prepare, 10)
	}
	return p.String()
}

// ParsePosition reads a position as Compact writes it.
func ParsePosition(s string) (Position, error) {
	c, p, two := strings.Cut(s, "/")
	commit, err1 := strconv.ParseUint(c, 10, 64)
	prepare, err2 := commit, error(nil)
	if two {
		prepare, err2 = strconv.ParseUint(p, 10, 64)
	}
	if err1 != nil || err2 != nil {
		return Position{}, fmt.Errorf("position %q: want N or COMMIT/PREPARE", s)
	}
	return Position{Commit: commit, Prepare: prepare}, nil
}

// RecordedEvent is an event as stored.
type RecordedEvent struct {
	Stream     Stream
	Version    int64 // 1 for the first event of a stream
	Position   Position
	Type       string
	Data       []byte
	Metadata   EventMetadata
	RecordedAt time.Time // the store's clock at commit
}

// AppendResult reports where an append landed.
type AppendResult struct {
	// NextExpectedVersion is the stream version after the append.
	NextExpectedVersion int64
}

// StreamAppend is one stream's part of an EventStore.AppendMany.
type StreamAppend struct {
	Stream          Stream
	ExpectedVersion int64
	Events          []NewEvent
}

// ErrConcurrency is matched (errors.Is) by every *ConcurrencyError, which
// carries its code (apperr.Conflict).
var ErrConcurrency = apperr.New(apperr.Conflict, "concurrency conflict")

// ConcurrencyError reports that a stream's version was not the expected one:
// another writer appended first. Nothing of the failed append was written.
type ConcurrencyError struct {
	Stream   Stream
	Expected int64
	Actual   int64
}

func (e *ConcurrencyError) Error() string {
	return fmt.Sprintf("stream %s: expected version %d, actual %d", e.Stream, e.Expected, e.Actual)
}

// Unwrap makes errors.Is(err, ErrConcurrency) and apperr.CodeOf (Conflict)
// see every *ConcurrencyError.
func (e *ConcurrencyError) Unwrap() error { return ErrConcurrency }

// EventStore is the write model's storage.
//
// Append writes events atomically with optimistic concurrency: either all are
// stored with versions expectedVersion+1... and published to the outbox in the
// same transaction, or none is and the error says why (*ConcurrencyError on a
// version mismatch). Appending zero events is an error.
//
// Load returns a stream's events with Version >= fromVersion, oldest first;
// an unknown stream yields no events and no error.
//
// ReadAll returns up to limit events after position `after`, in Position
// order. It never skips an event: an event becomes visible to ReadAll only
// once every event that could be ordered before it has committed, so a reader
// that resumes from the last Position it saw reads every committed event
// exactly once, whatever the concurrency of writers. Within one stream,
// positions grow with versions, AnyVersion appends included: ReadAll delivers
// a stream's events in version order.
//
// AppendMany appends to several streams in one transaction, each with its own
// expected version, together with all their outbox messages: either every
// stream gets its events or none does. A version mismatch on any stream is a
// *ConcurrencyError naming that stream, and nothing is written. Naming a
// stream twice, or a part with no events, is an error.
type EventStore interface {
	Append(ctx context.Context, stream Stream, expectedVersion int64, events []NewEvent) (AppendResult, error)
	AppendMany(ctx context.Context, appends []StreamAppend) error
	Load(ctx context.Context, stream Stream, fromVersion int64) ([]RecordedEvent, error)
	ReadAll(ctx context.Context, after Position, limit int) ([]RecordedEvent, error)
}

// StreamLocker is an EventStore that can reserve streams for the unit of
// work in ctx (ports.Transactor) before it reads them: until the unit ends,
// no other writer appends to them, so what the unit loads is still the
// streams' state when it appends. Contended aggregates (a hot SKU's stock)
// take it so that concurrent writers queue instead of each loading, losing
// the version check and loading again. Outside a unit of work it does
// nothing: a lock that ends with its statement would guard nothing.
type StreamLocker interface {
	LockStreams(ctx context.Context, streams ...Stream) error
}

// StreamsLoader is an EventStore that reads several whole streams at once
// (one round trip where the store has them): for each stream, what
// Load(ctx, stream, 1) returns, in the unit of work of ctx if there is
// one. A stream without events has no entry. The checkout's batches read
// the orders of their units with it, instead of one Load each.
type StreamsLoader interface {
	LoadStreams(ctx context.Context, streams []Stream) (map[Stream][]RecordedEvent, error)
}

// Distinct is streams without repetitions, in the order of their first
// appearance.
func Distinct(streams []Stream) []Stream {
	seen := make(map[Stream]bool, len(streams))
	out := make([]Stream, 0, len(streams))
	for _, s := range streams {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// ByStream groups events by their stream, each stream's in the order given.
func ByStream(events []RecordedEvent) map[Stream][]RecordedEvent {
	m := map[Stream][]RecordedEvent{}
	for _, e := range events {
		m[e.Stream] = append(m[e.Stream], e)
	}
	return m
}

// LoadEach is LoadStreams by one load a stream.
func LoadEach(ctx context.Context, load func(context.Context, Stream, int64) ([]RecordedEvent, error),
	streams []Stream) (map[Stream][]RecordedEvent, error) {
	m := map[Stream][]RecordedEvent{}
	for _, s := range Distinct(streams) {
		events, err := load(ctx, s, 1)
		if err != nil {
			return nil, err
		}
		if len(events) > 0 {
			m[s] = events
		}
	}
	return m, nil
}

// StatesLoader is an EventStore whose database also holds the snapshots
// (the SnapshotStore on it) and that reads several aggregates' states at
// once: for each StateRead, in the unit of work of ctx if there is one,
// either the events from a version the caller already holds the state
// before, or the stream's snapshot, if it has one, and the events after it.
// With lock it first takes the streams' locks, as StreamLocker does (a
// no-op outside a unit of work), so that what it reads is what the unit
// appends after. Snapshot and events are read by one statement, so they
// agree; where the store can, the locks are taken in the same round trip.
//
// A store that wraps another and finds no StatesLoader under it returns an
// error wrapping errors.ErrUnsupported: the caller then locks and loads one
// stream at a time.
type StatesLoader interface {
	LoadStates(ctx context.Context, reads []StateRead, lock bool) (map[Stream]StreamState, error)
}

// StateRead is what StatesLoader reads of one stream.
type StateRead struct {
	Stream Stream
	// From > 0 reads the events from that version on and no snapshot; 0
	// reads the snapshot and the events after it (every event without one).
	From int64
}

// StreamState is what StatesLoader read of a stream: Snapshot is nil when
// none was read; Events are in version order.
type StreamState struct {
	Snapshot *Snapshot
	Events   []RecordedEvent
}
