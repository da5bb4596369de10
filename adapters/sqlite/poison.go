package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/orderflow/orderflow/ports"
)

var _ ports.PoisonStore = (*PoisonStore)(nil)

// PoisonStore is the poison queue in table poison_messages.
type PoisonStore struct {
	db *sql.DB
}

// NewPoisonStore returns a store on db, opened by Open. It panics on a nil db.
func NewPoisonStore(db *sql.DB) *PoisonStore {
	if db == nil {
		panic("sqlite.NewPoisonStore: nil db")
	}
	return &PoisonStore{db: db}
}

const poisonColumns = `id, message_id, topic, handler, reason, payload, metadata, first_failed_at, poisoned_at`

// Add implements ports.PoisonStore.
func (s *PoisonStore) Add(ctx context.Context, m ports.PoisonedMessage) error {
	md, err := json.Marshal(m.Metadata)
	if err != nil {
		return fmt.Errorf("poison %s: %w", m.ID, err)
	}
	payload := m.Payload
	if payload == nil {
		payload = []byte{}
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO poison_messages (`+poisonColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		m.ID, m.MessageID, m.Topic, m.Handler, m.Reason, payload, string(md),
		encodeTime(m.FirstFailedAt), encodeTime(m.PoisonedAt))
	if err != nil {
		return unavailable(err, "add poisoned message")
	}
	return nil
}

// List implements ports.PoisonStore.
func (s *PoisonStore) List(ctx context.Context, afterID string, limit int) ([]ports.PoisonedMessage, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+poisonColumns+` FROM poison_messages
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
	m, err := scanPoisoned(s.db.QueryRowContext(ctx, `SELECT `+poisonColumns+` FROM poison_messages WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("poisoned message %s: %w", id, ports.ErrPoisonNotFound)
	}
	return m, err
}

// Delete implements ports.PoisonStore.
func (s *PoisonStore) Delete(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM poison_messages WHERE id = ?`, id)
	if err != nil {
		return unavailable(err, "delete poisoned message")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return unavailable(err, "delete poisoned message")
	}
	if n == 0 {
		return fmt.Errorf("poisoned message %s: %w", id, ports.ErrPoisonNotFound)
	}
	return nil
}

type scanner interface{ Scan(dest ...any) error }

func scanPoisoned(row scanner) (ports.PoisonedMessage, error) {
	var m ports.PoisonedMessage
	var md, first, poisoned string
	if err := row.Scan(&m.ID, &m.MessageID, &m.Topic, &m.Handler, &m.Reason, &m.Payload, &md, &first, &poisoned); err != nil {
		return m, err
	}
	var err error
	if m.FirstFailedAt, err = decodeTime(first); err != nil {
		return m, err
	}
	if m.PoisonedAt, err = decodeTime(poisoned); err != nil {
		return m, err
	}
	if err := json.Unmarshal([]byte(md), &m.Metadata); err != nil {
		return m, fmt.Errorf("poisoned message %s: metadata: %w", m.ID, err)
	}
	return m, nil
}
