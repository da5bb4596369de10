package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/ports"
)

// PoisonStore is the poison queue in table poison_messages.
type PoisonStore struct{ db DB }

// NewPoisonStore returns the poison queue on db.
func NewPoisonStore(db DB) *PoisonStore { return &PoisonStore{db: db} }

func unavailable(err error, format string, args ...any) error {
	return apperr.Wrap(apperr.Unavailable, err, format, args...)
}

const poisonColumns = `id, message_id, topic, handler, reason, payload, metadata, first_failed_at, poisoned_at`

// Add implements ports.PoisonStore; a message already there is kept.
// Its text is stored as storableText has it: the reason may quote the very
// data that got the message parked (a NUL the database refused), and the
// queue must hold it all the same.
func (s *PoisonStore) Add(ctx context.Context, m ports.PoisonedMessage) error {
	md := make(map[string]string, len(m.Metadata))
	for k, v := range m.Metadata {
		md[storableText(k)] = storableText(v)
	}
	mdJSON, err := json.Marshal(md)
	if err != nil {
		return fmt.Errorf("poison %s: %w", m.ID, err)
	}
	payload := m.Payload
	if payload == nil {
		payload = []byte{}
	}
	d := s.db.Dialect
	_, err = s.db.Exec(ctx, `INSERT INTO poison_messages (`+poisonColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		m.ID, storableText(m.MessageID), storableText(m.Topic), storableText(m.Handler),
		storableText(m.Reason), payload, d.json(mdJSON),
		d.time(m.FirstFailedAt), d.time(m.PoisonedAt))
	if err != nil {
		return unavailable(err, "add poisoned message")
	}
	return nil
}

// storableText is s as every database here can store it in a text column:
// invalid UTF-8 becomes U+FFFD and a NUL (PostgreSQL text refuses it) the
// four characters \x00.
func storableText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", `\x00`)
}

// List implements ports.PoisonStore.
func (s *PoisonStore) List(ctx context.Context, afterID string, limit int) ([]ports.PoisonedMessage, error) {
	rows, err := s.db.Query(ctx, `SELECT `+poisonColumns+` FROM poison_messages
		WHERE id > ? ORDER BY id LIMIT ?`, afterID, limit)
	if err != nil {
		return nil, unavailable(err, "list poisoned messages")
	}
	defer rows.Close()
	var out []ports.PoisonedMessage
	for rows.Next() {
		m, err := scanPoisoned(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(err, "list poisoned messages")
	}
	return out, nil
}

// Get implements ports.PoisonStore.
func (s *PoisonStore) Get(ctx context.Context, id string) (ports.PoisonedMessage, error) {
	m, err := scanPoisoned(s.db.QueryRow(ctx, `SELECT `+poisonColumns+` FROM poison_messages WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("poisoned message %s: %w", id, ports.ErrPoisonNotFound)
	}
	return m, err
}

// Delete implements ports.PoisonStore.
func (s *PoisonStore) Delete(ctx context.Context, id string) error {
	n, err := s.db.Exec(ctx, `DELETE FROM poison_messages WHERE id = ?`, id)
	if err != nil {
		return unavailable(err, "delete poisoned message")
	}
	if n == 0 {
		return fmt.Errorf("poisoned message %s: %w", id, ports.ErrPoisonNotFound)
	}
	return nil
}

func scanPoisoned(row Row) (ports.PoisonedMessage, error) {
	var m ports.PoisonedMessage
	var md []byte
	err := row.Scan(&m.ID, &m.MessageID, &m.Topic, &m.Handler, &m.Reason, &m.Payload, &md,
		ScanTime(&m.FirstFailedAt), ScanTime(&m.PoisonedAt))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(md, &m.Metadata); err != nil {
		return m, fmt.Errorf("poisoned message %s: metadata: %w", m.ID, err)
	}
	return m, nil
}
