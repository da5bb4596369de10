package testenv

import (
	"net"
	"testing"
)

// ClosedAddr returns a local TCP address ("127.0.0.1:port") on which nothing
// listens: a connection to it is refused at once, as to a server that is down.
// The port was free a moment ago; another process may take it, which tests
// on one machine accept.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}
