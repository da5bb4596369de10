package eventwire_test

import (
	"reflect"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/internal/eventwire"
)

// FuzzFromMessage: decoding a message's envelope never panics, refuses
// only with apperr.Invalid, and what it accepts survives ToMessage and
// FromMessage unchanged.
func FuzzFromMessage(f *testing.F) {
	f.Add("0193a1b2-0000-7000-8000-000000000001", []byte(`{"a":1}`), "order.placed.v1", "order",
		"0193a1b2-0000-7000-8000-000000000002", "1", "10/3", "2026-11-27T10:00:00.123456Z", "2026-11-27T10:00:01Z")
	f.Add("x", []byte{}, "", "", "", "", "", "", "")
	f.Add("x", []byte("\xff"), "t", "order", "id", "0", "1/1", "2026-11-27T10:00:00Z", "2026-11-27T10:00:00Z")
	f.Add("x", []byte("{}"), "t", "order", "id", "9223372036854775807", "18446744073709551615/0", "2026-11-27T10:00:00+02:00", "bad")
	f.Add("x", []byte("{}"), "t", "order", "id", "1", "1/2/3", "2026-11-27T10:00:00Z", "2026-11-27T10:00:00Z")
	f.Fuzz(func(t *testing.T, id string, payload []byte, typ, streamType, streamID, version, position, occurred, recorded string) {
		msg := message.NewMessage(id, payload)
		for k, v := range map[string]string{eventwire.KeyEventType: typ, eventwire.KeyStreamType: streamType,
			eventwire.KeyStreamID: streamID, eventwire.KeyVersion: version, eventwire.KeyPosition: position,
			eventwire.KeyOccurredAt: occurred, eventwire.KeyRecordedAt: recorded} {
			msg.Metadata.Set(k, v)
		}
		e, err := eventwire.FromMessage(msg)
		if err != nil {
			if !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("FromMessage error is not Invalid: %v", err)
			}
			return
		}
		again, err := eventwire.FromMessage(eventwire.ToMessage(e))
		if err != nil {
			t.Fatalf("re-encoded event does not decode: %v", err)
		}
		if again.Type != e.Type || again.Stream != e.Stream || again.Version != e.Version || again.Position != e.Position ||
			!again.Metadata.OccurredAt.Equal(e.Metadata.OccurredAt) || !again.RecordedAt.Equal(e.RecordedAt) ||
			!reflect.DeepEqual(again.Data, e.Data) {
			t.Fatalf("round trip changed the event:\n%+v\n%+v", e, again)
		}
	})
}
