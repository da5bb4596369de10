// Package wire holds what the use cases' constructors share: a use case is
// built once at start-up, and a missing port is a wiring bug that should
// stop the process there, not on the first request.
package wire

// Need returns dep, and panics with msg (e.g. "query: nil poison store")
// when it is nil.
func Need[T comparable](dep T, msg string) T {
	var zero T
	if dep == zero {
		panic(msg)
	}
	return dep
}
