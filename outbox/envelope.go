package outbox

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/orderflow/orderflow/adapters/broker"
)

// outboxEnvelope is how the event stores write an event to the outbox: the
// JSON of Watermill's forwarder publisher (components/forwarder), so rows
// written before the batching forwarder, or by an older release during a
// rolling upgrade, forward unchanged. Payload is base64 in the JSON, as
// encoding/json writes a []byte.
type outboxEnvelope struct {
	DestinationTopic string            `json:"destination_topic"`
	UUID             string            `json:"uuid"`
	Payload          []byte            `json:"payload"`
	Metadata         map[string]string `json:"metadata"`
}

// errNotEnvelope marks an outbox row that can never be forwarded.
var errNotEnvelope = errors.New("not a forwarder envelope")

// unwrapOutbox decodes an outbox row into the message it carries, with the
// event's own UUID, payload and metadata, and its destination topic. An
// error wraps errNotEnvelope and says what is wrong.
func unwrapOutbox(row *message.Message) (broker.TopicMessage, error) {
	var env outboxEnvelope
	if err := json.Unmarshal(row.Payload, &env); err != nil {
		return broker.TopicMessage{}, fmt.Errorf("outbox row %s: %w: %w", row.UUID, errNotEnvelope, err)
	}
	switch {
	case env.DestinationTopic == "":
		return broker.TopicMessage{}, fmt.Errorf("outbox row %s: %w: no destination_topic", row.UUID, errNotEnvelope)
	case env.UUID == "":
		// Consumers deduplicate by UUID: an empty one would collide.
		return broker.TopicMessage{}, fmt.Errorf("outbox row %s: %w: no uuid", row.UUID, errNotEnvelope)
	}
	msg := message.NewMessage(env.UUID, env.Payload)
	if env.Metadata != nil {
		msg.Metadata = env.Metadata
	}
	return broker.TopicMessage{Topic: env.DestinationTopic, Msg: msg}, nil
}
