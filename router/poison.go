package router

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/google/uuid"
	"github.com/orderflow/orderflow/internal/eventwire"
	"github.com/orderflow/orderflow/ports"
	"github.com/prometheus/client_golang/prometheus"
)

// PoisonPublisher is the publisher Watermill's PoisonQueue middleware
// writes to: it stores each message in a ports.PoisonStore (whatever the
// topic) with the reason, handler and topic the middleware put in its
// metadata, so that the poison queue can be listed and requeued. A failed
// Add is returned, which makes the router nack the message: nothing is lost.
type PoisonPublisher struct {
	Store    ports.PoisonStore
	poisoned *prometheus.CounterVec
}

// Publish implements message.Publisher.
func (p *PoisonPublisher) Publish(_ string, msgs ...*message.Message) error {
	for _, msg := range msgs {
		markOrigin(msg)
		pm := ToPoisoned(msg, time.Now().UTC())
		// The message's context is the last attempt's, likely spent by the
		// timeout middleware; parking it must still happen.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(msg.Context()), 10*time.Second)
		err := p.Store.Add(ctx, pm)
		cancel()
		if err != nil {
			return fmt.Errorf("poison queue: %w", err)
		}
		if p.poisoned != nil {
			p.poisoned.WithLabelValues(pm.Handler).Inc()
		}
	}
	return nil
}

// Close implements message.Publisher; the store belongs to the caller.
func (p *PoisonPublisher) Close() error { return nil }

// ToPoisoned converts a message marked by the PoisonQueue middleware.
func ToPoisoned(msg *message.Message, now time.Time) ports.PoisonedMessage {
	md := maps.Clone(map[string]string(msg.Metadata))
	first, err := time.Parse(time.RFC3339Nano, md[eventwire.KeyFirstFailedAt])
	if err != nil {
		first = now
	}
	return ports.PoisonedMessage{
		ID:            uuid.Must(uuid.NewV7()).String(),
		MessageID:     msg.UUID,
		Topic:         md[middleware.PoisonedTopicKey],
		Handler:       md[middleware.PoisonedHandlerKey],
		Reason:        md[middleware.ReasonForPoisonedKey],
		Payload:       msg.Payload,
		Metadata:      md,
		FirstFailedAt: first,
		PoisonedAt:    now,
	}
}

// markOrigin fills in the handler and topic of a message parked outside
// the Watermill router's own deliveries (the retry queue's, a topic
// replay's), where the PoisonQueue middleware finds none in the context.
func markOrigin(msg *message.Message) {
	ctx := msg.Context()
	if msg.Metadata.Get(middleware.PoisonedHandlerKey) == "" {
		msg.Metadata.Set(middleware.PoisonedHandlerKey, handlerName(ctx))
	}
	if msg.Metadata.Get(middleware.PoisonedTopicKey) == "" {
		msg.Metadata.Set(middleware.PoisonedTopicKey, topicName(ctx))
	}
}

// countingPublisher counts what it publishes to the poison topic.
type countingPublisher struct {
	message.Publisher
	poisoned *prometheus.CounterVec
}

func (p *countingPublisher) Publish(topic string, msgs ...*message.Message) error {
	for _, msg := range msgs {
		markOrigin(msg)
	}
	if err := p.Publisher.Publish(topic, msgs...); err != nil {
		return err
	}
	for _, msg := range msgs {
		p.poisoned.WithLabelValues(msg.Metadata.Get(middleware.PoisonedHandlerKey)).Inc()
	}
	return nil
}

// Close leaves the broker's publisher to its owner.
func (p *countingPublisher) Close() error { return nil }

// PoisonRepublisher is the ports.PoisonRepublisher of the requeue use case
// (app/command.RequeuePoisoned): it publishes a parked message on the topic
// it was consumed from, with its original UUID, payload and metadata minus
// the poison marks.
type PoisonRepublisher struct{ Publisher message.Publisher }

var _ ports.PoisonRepublisher = PoisonRepublisher{}

// Republish implements ports.PoisonRepublisher.
func (r PoisonRepublisher) Republish(_ context.Context, pm ports.PoisonedMessage) error {
	if pm.Topic == "" {
		return fmt.Errorf("poisoned message %s has no original topic", pm.ID)
	}
	// The message keeps a background context: on an in-process broker the
	// subscriber gets this very message, and ctx (an HTTP request's) ends
	// before the handler runs.
	msg := message.NewMessage(pm.MessageID, pm.Payload)
	for k, v := range pm.Metadata {
		switch k {
		case middleware.ReasonForPoisonedKey, middleware.PoisonedTopicKey, middleware.PoisonedHandlerKey,
			middleware.PoisonedSubscriberKey, eventwire.KeyFirstFailedAt:
		default:
			msg.Metadata.Set(k, v)
		}
	}
	return r.Publisher.Publish(pm.Topic, msg)
}
