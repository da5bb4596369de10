package wire_test

import (
	"io"
	"testing"

	"github.com/orderflow/orderflow/app/wire"
)

func TestNeedPanicsOnNil(t *testing.T) {
	var w io.Writer
	defer func() {
		if r := recover(); r != "query: nil writer" {
			t.Fatalf("recovered %v, want the message", r)
		}
	}()
	wire.Need(w, "query: nil writer")
	t.Fatal("no panic")
}

func TestNeedReturnsTheDependency(t *testing.T) {
	if got := wire.Need(io.Discard, "nil"); got != io.Discard {
		t.Fatalf("got %v", got)
	}
}
