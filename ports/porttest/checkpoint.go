package porttest

import (
	"testing"

	"github.com/orderflow/orderflow/ports"
)

// RunCheckpointStore runs the ports.CheckpointStore contract. newStores
// returns, per subtest, an empty checkpoint store and the empty event store
// of the same database, whose events Lag measures.
func RunCheckpointStore(t *testing.T, newStores func(t *testing.T) (ports.CheckpointStore, ports.EventStore)) {
	t.Run("CheckpointsAndLag", func(t *testing.T) {
		cps, es := newStores(t)
		ctx := testContext(t, visibilityTimeout)
		if pos, err := cps.Checkpoint(ctx, "p"); err != nil || pos != (ports.Position{}) {
			t.Fatalf("checkpoint of a new projection: %v, %v; want the zero position", pos, err)
		}
		if _, err := es.Append(ctx, newStream(), ports.NoStream, newEvents(3)); err != nil {
			t.Fatal(err)
		}
		var all []ports.RecordedEvent
		waitFor(t, visibilityTimeout, "3 events visible", func() (bool, error) {
			var err error
			all, err = es.ReadAll(ctx, ports.Position{}, 10)
			return len(all) == 3, err
		})
		checkLag := func(want int64, oldest int) {
			t.Helper()
			lag, err := cps.Lag(ctx, "p")
			if err != nil {
				t.Fatal(err)
			}
			wantOldest := ports.ProjectionLag{Events: want}
			if oldest >= 0 {
				wantOldest.Oldest = all[oldest].RecordedAt
			}
			if lag.Events != want || !lag.Oldest.Equal(wantOldest.Oldest) {
				t.Fatalf("lag %+v, want %+v", lag, wantOldest)
			}
		}
		checkLag(3, 0)
		save := func(name string, pos ports.Position) {
			t.Helper()
			if err := cps.SaveCheckpoint(ctx, name, pos); err != nil {
				t.Fatal(err)
			}
		}
		save("p", all[1].Position)
		if pos, err := cps.Checkpoint(ctx, "p"); err != nil || pos != all[1].Position {
			t.Fatalf("checkpoint %v, %v; want %v", pos, err, all[1].Position)
		}
		checkLag(1, 2)
		save("p", all[0].Position) // backwards: ignored
		if pos, _ := cps.Checkpoint(ctx, "p"); pos != all[1].Position {
			t.Fatalf("checkpoint moved back to %v", pos)
		}
		save("p", all[2].Position)
		checkLag(0, -1)
		if pos, _ := cps.Checkpoint(ctx, "other"); pos != (ports.Position{}) {
			t.Fatalf("projections share checkpoints: other is at %v", pos)
		}
	})
}
