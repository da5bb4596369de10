// Package eventwire is the message format of every event on every topic: the
// one contract between the adapters that publish events (the event stores'
// outbox) and the handlers that consume them. A message's UUID is the event
// id, its payload the event data, and its metadata the event's envelope, so a
// consumer can rebuild the RecordedEvent without a store round trip.
package eventwire

import (
	"fmt"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/ports"
)

// Metadata keys. CorrelationID uses Watermill's own key so the router's
// CorrelationID middleware carries it onto every message a handler publishes.
const (
	KeyEventType     = "event_type"
	KeyStreamType    = "stream_type"
	KeyStreamID      = "stream_id"
	KeyVersion       = "version"
	KeyPosition      = "position"
	KeyOccurredAt    = "occurred_at"
	KeyRecordedAt    = "recorded_at"
	KeyCorrelationID = "correlation_id"
	KeyCausationID   = "causation_id"
	// KeyPartition is the partitioning key for brokers that have partitions:
	// the stream id, so each aggregate's events stay in order.
	KeyPartition = "partition_key"
	// KeyFirstFailedAt is the moment a message first failed in the current
	// delivery (RFC 3339, UTC): the router's middleware and the outbox
	// forwarder stamp it on what they park in the poison queue, which keeps it.
	KeyFirstFailedAt = "first_failed_at"
	// The W3C trace context of the event's append (TraceContext): the
	// header names of the tracecontext and baggage propagators, so the
	// propagator reads and writes them on the metadata directly.
	KeyTraceParent = "traceparent"
	KeyTraceState  = "tracestate"
	KeyBaggage     = "baggage"
)

// ToMessage encodes a recorded event as a Watermill message.
func ToMessage(e ports.RecordedEvent) *message.Message {
	msg := message.NewMessage(e.Metadata.EventID, e.Data)
	msg.Metadata.Set(KeyEventType, e.Type)
	msg.Metadata.Set(KeyStreamType, e.Stream.Type)
	msg.Metadata.Set(KeyStreamID, e.Stream.ID)
	msg.Metadata.Set(KeyVersion, strconv.FormatInt(e.Version, 10))
	msg.Metadata.Set(KeyPosition, e.Position.String())
	msg.Metadata.Set(KeyOccurredAt, e.Metadata.OccurredAt.UTC().Format(time.RFC3339Nano))
	msg.Metadata.Set(KeyRecordedAt, e.RecordedAt.UTC().Format(time.RFC3339Nano))
	msg.Metadata.Set(KeyCorrelationID, e.Metadata.CorrelationID)
	msg.Metadata.Set(KeyCausationID, e.Metadata.CausationID)
	msg.Metadata.Set(KeyPartition, e.Stream.ID)
	setIf(msg.Metadata, KeyTraceParent, e.Metadata.TraceParent)
	setIf(msg.Metadata, KeyTraceState, e.Metadata.TraceState)
	setIf(msg.Metadata, KeyBaggage, e.Metadata.Baggage)
	return msg
}

// FromMessage decodes a message written by ToMessage. A message that is not
// an event (missing or malformed envelope) is an apperr.Invalid error: it can
// never be processed and belongs in the poison queue.
func FromMessage(msg *message.Message) (ports.RecordedEvent, error) {
	md := msg.Metadata
	e := ports.RecordedEvent{
		Stream: ports.Stream{Type: md.Get(KeyStreamType), ID: md.Get(KeyStreamID)},
		Type:   md.Get(KeyEventType),
		Data:   msg.Payload,
		Metadata: ports.EventMetadata{
			EventID:       msg.UUID,
			CorrelationID: md.Get(KeyCorrelationID),
			CausationID:   md.Get(KeyCausationID),
			TraceParent:   md.Get(KeyTraceParent),
			TraceState:    md.Get(KeyTraceState),
			Baggage:       md.Get(KeyBaggage),
		},
	}
	if e.Type == "" || e.Stream.Type == "" || e.Stream.ID == "" {
		return e, apperr.New(apperr.Invalid, "message %s is not an event: missing %s, %s or %s",
			msg.UUID, KeyEventType, KeyStreamType, KeyStreamID)
	}
	var err error
	if e.Version, err = strconv.ParseInt(md.Get(KeyVersion), 10, 64); err != nil || e.Version < 1 {
		return e, apperr.New(apperr.Invalid, "message %s: bad %s %q", msg.UUID, KeyVersion, md.Get(KeyVersion))
	}
	if _, err := fmt.Sscanf(md.Get(KeyPosition), "%d/%d", &e.Position.Commit, &e.Position.Prepare); err != nil {
		return e, apperr.New(apperr.Invalid, "message %s: bad %s %q", msg.UUID, KeyPosition, md.Get(KeyPosition))
	}
	if e.Metadata.OccurredAt, err = time.Parse(time.RFC3339Nano, md.Get(KeyOccurredAt)); err != nil {
		return e, apperr.New(apperr.Invalid, "message %s: bad %s %q", msg.UUID, KeyOccurredAt, md.Get(KeyOccurredAt))
	}
	if e.RecordedAt, err = time.Parse(time.RFC3339Nano, md.Get(KeyRecordedAt)); err != nil {
		return e, apperr.New(apperr.Invalid, "message %s: bad %s %q", msg.UUID, KeyRecordedAt, md.Get(KeyRecordedAt))
	}
	return e, nil
}
