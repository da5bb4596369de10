// Package webhook delivers notifications as signed HTTP POSTs.
//
// The body is the notification as JSON. The header Orderflow-Signature is
// "sha256=" + hex(HMAC-SHA256(secret, body)): the receiver recomputes it
// over the raw body with the shared secret and compares in constant time.
// Orderflow-Notification-Id repeats the notification id, the idempotency
// key: deliveries are at least once.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/orderflow/orderflow/ports"
)

// SignatureHeader carries the body's HMAC-SHA256.
const SignatureHeader = "Orderflow-Signature"

// Config configures a Notifier.
type Config struct {
	URL    string
	Secret string
	// Attempts is how many POSTs one Notify makes at most. Default 5.
	Attempts int
	// Backoff is the pause after the first failure, doubled after each
	// further one. Default 200ms.
	Backoff time.Duration
	// Client defaults to a client with a 10s timeout.
	Client *http.Client
}

// Notifier POSTs notifications to a webhook.
type Notifier struct{ cfg Config }

var _ ports.Notifier = (*Notifier)(nil)

// New validates cfg.
func New(cfg Config) (*Notifier, error) {
	if cfg.URL == "" || cfg.Secret == "" {
		return nil, errors.New("webhook: URL and secret are required")
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 5
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 200 * time.Millisecond
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	return &Notifier{cfg: cfg}, nil
}

// Sign returns the signature header value of body.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Notify implements ports.Notifier: a 2xx answer is success; anything else,
// or no answer, is retried with exponential backoff up to Attempts, then
// returned as an error (the caller retries later).
func (n *Notifier) Notify(ctx context.Context, note ports.Notification) error {
	body, err := json.Marshal(note)
	if err != nil {
		return fmt.Errorf("webhook: encode: %w", err)
	}
	pause := n.cfg.Backoff
	var last error
	for attempt := 1; attempt <= n.cfg.Attempts; attempt++ {
		if last = n.post(ctx, note.ID, body); last == nil {
			return nil
		}
		if attempt == n.cfg.Attempts {
			break
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(last, ctx.Err())
		case <-t.C:
		}
		pause *= 2
	}
	return fmt.Errorf("webhook: %d attempts failed: %w", n.cfg.Attempts, last)
}

func (n *Notifier) post(ctx context.Context, id string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, Sign(n.cfg.Secret, body))
	req.Header.Set("Orderflow-Notification-Id", id)
	res, err := n.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	if err := res.Body.Close(); err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %s", n.cfg.URL, res.Status)
	}
	return nil
}
