package router

import (
	"context"

	"github.com/ThreeDotsLabs/watermill/message"
)

type routeKey struct{}

type routeInfo struct{ handler, topic string }

// withRoute marks ctx as the handling of a message by handler, consumed
// from topic, for the deliveries the Watermill router does not make itself
// (the retry queue's, a topic replay's): Watermill keeps its own handler
// name and topic in the context under keys only it can set.
func withRoute(ctx context.Context, handler, topic string) context.Context {
	return context.WithValue(ctx, routeKey{}, routeInfo{handler: handler, topic: topic})
}

// handlerName is the name of the handler a message's context belongs to:
// Watermill's, or the one withRoute set.
func handlerName(ctx context.Context) string {
	if h := message.HandlerNameFromCtx(ctx); h != "" {
		return h
	}
	r, _ := ctx.Value(routeKey{}).(routeInfo)
	return r.handler
}

// topicName is the topic the message was consumed from, as handlerName.
func topicName(ctx context.Context) string {
	if t := message.SubscribeTopicFromCtx(ctx); t != "" {
		return t
	}
	r, _ := ctx.Value(routeKey{}).(routeInfo)
	return r.topic
}
