package webhook_test

import (
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orderflow/orderflow/adapters/webhook"
	"github.com/orderflow/orderflow/ports"
)

func TestNotifySignsAndRetries(t *testing.T) {
	const secret = "s3cret"
	var calls atomic.Int32
	got := make(chan ports.Notification, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !hmac.Equal([]byte(r.Header.Get(webhook.SignatureHeader)), []byte(webhook.Sign(secret, body))) {
			t.Errorf("bad signature %q", r.Header.Get(webhook.SignatureHeader))
		}
		if calls.Add(1) < 3 { // the receiver fails twice
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var n ports.Notification
		if err := json.Unmarshal(body, &n); err != nil {
			t.Error(err)
		}
		got <- n
	}))
	defer srv.Close()
	n, err := webhook.New(webhook.Config{URL: srv.URL, Secret: secret, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	want := ports.Notification{ID: "e1", OrderID: "o1", Kind: "cancelled", Reason: "payment_timeout", At: time.Now().UTC().Truncate(time.Second)}
	if err := n.Notify(t.Context(), want); err != nil {
		t.Fatal(err)
	}
	if g := <-got; g != want || calls.Load() != 3 {
		t.Fatalf("got %+v after %d calls", g, calls.Load())
	}
}

func TestNotifyGivesUp(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	n, _ := webhook.New(webhook.Config{URL: srv.URL, Secret: "x", Attempts: 3, Backoff: time.Millisecond})
	if err := n.Notify(t.Context(), ports.Notification{ID: "e"}); err == nil || calls.Load() != 3 {
		t.Fatalf("err %v after %d calls, want an error after 3", err, calls.Load())
	}
}
