package sqlite

import (
	"path/filepath"
	"testing"
)

// Writers are serialised by BEGIN IMMEDIATE, so Append never reaches the
// unique (stream, version) index with a stale version; the classifier that
// would turn that into a ConcurrencyError is tested on its own.
func TestIsUniqueViolation(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "orderflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	insert := func(eventID string, version int) error {
		_, err := db.ExecContext(t.Context(), `
			INSERT INTO events (stream_type, stream_id, version, event_id, event_type, data,
			                    correlation_id, causation_id, occurred_at, recorded_at)
			VALUES ('order', 's1', ?, ?, 't', '{}', '', '', '', '')`, version, eventID)
		return err
	}
	if err := insert("e1", 1); err != nil {
		t.Fatal(err)
	}
	const versionIndex = "events.stream_type, events.stream_id, events.version"
	if err := insert("e2", 1); !isUniqueViolation(err, versionIndex) {
		t.Errorf("duplicate version: err = %v, not classified as a version clash", err)
	}
	if err := insert("e1", 2); err == nil || isUniqueViolation(err, versionIndex) {
		t.Errorf("duplicate event id: err = %v, want an error that is not a version clash", err)
	}
}
