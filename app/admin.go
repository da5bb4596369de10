package app

import (
	"log/slog"

	"github.com/orderflow/orderflow/app/command"
	"github.com/orderflow/orderflow/app/decorator"
	"github.com/orderflow/orderflow/app/projection"
	"github.com/orderflow/orderflow/app/query"
	"github.com/orderflow/orderflow/ports"
)

// Admin groups the operators' use cases: the poison queue, rebuilding a
// projection, replaying a topic and resuming parked checkouts, each decorated with logging and metrics
// like Application's. The service serves the poison queue over HTTP; the
// CLI builds an Admin from the stores it opens. A use case whose ports are
// not given is nil.
type Admin struct {
	ListPoisoned      decorator.Handler[query.ListPoisoned, query.PoisonPage]
	GetPoisoned       decorator.Handler[query.GetPoisoned, ports.PoisonedMessage]
	RequeuePoisoned   decorator.Handler[command.RequeuePoisoned, ports.PoisonedMessage]
	PurgePoisoned     decorator.Handler[command.PurgePoisoned, command.Purged]
	RebuildProjection decorator.Handler[command.RebuildProjection, projection.RebuildResult]
	ReplayTopic       decorator.Handler[command.ReplayTopic, ports.ReplayStats]
	ListCheckouts     decorator.Handler[query.ListCheckouts, query.CheckoutPage]
	ResumeCheckouts   decorator.Handler[command.ResumeCheckouts, command.Resumed]
}

// AdminDeps are the ports of the admin use cases; each is optional.
type AdminDeps struct {
	// Poison enables ListPoisoned, GetPoisoned and PurgePoisoned; with
	// Republisher too, RequeuePoisoned.
	Poison      ports.PoisonStore
	Republisher ports.PoisonRepublisher
	// Events, Orders and Shadow enable RebuildProjection; Checkpoints, when
	// set, lets it count the events (progress with an ETA).
	Events      ports.EventStore
	Orders      ports.OrderSummaryStore
	Shadow      ports.ShadowOrderSummary
	Checkpoints ports.CheckpointStore
	// Replayer enables ReplayTopic.
	Replayer ports.TopicReplayer
	// Checkouts enables ListCheckouts and ResumeCheckouts (Clock: default
	// the system's).
	Checkouts ports.CheckoutStore
	Clock     ports.Clock
	Logger    *slog.Logger
	Metrics   decorator.MetricsClient
}

// NewAdmin wires the admin use cases whose ports are given.
func NewAdmin(d AdminDeps) Admin {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Metrics == nil {
		d.Metrics = decorator.NopMetrics{}
	}
	var a Admin
	if d.Poison != nil {
		a.ListPoisoned = decorator.Apply(query.NewListPoisonedHandler(d.Poison), d.Logger, d.Metrics)
		a.GetPoisoned = decorator.Apply(query.NewGetPoisonedHandler(d.Poison), d.Logger, d.Metrics)
		a.PurgePoisoned = decorator.Apply(command.NewPurgePoisonedHandler(d.Poison), d.Logger, d.Metrics)
		if d.Republisher != nil {
			a.RequeuePoisoned = decorator.Apply(command.NewRequeuePoisonedHandler(d.Poison, d.Republisher), d.Logger, d.Metrics)
		}
	}
	if d.Events != nil && d.Orders != nil && d.Shadow != nil {
		a.RebuildProjection = decorator.Apply(
			command.NewRebuildProjectionHandler(d.Events, d.Orders, d.Shadow, d.Checkpoints), d.Logger, d.Metrics)
	}
	if d.Replayer != nil {
		a.ReplayTopic = decorator.Apply(command.NewReplayTopicHandler(d.Replayer), d.Logger, d.Metrics)
	}
	if d.Checkouts != nil {
		if d.Clock == nil {
			d.Clock = ports.SystemClock{}
		}
		a.ListCheckouts = decorator.Apply(query.NewListCheckoutsHandler(d.Checkouts), d.Logger, d.Metrics)
		a.ResumeCheckouts = decorator.Apply(command.NewResumeCheckoutsHandler(d.Checkouts, d.Clock), d.Logger, d.Metrics)
	}
	return a
}
