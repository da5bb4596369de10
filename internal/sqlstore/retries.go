package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/ports"
)

var _ ports.RetryStore = (*RetryStore)(nil)

// RetryStore is the router's retry queue in table retry_messages. Due
// times and claims follow the dialect's clock (the server's on Postgres),
// like the inbox's expiries: a claim is due_at moved to the end of its
// lease, under a new token.
type RetryStore struct{ db DB }

// NewRetryStore returns the retry queue on db.
func NewRetryStore(db DB) *RetryStore { return &RetryStore{db: db} }

const retryColumns = `id, message_id, topic, handler, payload, metadata, attempts, last_error, first_failed_at, token`

// Add implements ports.RetryStore. Its text is stored as storableText has
// it (the error may quote the data that made the handler fail).
func (s *RetryStore) Add(ctx context.Context, m ports.RetryingMessage, delay time.Duration) error {
	md := make(map[string]string, len(m.Metadata))
	for k, v := range m.Metadata {
		md[storableText(k)] = storableText(v)
	}
	mdJSON, err := json.Marshal(md)
	if err != nil {
		return fmt.Errorf("retry %s: %w", m.ID, err)
	}
	payload := m.Payload
	if payload == nil {
		payload = []byte{}
	}
	d := s.db.Dialect
	_, err = s.db.Exec(ctx, `INSERT INTO retry_messages
		(id, message_id, topic, handler, payload, metadata, attempts, last_error, first_failed_at, due_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, `+d.after+`)
		ON CONFLICT (handler, message_id) DO NOTHING`,
		m.ID, storableText(m.MessageID), storableText(m.Topic), storableText(m.Handler), payload,
		d.json(mdJSON), m.Attempts, storableText(m.LastError), d.time(m.FirstFailedAt), d.expiry(delay))
	if err != nil {
		return unavailable(err, "set aside message %s for %s", m.MessageID, m.Handler)
	}
	return nil
}

// Claim implements ports.RetryStore in one statement: the due entries are
// picked with SKIP LOCKED on Postgres (SQLite serialises writers) and moved
// to the end of their lease under the new token.
func (s *RetryStore) Claim(ctx context.Context, handler string, limit int, lease time.Duration) ([]ports.RetryingMessage, error) {
	d := s.db.Dialect
	token := uuid.NewString()
	rows, err := s.db.Query(ctx, `UPDATE retry_messages SET token = ?, due_at = `+d.after+`
		WHERE id IN (SELECT id FROM retry_messages WHERE handler = ? AND due_at <= `+d.now+`
			ORDER BY due_at LIMIT ?`+d.skipLocked+`)
		RETURNING `+retryColumns, token, d.expiry(lease), handler, limit)
	if err != nil {
		return nil, unavailable(err, "claim retries of %s", handler)
	}
	defer rows.Close()
	var out []ports.RetryingMessage
	for rows.Next() {
		var m ports.RetryingMessage
		var md []byte
		if err := rows.Scan(&m.ID, &m.MessageID, &m.Topic, &m.Handler, &m.Payload, &md, &m.Attempts,
			&m.LastError, ScanTime(&m.FirstFailedAt), &m.Token); err != nil {
			return nil, unavailable(err, "claim retries of %s", handler)
		}
		if err := json.Unmarshal(md, &m.Metadata); err != nil {
			return nil, fmt.Errorf("retry %s: metadata: %w", m.ID, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(err, "claim retries of %s", handler)
	}
	return out, nil
}

// Reschedule implements ports.RetryStore.
func (s *RetryStore) Reschedule(ctx context.Context, id, token string, attempts int, lastErr string, delay time.Duration) error {
	d := s.db.Dialect
	n, err := s.db.Exec(ctx, `UPDATE retry_messages SET attempts = ?, last_error = ?, token = '', due_at = `+d.after+`
		WHERE id = ? AND token = ?`, attempts, storableText(lastErr), d.expiry(delay), id, token)
	if err != nil {
		return unavailable(err, "reschedule retry %s", id)
	}
	if n == 0 {
		return fmt.Errorf("reschedule retry %s: %w", id, ports.ErrRetryClaimLost)
	}
	return nil
}

// Delete implements ports.RetryStore.
func (s *RetryStore) Delete(ctx context.Context, id, token string) error {
	n, err := s.db.Exec(ctx, `DELETE FROM retry_messages WHERE id = ? AND token = ?`, id, token)
	if err != nil {
		return unavailable(err, "delete retry %s", id)
	}
	if n == 0 {
		return fmt.Errorf("delete retry %s: %w", id, ports.ErrRetryClaimLost)
	}
	return nil
}

// Pending implements ports.RetryStore.
func (s *RetryStore) Pending(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.Query(ctx, `SELECT handler, count(*) FROM retry_messages GROUP BY handler`)
	if err != nil {
		return nil, unavailable(err, "count retries")
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var h string
		var n int
		if err := rows.Scan(&h, &n); err != nil {
			return nil, unavailable(err, "count retries")
		}
		out[h] = n
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(err, "count retries")
	}
	return out, nil
}
