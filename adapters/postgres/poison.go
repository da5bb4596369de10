package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/ports"
)

var _ ports.PoisonStore = (*PoisonStore)(nil)

// PoisonStore is the poison queue in table poison_messages.
type PoisonStore struct {
	pool *pgxpool.Pool
}

// NewPoisonStore returns a store on pool, which must be migrated by
// migrations/postgres. It panics on a nil pool.
func NewPoisonStore(pool *pgxpool.Pool) *PoisonStore {
	if pool == nil {
		panic("postgres.NewPoisonStore: nil pool")
	}
	return &PoisonStore{pool: pool}
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
	_, err = s.pool.Exec(ctx, `INSERT INTO poison_messages (`+poisonColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
		m.ID, m.MessageID, m.Topic, m.Handler, m.Reason, payload, md, m.FirstFailedAt, m.PoisonedAt)
	if err != nil {
		return unavailable(err, "add poisoned message")
	}
	return nil
}

// List implements ports.PoisonStore.
func (s *PoisonStore) List(ctx context.Context, afterID string, limit int) ([]ports.PoisonedMessage, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+poisonColumns+` FROM poison_messages
		WHERE id > $1 ORDER BY id LIMIT $2`, afterID, limit)
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
	m, err := scanPoisoned(s.pool.QueryRow(ctx, `SELECT `+poisonColumns+` FROM poison_messages WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return m, fmt.Errorf("poisoned message %s: %w", id, ports.ErrPoisonNotFound)
	}
	return m, err
}

// Delete implements ports.PoisonStore.
func (s *PoisonStore) Delete(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM poison_messages WHERE id = $1`, id)
	if err != nil {
		return unavailable(err, "delete poisoned message")
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("poisoned message %s: %w", id, ports.ErrPoisonNotFound)
	}
	return nil
}

func scanPoisoned(row pgx.Row) (ports.PoisonedMessage, error) {
	var m ports.PoisonedMessage
	var md []byte
	err := row.Scan(&m.ID, &m.MessageID, &m.Topic, &m.Handler, &m.Reason, &m.Payload, &md, &m.FirstFailedAt, &m.PoisonedAt)
	if err != nil {
		return m, err
	}
	m.FirstFailedAt, m.PoisonedAt = m.FirstFailedAt.UTC(), m.PoisonedAt.UTC()
	if err := json.Unmarshal(md, &m.Metadata); err != nil {
		return m, fmt.Errorf("poisoned message %s: metadata: %w", m.ID, err)
	}
	return m, nil
}
