package testenv

import (
	"sync"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
)

// Logger is a Watermill logger that writes Info and Error lines to the
// test's log, which `go test` prints only when the test fails (or with -v):
// a broker that stalls in a long suite leaves its reconnects and errors
// beside the failure instead of nowhere. Call it before opening what logs to
// it: lines that come after the test's cleanups (a background goroutine
// still stopping) are dropped, since t.Log would panic then.
func Logger(t testing.TB) watermill.LoggerAdapter {
	s := &testLogSink{t: t}
	t.Cleanup(func() { s.mu.Lock(); s.ended = true; s.mu.Unlock() })
	return testLogger{sink: s}
}

type testLogSink struct {
	t     testing.TB
	mu    sync.Mutex
	ended bool
}

func (s *testLogSink) log(args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ended {
		s.t.Log(args...)
	}
}

type testLogger struct {
	sink   *testLogSink
	fields watermill.LogFields
}

func (l testLogger) Error(msg string, err error, fields watermill.LogFields) {
	l.sink.log("ERROR", msg, err, l.fields.Add(fields))
}

func (l testLogger) Info(msg string, fields watermill.LogFields) {
	l.sink.log("INFO", msg, l.fields.Add(fields))
}

func (testLogger) Debug(string, watermill.LogFields) {}
func (testLogger) Trace(string, watermill.LogFields) {}

func (l testLogger) With(fields watermill.LogFields) watermill.LoggerAdapter {
	return testLogger{sink: l.sink, fields: l.fields.Add(fields)}
}
