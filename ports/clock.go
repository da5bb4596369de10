package ports

import "time"

// Clock is the only source of "now" for the core, so tests can pin time.
type Clock interface {
	Now() time.Time
}

// SystemClock reads the machine's clock in UTC.
type SystemClock struct{}

func (SystemClock) Now() time.Time { return time.Now().UTC() }
