// Package appendmany holds what every event store's AppendMany shares: the
// checks on its input and the order streams are written in.
package appendmany

import (
	"sort"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/ports"
)

// Prepare rejects an empty call or a stream named twice (apperr.Invalid) and
// returns the parts sorted by stream type then id: writing streams in one
// order everywhere keeps concurrent multi-stream writers from deadlocking.
func Prepare(appends []ports.StreamAppend) ([]ports.StreamAppend, error) {
	if len(appends) == 0 {
		return nil, apperr.New(apperr.Invalid, "append many: no streams")
	}
	sorted := append([]ports.StreamAppend(nil), appends...)
	sort.Slice(sorted, func(i, j int) bool {
		a, b := sorted[i].Stream, sorted[j].Stream
		return a.Type < b.Type || (a.Type == b.Type && a.ID < b.ID)
	})
	for i := 1; i < len(sorted); i++ {
		if sorted[i].Stream == sorted[i-1].Stream {
			return nil, apperr.New(apperr.Invalid, "append many: stream %s named twice", sorted[i].Stream)
		}
	}
	return sorted, nil
}

// AnyVersionOnly reports whether no part expects a particular version, so a
// lost race may simply be retried.
func AnyVersionOnly(appends []ports.StreamAppend) bool {
	for _, a := range appends {
		if a.ExpectedVersion != ports.AnyVersion {
			return false
		}
	}
	return true
}
