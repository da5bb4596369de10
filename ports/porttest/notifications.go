package porttest

import (
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/ports"
)

// RunNotificationStore runs the ports.NotificationStore contract.
func RunNotificationStore(t *testing.T, newStore func(t *testing.T) ports.NotificationStore) {
	t.Run("SaveListIdempotent", func(t *testing.T) {
		s := newStore(t)
		ctx := testContext(t, visibilityTimeout)
		order := uuid.NewString()
		at := time.Now().UTC().Truncate(time.Microsecond)
		first := ports.Notification{ID: uuid.NewString(), OrderID: order, Kind: "confirmed", At: at}
		second := ports.Notification{ID: uuid.NewString(), OrderID: order, Kind: "cancelled", Reason: "out_of_stock: A", At: at.Add(time.Second)}
		other := ports.Notification{ID: uuid.NewString(), OrderID: uuid.NewString(), Kind: "shipped", At: at}
		for _, n := range []ports.Notification{first, second, first, other, second} {
			if err := s.Save(ctx, n); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.List(ctx, order)
		if err != nil {
			t.Fatal(err)
		}
		if want := []ports.Notification{first, second}; !reflect.DeepEqual(got, want) {
			t.Fatalf("got %+v\nwant %+v", got, want)
		}
		if got, err := s.List(ctx, uuid.NewString()); err != nil || len(got) != 0 {
			t.Fatalf("unknown order: %+v, %v", got, err)
		}
	})
}
