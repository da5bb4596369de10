package projection_test

import (
	"testing"

	"github.com/orderflow/orderflow/app/projection"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/internal/telemetry/telemetrytest"
	"github.com/orderflow/orderflow/ports"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Each batch of a rebuild has a span with its events and the rows they
// changed, and each write to the shadow table one with its rows: the
// batches' events add up to the events read, and the writes' rows to the
// orders, each inserted once and changed at most as often as it was
// written before.
func TestRebuildTracesEachBatchAndWrite(t *testing.T) {
	s := storetest.SQLite(t)
	events := interleaved(t, 300, 20, 3)
	appendInterleaved(t, s.Events, events)
	sr := telemetrytest.RecordSpans(t)

	res, err := projection.OrderSummaryRebuild{Events: s.Events, Live: s.Orders, Shadow: s.Shadow,
		BatchSize: 50, FlushRows: 10}.Run(t.Context(), ports.Position{})
	if err != nil {
		t.Fatal(err)
	}
	attr := func(span sdktrace.ReadOnlySpan, key string) (int64, bool) {
		for _, kv := range span.Attributes() {
			if kv.Key == attribute.Key(key) {
				return kv.Value.AsInt64(), true
			}
		}
		return 0, false
	}
	var batches, read, changedRows, writes, added int64
	for _, span := range sr.Ended() {
		switch span.Name() {
		case "projection.rebuild batch":
			batches++
			n, ok := attr(span, "orderflow.rebuild.events")
			rows, okRows := attr(span, "orderflow.rebuild.rows")
			if !ok || !okRows || rows > n {
				t.Errorf("batch span %v: events %d, rows %d", span.Attributes(), n, rows)
			}
			read += n
			changedRows += rows
		case "projection.rebuild write":
			writes++
			n, ok := attr(span, "orderflow.rebuild.rows_added")
			if !ok {
				t.Errorf("write span without rows added: %v", span.Attributes())
			}
			added += n
		}
	}
	if batches != 300/50 || read != res.Events {
		t.Errorf("%d batch spans of %d events in all, want %d of %d", batches, read, 300/50, res.Events)
	}
	if orders := int64(len(orderIDs(events))); writes < 2 || added != orders || changedRows < orders {
		t.Errorf("%d write spans adding %d rows, %d rows changed by the batches; want several writes adding each of the %d orders once",
			writes, added, changedRows, orders)
	}
}
