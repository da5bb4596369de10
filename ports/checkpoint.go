package ports

import (
	"context"
	"time"
)

// ProjectionLag is how far a projection is behind the event store.
type ProjectionLag struct {
	// Events is the number of stored events after the checkpoint.
	Events int64
	// Oldest is when the first of them was recorded; zero when Events is 0.
	Oldest time.Time
}

// CheckpointStore keeps each projection's checkpoint: the Position of the
// last event it applied, in the store-wide order, in the same database as
// the events.
//
// Checkpoint returns the zero Position for a projection without one.
// SaveCheckpoint only moves a checkpoint forward: saving a Position before
// the stored one changes nothing and is no error. Lag counts the stored
// events after a projection's checkpoint (all of them without one).
type CheckpointStore interface {
	Checkpoint(ctx context.Context, projection string) (Position, error)
	SaveCheckpoint(ctx context.Context, projection string, pos Position) error
	Lag(ctx context.Context, projection string) (ProjectionLag, error)
}
